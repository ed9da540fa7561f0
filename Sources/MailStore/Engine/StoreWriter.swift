import MailMessage

/// What the indexes have yet to take from the changes of one commit: messages for the
/// full-text index, and the contents past the hash index's mark. Only touched on the writer
/// thread.
final class PendingIndex: @unchecked Sendable {
    /// What the writer keeps of deferred messages between commits.
    let deferred: DeferredTerms
    var messages: [MailboxID: [(uid: UID, terms: IndexTerms)]] = [:]
    /// Per mailbox, the segment of everything queued in `messages`, built before the write
    /// (`PreparedBatch`) with UIDs from 0; absent once messages without it share the queue.
    var prebuilt: [MailboxID: [UInt8]] = [:]
    /// The contents past the hash index's mark by SHA-256, read at the commit's first lookup
    /// that misses the index, then kept up as contents are added
    /// (`StoreWriter.storedContentID(sha256:)`).
    var unindexedContents: [SHA256Key: ContentID]?

    init(deferred: DeferredTerms = DeferredTerms()) { self.deferred = deferred }

    /// Forgets everything, for a commit (or its retry) starting.
    func reset() {
        messages = [:]
        prebuilt = [:]
        unindexedContents = nil
    }

    /// Runs one change of the commit: if it fails, what it queued is dropped with it, as its
    /// nested transaction is.
    func change<T>(_ body: () throws -> T) throws -> T {
        let (messages, prebuilt, unindexedContents) = (self.messages, self.prebuilt, self.unindexedContents)
        do {
            return try body()
        } catch {
            (self.messages, self.prebuilt, self.unindexedContents) = (messages, prebuilt, unindexedContents)
            throw error
        }
    }
}

/// One atomic change to the store. It exists only inside `MailStore.write`; throwing from that
/// closure discards everything done through it.
public final class StoreWriter: StoreReader {
    let w: any KVWriter
    /// What this change touched, published to the change feed once it is durable.
    var events: [StoreEvent] = []
    /// Messages inserted and not yet in the full-text index, shared by the changes of one
    /// commit, so that the commit writes one segment per mailbox (`flushIndex`).
    let pending: PendingIndex
    let now: ZonedDate

    init(kv: any KVWriter, now: ZonedDate, pending: PendingIndex = PendingIndex()) {
        self.w = kv
        self.now = now
        self.pending = pending
        super.init(kv: kv)
    }

    // MARK: Counters

    func nextCounter(_ key: [UInt8], first: UInt64 = 1) throws -> UInt64 {
        let current = try w.withValue(.meta, key) { v in v.map { readU64($0, at: 0) } } ?? first
        try w.put(.meta, key, ByteWriter.u64Bytes(current + 1))
        return current
    }

    /// A UIDVALIDITY never given before in this store: the clock in seconds, or one more than
    /// the last one if the clock has not moved on.
    func nextUIDValidity() throws -> UInt32 {
        let last = try w.withValue(.meta, Keys.lastUIDValidity) { v in v.map { readU64($0, at: 0) } } ?? 0
        let value = max(last + 1, UInt64(max(now.seconds, 1)))
        let v32 = value > UInt64(UInt32.max) ? UInt32(last % UInt64(UInt32.max)) + 1 : UInt32(value)
        try w.put(.meta, Keys.lastUIDValidity, ByteWriter.u64Bytes(UInt64(v32)))
        return v32
    }

    func save(_ account: Account) throws { try w.put(.accounts, Keys.account(account.id), account.encoded()) }
    func save(_ mailbox: Mailbox) throws { try w.put(.mailboxes, Keys.mailbox(mailbox.id), mailbox.encoded()) }

    // MARK: Accounts

