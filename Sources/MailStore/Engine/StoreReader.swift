import MailMessage

/// A read snapshot of the store. It exists only inside `MailStore.read` (or as the base of a
/// `StoreWriter`), and must not escape that closure.
public class StoreReader {
    let kv: any KVReader
    /// Decoded index segments shared across reads; nil in writes.
    let segmentCache: TextSegmentCache?

    init(kv: any KVReader, segmentCache: TextSegmentCache? = nil) {
        self.kv = kv
        self.segmentCache = segmentCache
    }

    // MARK: Accounts

    /// Account names are matched case-insensitively.
    package static func fold(_ name: String) -> String { name.lowercased() }

    public func account(named name: String) throws -> Account? {
        guard let id = try kv.withValue(.accountNames, Keys.accountName(Self.fold(name)), { v in
            v.map { AccountID(rawValue: readU32($0, at: 0)) }
        }) else { return nil }
        return try account(id)
    }

    public func account(_ id: AccountID) throws -> Account? {
        try kv.withValue(.accounts, Keys.account(id)) { v in try v.map { try Account(decoding: $0) } }
    }

    /// The account named `name`, or an `unknownAccount` error.
    public func requireAccount(named name: String) throws -> Account {
        guard let a = try account(named: name) else { throw MailStoreError.unknownAccount(name) }
        return a
    }

    func requireAccount(_ id: AccountID) throws -> Account {
        guard let a = try account(id) else { throw MailStoreError.unknownAccount("#\(id)") }
        return a
    }

    /// Every account, in order of creation.
    public func accounts() throws -> [Account] {
        var result: [Account] = []
        try kv.scan(.accounts, prefix: []) { _, v in result.append(try Account(decoding: v)); return true }
        return result
    }

    // MARK: Mailboxes

    public func mailbox(_ id: MailboxID) throws -> Mailbox? {
        try kv.withValue(.mailboxes, Keys.mailbox(id)) { v in try v.map { try Mailbox(decoding: $0) } }
    }

    /// The mailbox of `account` named `name` (INBOX case-insensitively), or nil.
    public func mailbox(of account: AccountID, named name: String) throws -> Mailbox? {
        guard let normalized = try? MailboxName.normalize(name),
              let id = try mailboxID(of: account, named: normalized) else { return nil }
        return try mailbox(id)
    }

    func mailboxID(of account: AccountID, named normalized: String) throws -> MailboxID? {
        try kv.withValue(.mailboxNames, Keys.mailboxName(account, normalized)) { v in
            v.map { MailboxID(rawValue: readU32($0, at: 0)) }
        }
    }

    /// The mailbox, or an `unknownMailbox` error.
    public func requireMailbox(of account: AccountID, named name: String) throws -> Mailbox {
        guard let m = try mailbox(of: account, named: name) else { throw MailStoreError.unknownMailbox(name) }
        return m
    }

    func requireMailbox(_ id: MailboxID) throws -> Mailbox {
        guard let m = try mailbox(id) else { throw MailStoreError.unknownMailbox("#\(id)") }
        return m
    }

    /// Every mailbox of `account`, sorted by name.
    public func mailboxes(of account: AccountID) throws -> [Mailbox] {
        var ids: [MailboxID] = []
        try kv.scan(.mailboxNames, prefix: Keys.mailboxNames(of: account)) { _, v in
            ids.append(MailboxID(rawValue: readU32(v, at: 0)))
            return true
        }
        return try ids.compactMap { try mailbox($0) }
    }

    /// The mailboxes of `account` whose names match the LIST `pattern`.
    public func mailboxes(of account: AccountID, matching pattern: String) throws -> [Mailbox] {
        try mailboxes(of: account).filter { MailboxName.matches($0.name, pattern: pattern) }
    }

    /// Whether `name` has at least one child mailbox.
    public func hasChildren(account: AccountID, name: String) throws -> Bool {
        var found = false
        try kv.scan(.mailboxNames, prefix: Keys.mailboxName(account, name + "/")) { _, _ in
            found = true
            return false
        }
        return found
    }

    /// Subscribed names of `account`, sorted. A subscription may name a mailbox that does not exist.
    public func subscriptions(of account: AccountID) throws -> [String] {
        var names: [String] = []
        try kv.scan(.subscriptions, prefix: Keys.subscriptions(of: account)) { k, _ in
            names.append(String(decoding: k[4...], as: UTF8.self))
            return true
        }
        return names
    }

    // MARK: Messages

    /// The mailbox's UIDs in ascending order: the map from sequence numbers to UIDs.
    public func uids(in mailbox: MailboxID) throws -> [UID] {
        var result: [UID] = []
        try kv.scan(.messages, prefix: Keys.mailboxPrefix(mailbox)) { k, _ in
            result.append(UID(readU32(k, at: 4)))
            return true
        }
        return result
    }

