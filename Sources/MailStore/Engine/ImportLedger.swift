/// What a mailbox held when an import began, by content, so that an import run again after an
/// interruption skips what the interrupted run already stored.
///
/// A message's import key is the SHA-256 of its stored bytes, which the store computes anyway
/// to store each content once. The ledger counts the mailbox's messages per content, and each
/// message of the source that has one of those contents takes one count and is skipped. A
/// source that holds the same bytes twice therefore ends with two copies, however often it is
/// imported, and one interrupted after any batch and run again ends with exactly the source's
/// messages. A message that reached the mailbox some other way with identical bytes counts as
/// imported too.
public struct ImportLedger: Sendable {
    private var held: [ContentID: Int]

    init(held: [ContentID: Int]) { self.held = held }

    /// True when nothing is left to skip: every further message is new, and no lookup is needed.
    public var isEmpty: Bool { held.isEmpty }

    /// Takes one of the mailbox's messages with content `id` off the ledger; false if none is left.
    mutating func take(_ id: ContentID) -> Bool {
        guard let n = held[id] else { return false }
        held[id] = n > 1 ? n - 1 : nil
        return true
    }
}

extension StoreReader {
    /// The mailbox's messages counted by content, for an import into it. Reads the message
    /// records only, not their content.
    public func importLedger(for mailbox: MailboxID) throws -> ImportLedger {
        var held: [ContentID: Int] = [:]
        try forEachMessage(in: mailbox) { held[$0.content, default: 0] += 1; return true }
        return ImportLedger(held: held)
    }

    /// Whether `message` is one of the messages `ledger` still counts; if so, it is taken off
    /// the ledger, and the import skips it.
    public func isAlreadyImported(_ message: PreparedMessage, ledger: inout ImportLedger) throws -> Bool {
        try isAlreadyImported(sha256: message.sha256, ledger: &ledger)
    }

    /// The same, by content hash (`PreparedMessage.contentHash(of:)`), so a message the
    /// mailbox holds already is skipped without being parsed.
    public func isAlreadyImported(sha256: [UInt8], ledger: inout ImportLedger) throws -> Bool {
        guard !ledger.isEmpty, let id = try contentID(sha256: sha256) else { return false }
        return ledger.take(id)
    }
}