    /// Creates an account and its INBOX.
    @discardableResult
    public func createAccount(name: String, credentials: Credentials) throws -> Account {
        try Self.validateAccountName(name)
        let nameKey = Keys.accountName(Self.fold(name))
        if try w.withValue(.accountNames, nameKey, { $0 != nil }) { throw MailStoreError.accountExists(name) }
        let id = AccountID(rawValue: UInt32(truncatingIfNeeded: try nextCounter(Keys.nextAccount)))
        let account = Account(id: id, name: name, passwordHash: credentials.passwordHash, scram: credentials.scram)
        try save(account)
        try w.put(.accountNames, nameKey, ByteWriter.u32Bytes(id.rawValue))
        _ = try createMailbox(account: id, name: "INBOX")
        return account
    }

    package static func validateAccountName(_ name: String) throws {
        let bytes = Array(name.utf8)
        guard !bytes.isEmpty, bytes.count <= 255,
              !bytes.contains(where: { $0 <= 0x20 || $0 == 0x7F || $0 == UInt8(ascii: "/") }),
              bytes.filter({ $0 == UInt8(ascii: "@") }).count <= 1,
              bytes.first != UInt8(ascii: "@"), bytes.last != UInt8(ascii: "@")
        else { throw MailStoreError.invalidAccountName(name) }
    }

    /// Deletes an account with all its mailboxes, messages, keywords, subscriptions and annotations.
    public func deleteAccount(_ id: AccountID) throws {
        let account = try requireAccount(id)
        for mailbox in try mailboxes(of: id) { try removeMailboxRecord(mailbox) }
        for space in [Subspace.keywords, .subscriptions, .annotations] {
            var keys: [[UInt8]] = []
            try w.scan(space, prefix: Keys.accountPrefix(id)) { k, _ in keys.append(Array(k)); return true }
            for k in keys { try w.delete(space, k) }
        }
        try w.delete(.accountNames, Keys.accountName(Self.fold(account.name)))
        try w.delete(.accounts, Keys.account(id))
        events.append(.mailboxListChanged(account: id))
    }

    public func setCredentials(_ id: AccountID, _ credentials: Credentials) throws {
        var account = try requireAccount(id)
        account.passwordHash = credentials.passwordHash
        account.scram = credentials.scram
        try save(account)
    }

    /// Replaces an account's credentials with `credentials` (from
    /// `PasswordHasher.upgradedCredentials`) only while its stored hash is still `verifiedHash`,
    /// the one the password was checked against: a password set meanwhile wins. Returns the
    /// account as stored afterwards, or nil when it no longer exists.
    public func upgradeCredentials(_ id: AccountID, verifiedHash: String, to credentials: Credentials) throws -> Account? {
        guard var account = try account(id) else { return nil }
        guard account.passwordHash == verifiedHash else { return account }
        account.passwordHash = credentials.passwordHash
        account.scram = credentials.scram
        try save(account)
        return account
    }

    public func setQuota(_ id: AccountID, _ quota: Quota) throws {
        var account = try requireAccount(id)
        account.quota = quota
        try save(account)
    }

    // MARK: Mailboxes

    /// Creates `name` and any missing parents (RFC 9051 §6.3.4). Creating an existing
    /// `\Noselect` name makes it selectable again, with a new UIDVALIDITY.
    @discardableResult
    public func createMailbox(account: AccountID, name: String, specialUse: SpecialUse = []) throws -> Mailbox {
        let name = try MailboxName.normalize(name)
        _ = try requireAccount(account)
        for parent in MailboxName.ancestors(of: name) where try mailboxID(of: account, named: parent) == nil {
            _ = try insertMailbox(account: account, name: parent, specialUse: [])
        }
        if let id = try mailboxID(of: account, named: name) {
            var existing = try requireMailbox(id)
            guard existing.isNoSelect else { throw MailStoreError.mailboxExists(name) }
            existing.isNoSelect = false
            existing.uidValidity = try nextUIDValidity()
            existing.specialUse = specialUse
            try save(existing)
            events.append(.mailboxListChanged(account: account))
            return existing
        }
        return try insertMailbox(account: account, name: name, specialUse: specialUse)
    }