    public func message(in mailbox: MailboxID, uid: UID) throws -> MessageRecord? {
        try kv.withValue(.messages, Keys.message(mailbox, uid)) { v in
            try v.map { try MessageRecord(uid: uid, decoding: $0) }
        }
    }

    /// Visits the messages with `range.lowerBound <= uid <= range.upperBound` for which
    /// `include` is true (asked before a record is decoded), in UID order. `body` returns false
    /// to stop.
    public func forEachMessage(in mailbox: MailboxID, uids range: ClosedRange<UID> = UID(1)...UID(.max),
                               where include: (UID) -> Bool = { _ in true },
                               _ body: (MessageRecord) throws -> Bool) throws {
        let upper = range.upperBound.rawValue == .max
            ? Keys.mailboxEnd(mailbox) : Keys.message(mailbox, UID(range.upperBound.rawValue + 1))
        try kv.scan(.messages, from: Keys.message(mailbox, range.lowerBound), to: upper, reverse: false) { k, v in
            let uid = UID(readU32(k, at: 4))
            guard include(uid) else { return true }
            return try body(try MessageRecord(uid: uid, decoding: v))
        }
    }

    /// The messages with the UIDs `uids`, which must ascend, in that order; a UID without a
    /// message is skipped. One cursor serves them all, so nearby UIDs cost about what a walk
    /// over them would. `body` returns false to stop.
    func forEachMessage(in mailbox: MailboxID, sortedUIDs uids: [UInt32],
                        _ body: (MessageRecord) throws -> Bool) throws {
        try kv.lookup(.messages, prefix: Keys.mailboxPrefix(mailbox), suffixes: uids) { uid, v in
            guard let v else { return true }
            return try body(try MessageRecord(uid: UID(uid), decoding: v))
        }
    }

    /// Those of `uids` (ascending) that name a message of the mailbox, without reading records:
    /// looked up one by one, or found by a walk over the mailbox's keys when `walk` is true.
    func forEachMessageKey(in mailbox: MailboxID, sortedUIDs uids: [UInt32], walk: Bool,
                           _ body: (UID) throws -> Bool) throws {
        guard walk else {
            return try kv.lookup(.messages, prefix: Keys.mailboxPrefix(mailbox), suffixes: uids) { uid, v in
                v == nil ? true : try body(UID(uid))
            }
        }
        guard let first = uids.first, let last = uids.last else { return }
        var next = 0
        let end = last == .max ? Keys.mailboxEnd(mailbox) : Keys.message(mailbox, UID(last + 1))
        try kv.scan(.messages, from: Keys.message(mailbox, UID(first)), to: end, reverse: false) { k, _ in
            let uid = readU32(k, at: 4)
            while next < uids.count && uids[next] < uid { next += 1 }
            guard next < uids.count else { return false }
            return uids[next] == uid ? try body(UID(uid)) : true
        }
    }

    /// Every message of the mailbox, in UID order.
    public func messages(in mailbox: MailboxID) throws -> [MessageRecord] {
        var result: [MessageRecord] = []
        try forEachMessage(in: mailbox) { result.append($0); return true }
        return result
    }

    // MARK: Keywords

    /// The keyword names of `account` by number.
    public func keywords(of account: AccountID) throws -> [KeywordID: String] {
        var result: [KeywordID: String] = [:]
        try kv.scan(.keywords, prefix: Keys.keywordNames(of: account)) { k, v in
            result[KeywordID(rawValue: readU32(k, at: 5))] = String(decoding: v, as: UTF8.self)
            return true
        }
        return result
    }

    /// Keyword names compare case-insensitively.
    static func foldKeyword(_ name: String) -> String { name.lowercased() }

    public func keywordID(of account: AccountID, named name: String) throws -> KeywordID? {
        try kv.withValue(.keywords, Keys.keywordByName(account, Self.foldKeyword(name))) { v in
            v.map { KeywordID(rawValue: readU32($0, at: 0)) }
        }
    }

    // MARK: Content

    /// The content stored with this SHA-256, if any: from the hash index, or else among the
    /// contents newer than it (`HashIndex`), whose records hold their hashes.
    func contentID(sha256: [UInt8]) throws -> ContentID? {
        if let id = try indexedContentID(sha256: sha256) { return id }
        let key = SHA256Key(sha256)
        var found: ContentID?
        try forEachUnindexedContent { id, record in
            guard try ContentRecord.sha256Key(in: record) == key else { return true }
            found = id
            return false
        }
        return found
    }

    /// The content stored with this SHA-256 if the hash index has it.
    func indexedContentID(sha256: [UInt8]) throws -> ContentID? {
        try kv.withValue(.contentHashes, sha256) { v in v.map { ContentID(rawValue: readU64($0, at: 0)) } }
    }

