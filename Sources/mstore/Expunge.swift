import ArgumentParser
import Foundation
import MailStore

/// `mstore expunge USER MAILBOX (--before YYYY-MM-DD | --deleted)`.
struct Expunge: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        abstract: "Remove messages older than a date, or those flagged \\Deleted.")
    @OptionGroup var store: StoreOptions
    @Argument var user: String
    @Argument var mailbox: String
    @Option(name: .long, help: "Remove messages whose internal date (in its own zone) is before this day, YYYY-MM-DD.")
    var before: String?
    @Flag(name: .long, help: "Remove messages flagged \\Deleted.") var deleted = false

    func validate() throws {
        guard (before != nil) != deleted else { throw ValidationError("give exactly one of --before DATE and --deleted") }
        if let before, Self.day(before) == nil { throw ValidationError("--before takes a date as YYYY-MM-DD") }
    }

    /// Midnight UTC of a `YYYY-MM-DD` date, in seconds, or nil.
    static func day(_ text: String) -> Int64? {
        let parts = text.split(separator: "-", omittingEmptySubsequences: false)
        guard parts.count == 3, parts[0].count == 4, parts[1].count == 2, parts[2].count == 2,
              let y = Int32(parts[0]), let m = Int32(parts[1]), let d = Int32(parts[2]),
              (1...12).contains(m), (1...31).contains(d) else { return nil }
        var tmv = tm()
        tmv.tm_year = y - 1900; tmv.tm_mon = m - 1; tmv.tm_mday = d
        let seconds = Int64(timegm(&tmv))
        // Reject dates that timegm normalised, such as 2023-02-30.
        var t = time_t(seconds), back = tm()
        gmtime_r(&t, &back)
        return back.tm_mday == d && back.tm_mon == m - 1 ? seconds : nil
    }

    func run() async throws {
        let s = try store.open()
        let (user, mailbox, deleted) = (user, mailbox, deleted)
        let limit = before.flatMap(Self.day)
        let removed = try await s.write { tx in
            let box = try tx.requireMailbox(of: try tx.requireAccount(named: user).id, named: mailbox)
            if deleted { return try tx.expungeDeleted(in: box.id).count }
            // Like IMAP SEARCH BEFORE: the date of the internal date in its own zone (RFC 9051 §6.4.4).
            var old: [UID] = []
            try tx.forEachMessage(in: box.id) { r in
                if r.internalDate.seconds + Int64(r.internalDate.zoneMinutes) * 60 < limit! { old.append(r.uid) }
                return true
            }
            return try tx.expunge(in: box.id, uids: old).count
        }
        print("expunged \(removed) message\(removed == 1 ? "" : "s") from \(mailbox)")
    }
}

/// `mstore quota recalc [USER]`.
struct QuotaUpkeep: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "quota", abstract: "Quota upkeep (limits are set with `user quota`).",
        subcommands: [Recalc.self])

    struct Recalc: AsyncParsableCommand {
        static let configuration = CommandConfiguration(
            abstract: "Recompute each account's used bytes and messages from its messages.")
        @OptionGroup var store: StoreOptions
        @OptionGroup var output: OutputOptions
        @Argument(help: "Only this user (default: every user).") var user: String?

        struct Row: Encodable { var name: String, oldBytes: Int, oldMessages: Int, bytes: Int, messages: Int, changed: Bool }

        func run() async throws {
            let s = try store.open()
            let user = user
            let results = try await s.write { tx in
                let accounts = try user.map { [try tx.requireAccount(named: $0)] } ?? tx.accounts()
                return try accounts.map { try tx.recalculateUsage($0.id) }
            }
            let rows = results.map {
                Row(name: $0.account, oldBytes: $0.oldBytes, oldMessages: $0.oldMessages, bytes: $0.newBytes,
                    messages: $0.newMessages, changed: $0.changed)
            }
            try output.print(rows) {
                rows.map {
                    "\($0.name): \($0.messages) messages, \($0.bytes) bytes"
                        + ($0.changed ? " (was \($0.oldMessages) messages, \($0.oldBytes) bytes)" : "")
                }.joined(separator: "\n")
            }
        }
    }
}
