import MailMessage

/// How STORE changes flags (RFC 9051 §6.4.6).
public enum FlagOperation: Sendable {
    case replace
    case add
    case remove
}

/// A flag change: system flags and keyword names.
public struct FlagChange: Sendable {
    public var operation: FlagOperation
    public var flags: MessageFlags
    public var keywords: [String]

    public init(_ operation: FlagOperation, flags: MessageFlags, keywords: [String] = []) {
        self.operation = operation
        self.flags = flags
        self.keywords = keywords
    }
}

/// The outcome of a flag change.
public struct StoreResult: Sendable {
    /// Messages whose flags changed, with their new state.
    public var updated: [MessageRecord] = []
    /// Messages left alone because their modseq was above UNCHANGEDSINCE (RFC 7162 §3.1.3).
    public var modified: [UID] = []
}

extension StoreWriter {
    /// Takes the mailbox's next modseq.
    func bumpModSeq(_ mailbox: inout Mailbox) -> ModSeq {
        mailbox.highestModSeq = ModSeq(mailbox.highestModSeq.rawValue + 1)
        return mailbox.highestModSeq
    }

    func logChange(_ mailbox: MailboxID, uid: UID, from old: ModSeq?, to new: ModSeq, kind: ChangeKind) throws {
        if let old { try w.delete(.changes, Keys.change(mailbox, old, uid)) }
        try w.put(.changes, Keys.change(mailbox, new, uid), [kind.rawValue])
    }

    func count(_ record: MessageRecord, into mailbox: inout Mailbox, sign: Int) {
        mailbox.messages += sign
        mailbox.size += sign * record.size
        if !record.flags.contains(.seen) { mailbox.unseen += sign }
        if record.flags.contains(.deleted) { mailbox.deleted += sign }
    }

    func checkQuota(_ account: Account, addingBytes bytes: Int, messages: Int) throws {
        if let limit = account.quota.storageBytes, account.usedBytes + bytes > limit {
            throw MailStoreError.overQuota(.storage)
        }
        if let limit = account.quota.messages, account.usedMessages + messages > limit {
            throw MailStoreError.overQuota(.messages)
        }
    }

    func selectable(_ id: MailboxID) throws -> Mailbox {
        let mailbox = try requireMailbox(id)
        if mailbox.isNoSelect { throw MailStoreError.mailboxNotSelectable(mailbox.name) }
        return mailbox
    }

    // MARK: Content

    /// Stores the content once: a second message with the same bytes adds a reference.
    func retainContent(_ message: PreparedMessage) throws -> ContentID {
        if let id = try storedContentID(sha256: message.sha256) {
            try retainContent(id)
            return id
        }
        let id = ContentID(rawValue: try nextCounter(Keys.nextContent))
        let pieces = ContentLayout.pieces(forSize: message.bytes.count)
        try message.bytes.withUnsafeBytes { all in
            var offset = 0
            for (index, piece) in pieces.enumerated() {
                try w.put(.chunks, Keys.chunk(id, index), UnsafeRawBufferPointer(rebasing: all[offset..<offset + piece]))
                offset += piece
            }
        }
        let record = ContentRecord(references: 1, size: message.bytes.count, sha256: message.sha256,
                                   pieceCount: pieces.count, structure: message.structure)
        try w.put(.contents, Keys.content(id), record.encoded())
        pending.unindexedContents?[SHA256Key(message.sha256)] = id
        try indexContentHashes(newest: id)
        return id
    }

    func retainContent(_ id: ContentID) throws {
        guard var record = try contentRecord(id) else { throw MailStoreError.corrupt("missing content \(id)") }
        record.references += 1
        try w.put(.contents, Keys.content(id), record.encoded())
    }

    func releaseContent(_ id: ContentID) throws {
        guard var record = try contentRecord(id) else { throw MailStoreError.corrupt("missing content \(id)") }
        record.references -= 1
        if record.references > 0 {
            try w.put(.contents, Keys.content(id), record.encoded())
            return
        }
        for index in 0..<record.pieceCount { try w.delete(.chunks, Keys.chunk(id, index)) }
        try w.delete(.contents, Keys.content(id))
        // Absent when the content is newer than the hash index.
        try w.delete(.contentHashes, record.sha256)
        pending.unindexedContents?[SHA256Key(record.sha256)] = nil
    }

    // MARK: Append

    /// Appends a message and returns its record. The content is stored once per distinct bytes.
    @discardableResult
    public func append(to mailboxID: MailboxID, _ message: PreparedMessage, flags: MessageFlags = [],
                       keywords: [String] = [], internalDate: ZonedDate? = nil) throws -> MessageRecord {
        let record = try appendUnindexed(to: mailboxID, PreparedBatch.Entry(message, flags: flags, keywords: keywords,
                                                                            internalDate: internalDate))
        indexMessages(mailboxID, [(record.uid, message.terms)])
        return record
    }