    /// The newest content whose hash is in the hash index; 0 when none is.
    func hashIndexedThrough() throws -> UInt64 {
        try kv.withValue(.meta, Keys.hashIndexedThrough) { v in v.map { readU64($0, at: 0) } } ?? 0
    }

    /// The newest content ID given so far; 0 when none was.
    func newestContentID() throws -> ContentID {
        ContentID(rawValue: try kv.withValue(.meta, Keys.nextContent) { v in v.map { readU64($0, at: 0) - 1 } } ?? 0)
    }

    /// Visits the contents newer than the hash index, in ID order, with their encoded records;
    /// the callback returns false to stop.
    func forEachUnindexedContent(_ body: (ContentID, UnsafeRawBufferPointer) throws -> Bool) throws {
        let first = ContentID(rawValue: try hashIndexedThrough() + 1)
        try kv.scan(.contents, from: Keys.content(first), to: nil, reverse: false) { k, v in
            try body(ContentID(rawValue: readU64(k, at: 0)), v)
        }
    }

    func contentRecord(_ id: ContentID) throws -> ContentRecord? {
        try kv.withValue(.contents, Keys.content(id)) { v in try v.map { try ContentRecord(decoding: $0) } }
    }

    /// Calls `body` with each stored piece of the content in order, as borrowed views.
    public func forEachPiece(of content: ContentID, _ body: (UnsafeRawBufferPointer) throws -> Void) throws {
        try kv.scan(.chunks, prefix: Keys.chunks(of: content)) { _, v in try body(v); return true }
    }

    /// The whole content.
    public func content(_ id: ContentID) throws -> [UInt8] {
        var result: [UInt8] = []
        try forEachPiece(of: id) { result.append(contentsOf: $0) }
        return result
    }

    /// The bytes of the content in `range`, clamped to its size.
    public func content(_ id: ContentID, range: Range<Int>) throws -> [UInt8] {
        guard let record = try contentRecord(id) else { return [] }
        let lower = max(0, min(range.lowerBound, record.size))
        let upper = max(lower, min(range.upperBound, record.size))
        guard lower < upper else { return [] }
        // Piece sizes follow from the total size, so start at the piece that holds `lower`.
        var start = 0, index = 0
        for piece in ContentLayout.pieces(forSize: record.size) {
            if start + piece > lower { break }
            start += piece
            index += 1
        }
        var result: [UInt8] = []
        result.reserveCapacity(upper - lower)
        try kv.scan(.chunks, from: Keys.chunk(id, index), to: Keys.chunks(of: ContentID(rawValue: id.rawValue + 1)),
                    reverse: false) { _, v in
            let end = start + v.count
            let a = max(lower, start) - start, b = min(upper, end) - start
            if a < b { result.append(contentsOf: v[a..<b]) }
            start = end
            return start < upper
        }
        return result
    }

    /// The parsed structure stored with the content at append: envelope, body structure and
    /// section offsets, read without reparsing the message.
    public func structure(of content: ContentID) throws -> ParsedMessage? {
        guard let bytes = try contentRecord(content)?.structure, !bytes.isEmpty else { return nil }
        do {
            return try ParsedMessage(serialized: bytes)
        } catch {
            throw MailStoreError.corrupt("parsed structure of content \(content): \(error)")
        }
    }

    /// The content's parsed structure and bytes: the structure stored at append, or parsed now
    /// for content stored without one.
    public func parsedContent(_ content: ContentID) throws -> (ParsedMessage, [UInt8]) {
        let raw = try self.content(content)
        return (try structure(of: content) ?? ParsedMessage.parse(raw), raw)
    }

    // MARK: Changes

    /// The changes of `mailbox` with a modseq above `modSeq`, in modseq order: each message
    /// changed since then (once, at its current modseq) and each UID expunged since then.
    /// Proportional to the number of changes, not the size of the mailbox.
    public func changes(in mailbox: MailboxID, since modSeq: ModSeq) throws -> [Change] {
        var result: [Change] = []
        try kv.scan(.changes, from: Keys.changes(of: mailbox, after: modSeq),
                    to: Keys.mailboxEnd(mailbox), reverse: false) { k, v in
            result.append(Change(uid: UID(readU32(k, at: 12)), modSeq: ModSeq(readU64(k, at: 4)),
                                 kind: v.first == ChangeKind.expunged.rawValue ? .expunged : .updated))
            return true
        }
        return result
    }
}

/// One entry of a mailbox's change log.
public struct Change: Sendable, Equatable {
    public var uid: UID
    public var modSeq: ModSeq
    public var kind: ChangeKind
}

public enum ChangeKind: UInt8, Sendable {
    /// The message was appended or its flags changed; read its record for the current state.
    case updated = 0
    case expunged = 1
}