    private func insertMailbox(account: AccountID, name: String, specialUse: SpecialUse) throws -> Mailbox {
        let id = MailboxID(rawValue: UInt32(truncatingIfNeeded: try nextCounter(Keys.nextMailbox)))
        let mailbox = Mailbox(id: id, account: account, name: name, uidValidity: try nextUIDValidity(),
                              specialUse: specialUse)
        try save(mailbox)
        try w.put(.mailboxNames, Keys.mailboxName(account, name), ByteWriter.u32Bytes(id.rawValue))
        events.append(.mailboxListChanged(account: account))
        return mailbox
    }

    /// Deletes a mailbox and its messages. One that has children stays as `\Noselect`
    /// (RFC 3501 §6.3.4). INBOX cannot be deleted.
    public func deleteMailbox(_ id: MailboxID) throws {
        var mailbox = try requireMailbox(id)
        if mailbox.name == "INBOX" { throw MailStoreError.cannotDeleteInbox }
        if try hasChildren(account: mailbox.account, name: mailbox.name) {
            if mailbox.isNoSelect { throw MailStoreError.mailboxNotSelectable(mailbox.name) }
            _ = try expunge(in: id, uids: try uids(in: id))
            mailbox = try requireMailbox(id)
            mailbox.isNoSelect = true
            mailbox.specialUse = []
            try save(mailbox)
            try dropAnnotations(account: mailbox.account, mailbox: id)
        } else {
            try removeMailboxRecord(mailbox)
        }
        events.append(.mailboxListChanged(account: mailbox.account))
    }

    /// Removes the mailbox record, its name, its messages and its change log.
    private func removeMailboxRecord(_ mailbox: Mailbox) throws {
        _ = try expunge(in: mailbox.id, uids: try uids(in: mailbox.id))
        try dropIndex(mailbox.id)
        try dropAnnotations(account: mailbox.account, mailbox: mailbox.id)
        var logKeys: [[UInt8]] = []
        try w.scan(.changes, prefix: Keys.mailboxPrefix(mailbox.id)) { k, _ in logKeys.append(Array(k)); return true }
        for k in logKeys { try w.delete(.changes, k) }
        try w.delete(.mailboxNames, Keys.mailboxName(mailbox.account, mailbox.name))
        try w.delete(.mailboxes, Keys.mailbox(mailbox.id))
    }

    /// Renames a mailbox and its children, keeping their UIDVALIDITY. Renaming INBOX moves its
    /// messages into a new mailbox and leaves INBOX empty (RFC 9051 §6.3.6).
    @discardableResult
    public func renameMailbox(_ id: MailboxID, to newName: String) throws -> Mailbox {
        let mailbox = try requireMailbox(id)
        let target = try MailboxName.normalize(newName)
        if try mailboxID(of: mailbox.account, named: target) != nil { throw MailStoreError.mailboxExists(target) }
        if target == mailbox.name || target.hasPrefix(mailbox.name + "/") {
            throw MailStoreError.invalidMailboxName(target, reason: "inside the mailbox being renamed")
        }
        if mailbox.name == "INBOX" {
            let created = try createMailbox(account: mailbox.account, name: target, specialUse: [])
            _ = try move(uids: try uids(in: id), from: id, to: created.id)
            return try requireMailbox(created.id)
        }
        for parent in MailboxName.ancestors(of: target) where try mailboxID(of: mailbox.account, named: parent) == nil {
            _ = try insertMailbox(account: mailbox.account, name: parent, specialUse: [])
        }
        let family = try mailboxes(of: mailbox.account).filter {
            $0.id == id || $0.name.hasPrefix(mailbox.name + "/")
        }
        for var member in family {
            try w.delete(.mailboxNames, Keys.mailboxName(member.account, member.name))
            member.name = target + member.name.dropFirst(mailbox.name.count)
            try save(member)
            try w.put(.mailboxNames, Keys.mailboxName(member.account, member.name), ByteWriter.u32Bytes(member.id.rawValue))
        }
        events.append(.mailboxListChanged(account: mailbox.account))
        return try requireMailbox(id)
    }