    /// Appends a batch's messages, in order, and returns their records. They take consecutive
    /// UIDs, and the batch's segment, built beforehand, becomes their full-text index unless
    /// other messages of the commit join them in the mailbox's queue.
    @discardableResult
    public func append(to mailboxID: MailboxID, _ batch: PreparedBatch) throws -> [MessageRecord] {
        let records = try batch.entries.map { try appendUnindexed(to: mailboxID, $0) }
        guard let first = records.first?.uid, let last = records.last?.uid else { return [] }
        precondition(Int(last.rawValue - first.rawValue) + 1 == records.count, "a batch's UIDs are consecutive")
        indexMessages(mailboxID, zip(records, batch.entries).map { ($0.uid, $1.message.terms) }, prebuilt: batch.segment)
        return records
    }

    /// Appends a message, all but its full-text index, which the caller sees to.
    private func appendUnindexed(to mailboxID: MailboxID, _ entry: PreparedBatch.Entry) throws -> MessageRecord {
        let message = entry.message
        var mailbox = try selectable(mailboxID)
        var account = try requireAccount(mailbox.account)
        try checkQuota(account, addingBytes: message.size, messages: 1)
        let keywordIDs = try keywordIDs(account: &account, names: entry.keywords)
        let content = try retainContent(message)
        let emailID = EmailID(rawValue: try nextCounter(Keys.nextEmail))
        let record = MessageRecord(
            uid: mailbox.uidNext, content: content, flags: entry.flags, keywords: keywordIDs,
            internalDate: entry.internalDate ?? now, saveDate: now.seconds, size: message.size,
            modSeq: bumpModSeq(&mailbox), emailID: emailID, threadID: ThreadID(rawValue: emailID.rawValue))
        try insert(record, into: &mailbox, account: &account)
        try w.put(.sortKeys, Keys.message(mailboxID, record.uid), message.sortKeys)
        try saveChanged(mailbox, account)
        return record
    }

    /// Writes a new message record into `mailbox` at `record.uid`, with its counts and log entry.
    /// The caller saves `mailbox` and `account` once it has inserted all its messages.
    private func insert(_ record: MessageRecord, into mailbox: inout Mailbox, account: inout Account) throws {
        try w.put(.messages, Keys.message(mailbox.id, record.uid), record.encoded())
        try indexRecord(mailbox.id, record.uid, from: nil, to: record)
        try logChange(mailbox.id, uid: record.uid, from: nil, to: record.modSeq, kind: .updated)
        mailbox.uidNext = UID(record.uid.rawValue + 1)
        count(record, into: &mailbox, sign: 1)
        account.usedBytes += record.size
        account.usedMessages += 1
    }

    /// Saves a mailbox whose messages changed, and its account, and records the event.
    private func saveChanged(_ mailbox: Mailbox, _ account: Account) throws {
        try save(mailbox)
        try save(account)
        events.append(.mailboxChanged(account: mailbox.account, mailbox: mailbox.id, modSeq: mailbox.highestModSeq))
    }

    // MARK: Copy and move

    /// Copies messages, adding content references rather than bytes. Returns (source UID,
    /// new UID) pairs in source UID order, for COPYUID. UIDs that do not exist are skipped.
    @discardableResult
    public func copy(uids: [UID], from sourceID: MailboxID, to targetID: MailboxID) throws -> [(UID, UID)] {
        try copy(uids: uids, from: sourceID, to: targetID, isMove: false)
    }

    private func copy(uids: [UID], from sourceID: MailboxID, to targetID: MailboxID, isMove: Bool) throws -> [(UID, UID)] {
        let source = try requireMailbox(sourceID)
        var target = try selectable(targetID)
        var account = try requireAccount(target.account)
        let records = try uids.sorted().compactMap { try message(in: sourceID, uid: $0) }
        guard !records.isEmpty else { return [] }
        // A move inside one account does not change its usage.
        if !(isMove && source.account == target.account) {
            try checkQuota(account, addingBytes: records.reduce(0) { $0 + $1.size }, messages: records.count)
        }
        let names = source.account == target.account ? [:] : try keywords(of: source.account)
        let modSeq = bumpModSeq(&target)
        var pairs: [(UID, UID)] = []
        var indexed: [(uid: UID, terms: IndexTerms)] = []
        for old in records {
            let keywordIDs = source.account == target.account
                ? old.keywords : try keywordIDs(account: &account, names: old.keywords.compactMap { names[$0] })
            try retainContent(old.content)
            let new = MessageRecord(
                uid: target.uidNext, content: old.content, flags: old.flags, keywords: keywordIDs,
                internalDate: old.internalDate, saveDate: now.seconds, size: old.size, modSeq: modSeq,
                emailID: old.emailID, threadID: old.threadID)
            try insert(new, into: &target, account: &account)
            let data = try searchData(of: old.content)
            let sortKeys = try w.get(.sortKeys, Keys.message(sourceID, old.uid)) ?? data.sortKeys.encoded()
            try w.put(.sortKeys, Keys.message(targetID, new.uid), sortKeys)
            pairs.append((old.uid, new.uid))
            indexed.append((new.uid, IndexTerms(data.document)))
        }
        indexMessages(targetID, indexed)
        try saveChanged(target, account)
        return pairs
    }