    public func setSpecialUse(_ id: MailboxID, _ specialUse: SpecialUse) throws {
        var mailbox = try requireMailbox(id)
        mailbox.specialUse = specialUse
        try save(mailbox)
        events.append(.mailboxListChanged(account: mailbox.account))
    }

    /// Subscribes or unsubscribes a name, which need not exist (RFC 9051 §6.3.7).
    public func setSubscribed(account: AccountID, name: String, _ subscribed: Bool) throws {
        let name = try MailboxName.normalize(name)
        _ = try requireAccount(account)
        let k = Keys.subscription(account, name)
        if subscribed { try w.put(.subscriptions, k, []) } else { try w.delete(.subscriptions, k) }
        events.append(.subscriptionsChanged(account: account))
    }

    /// Claims the `\Recent` messages of the mailbox for one session (IMAP4rev1): returns the
    /// first UID that is recent for the caller, and makes none recent for later callers.
    public func claimRecent(_ id: MailboxID) throws -> UID {
        var mailbox = try requireMailbox(id)
        let first = mailbox.firstRecentUID
        if first < mailbox.uidNext {
            mailbox.firstRecentUID = mailbox.uidNext
            try save(mailbox)
        }
        return first
    }

    // MARK: Keywords

    /// The keyword numbers for `names`, creating the missing ones. Sorted, without duplicates.
    /// Creating one advances `account.nextKeyword`: the caller saves the account.
    func keywordIDs(account: inout Account, names: [String]) throws -> [KeywordID] {
        var ids = Set<KeywordID>()
        for name in names {
            try Self.validateKeyword(name)
            if let id = try keywordID(of: account.id, named: name) {
                ids.insert(id)
            } else {
                let id = KeywordID(rawValue: account.nextKeyword)
                account.nextKeyword += 1
                try w.put(.keywords, Keys.keywordByName(account.id, Self.foldKeyword(name)), ByteWriter.u32Bytes(id.rawValue))
                try w.put(.keywords, Keys.keywordByID(account.id, id), Array(name.utf8))
                ids.insert(id)
            }
        }
        return ids.sorted()
    }

    /// A keyword is an IMAP atom that is not a system flag (RFC 9051 §9 `flag-keyword`).
    package static func validateKeyword(_ name: String) throws {
        let special = Set("(){ %*\"\\]".utf8)
        let bytes = Array(name.utf8)
        guard !bytes.isEmpty, bytes.count <= 255,
              !bytes.contains(where: { $0 <= 0x20 || $0 >= 0x7F || special.contains($0) })
        else { throw MailStoreError.invalidKeyword(name) }
    }
}

extension ByteWriter {
    static func u32Bytes(_ v: UInt32) -> [UInt8] { var w = ByteWriter(capacity: 4); w.u32(v); return w.bytes }
    static func u64Bytes(_ v: UInt64) -> [UInt8] { var w = ByteWriter(capacity: 8); w.u64(v); return w.bytes }
}

/// What a committed change touched. The change feed carries these.
public enum StoreEvent: Sendable, Equatable {
    /// Messages of the mailbox were appended, changed or expunged; its HIGHESTMODSEQ is now `modSeq`.
    case mailboxChanged(account: AccountID, mailbox: MailboxID, modSeq: ModSeq)
    /// Mailboxes of the account were created, deleted or renamed.
    case mailboxListChanged(account: AccountID)
    case subscriptionsChanged(account: AccountID)
    /// Annotations of the account (`mailbox` nil) or of one of its mailboxes were set or removed.
    case annotationsChanged(account: AccountID, mailbox: MailboxID?, names: [String])

    public var account: AccountID {
        switch self {
        case .mailboxChanged(let a, _, _), .mailboxListChanged(let a), .subscriptionsChanged(let a),
             .annotationsChanged(let a, _, _): a
        }
    }
}