    /// Moves messages atomically (RFC 6851): a copy and an expunge in one change.
    @discardableResult
    public func move(uids: [UID], from sourceID: MailboxID, to targetID: MailboxID) throws -> [(UID, UID)] {
        guard sourceID != targetID else { return [] }
        let pairs = try copy(uids: uids, from: sourceID, to: targetID, isMove: true)
        _ = try expunge(in: sourceID, uids: pairs.map(\.0))
        return pairs
    }

    // MARK: Flags

    /// Changes flags and keywords of the given messages. With `unchangedSince`, a message whose
    /// modseq is higher is left alone and reported in `modified` (RFC 7162 §3.1.3). Every
    /// changed message takes the same new modseq.
    @discardableResult
    public func store(in mailboxID: MailboxID, uids: [UID], _ change: FlagChange,
                      unchangedSince: ModSeq? = nil) throws -> StoreResult {
        var mailbox = try selectable(mailboxID)
        var account = try requireAccount(mailbox.account)
        let keywordsBefore = account.nextKeyword
        let keywordIDs: Set<KeywordID>
        if change.operation == .remove {
            keywordIDs = Set(try change.keywords.compactMap { try keywordID(of: account.id, named: $0) })
        } else {
            keywordIDs = Set(try self.keywordIDs(account: &account, names: change.keywords))
        }
        var result = StoreResult()
        var modSeq: ModSeq?
        for uid in uids.sorted() {
            guard var record = try message(in: mailboxID, uid: uid) else { continue }
            if let unchangedSince, record.modSeq > unchangedSince {
                result.modified.append(uid)
                continue
            }
            var flags = record.flags
            var keywords = Set(record.keywords)
            switch change.operation {
            case .replace: flags = change.flags; keywords = keywordIDs
            case .add: flags.formUnion(change.flags); keywords.formUnion(keywordIDs)
            case .remove: flags.subtract(change.flags); keywords.subtract(keywordIDs)
            }
            let sortedKeywords = keywords.sorted()
            if flags == record.flags && sortedKeywords == record.keywords { continue }
            let newModSeq = modSeq ?? bumpModSeq(&mailbox)
            modSeq = newModSeq
            count(record, into: &mailbox, sign: -1)
            let old = record
            record.flags = flags
            record.keywords = sortedKeywords
            record.modSeq = newModSeq
            count(record, into: &mailbox, sign: 1)
            try w.put(.messages, Keys.message(mailboxID, uid), record.encoded())
            try indexRecord(mailboxID, uid, from: old, to: record)
            try logChange(mailboxID, uid: uid, from: old.modSeq, to: newModSeq, kind: .updated)
            result.updated.append(record)
        }
        // Flag changes leave usage alone: the account is saved only if keywords were defined.
        if account.nextKeyword != keywordsBefore { try save(account) }
        if modSeq != nil {
            try save(mailbox)
            events.append(.mailboxChanged(account: mailbox.account, mailbox: mailboxID, modSeq: mailbox.highestModSeq))
        }
        return result
    }

    // MARK: Expunge

    /// Removes the given messages (those that exist) and returns their UIDs in order. Each
    /// leaves an expunge entry in the change log, for QRESYNC VANISHED.
    @discardableResult
    public func expunge(in mailboxID: MailboxID, uids: [UID]) throws -> [UID] {
        var mailbox = try requireMailbox(mailboxID)
        var account = try requireAccount(mailbox.account)
        var expunged: [UID] = []
        var modSeq: ModSeq?
        for uid in uids.sorted() {
            guard let record = try message(in: mailboxID, uid: uid) else { continue }
            let newModSeq = modSeq ?? bumpModSeq(&mailbox)
            modSeq = newModSeq
            try w.delete(.messages, Keys.message(mailboxID, uid))
            try indexRecord(mailboxID, uid, from: record, to: nil)
            try w.delete(.sortKeys, Keys.message(mailboxID, uid))
            try logChange(mailboxID, uid: uid, from: record.modSeq, to: newModSeq, kind: .expunged)
            try releaseContent(record.content)
            count(record, into: &mailbox, sign: -1)
            account.usedBytes -= record.size
            account.usedMessages -= 1
            expunged.append(uid)
        }
        if modSeq != nil { try saveChanged(mailbox, account) }
        // Postings of expunged messages go at the next merge; an empty mailbox needs none.
        if mailbox.messages == 0 { try dropIndex(mailboxID) }
        return expunged
    }

    /// Removes every message flagged `\Deleted` (RFC 9051 §6.4.3).
    @discardableResult
    public func expungeDeleted(in mailboxID: MailboxID) throws -> [UID] {
        var deleted: [UID] = []
        try forEachMessage(in: mailboxID) { record in
            if record.flags.contains(.deleted) { deleted.append(record.uid) }
            return true
        }
        return try expunge(in: mailboxID, uids: deleted)
    }
}
