/// The flag index: per mailbox, per system flag and per keyword, the UIDs of the messages that
/// have it, one empty record each (`Subspace.flagIndex`), written in the same transaction as
/// the message records. A search for a flag or keyword reads those UIDs instead of every
/// record; a message without flags costs nothing.
enum FlagIndex {
    /// A keyword's tag has this bit; a system flag's tag is its `MessageFlags` bit.
    static let keywordBit: UInt32 = 1 << 31

    /// The tags of a message's flags and keywords, in ascending order.
    static func tags(_ flags: MessageFlags, _ keywords: [KeywordID]) -> [UInt32] {
        var tags: [UInt32] = []
        var bits = flags.rawValue
        while bits != 0 {
            let bit = bits & (~bits &+ 1)
            tags.append(UInt32(bit))
            bits &= ~bit
        }
        for keyword in keywords { tags.append(keywordBit | keyword.rawValue) }
        return tags
    }

    static func tags(_ record: MessageRecord?) -> [UInt32] {
        record.map { tags($0.flags, $0.keywords) } ?? []
    }
}

extension StoreWriter {
    /// Keeps the flag index in step with message `uid` of `mailbox` going from `old` to `new`
    /// (nil: no such message).
    func indexFlags(_ mailbox: MailboxID, _ uid: UID, from old: MessageRecord?, to new: MessageRecord?) throws {
        let before = FlagIndex.tags(old), after = FlagIndex.tags(new)
        guard before != after else { return }
        for tag in before where !after.contains(tag) { try w.delete(.flagIndex, Keys.flagged(mailbox, tag, uid)) }
        for tag in after where !before.contains(tag) { try w.put(.flagIndex, Keys.flagged(mailbox, tag, uid), []) }
    }

    /// Writes the flag index of every message from the message records, replacing what was
    /// there (an upgrade).
    func rebuildFlagIndex() throws {
        try w.clear(.flagIndex)
        for account in try accounts() {
            for mailbox in try mailboxes(of: account.id) { try addFlagIndex(of: mailbox.id) }
        }
    }

    /// Writes the flag index of `mailbox` from its message records, replacing what was there
    /// (a repair).
    func rebuildFlagIndex(of mailbox: MailboxID) throws {
        try removeFlagIndex(of: mailbox)
        try addFlagIndex(of: mailbox)
    }

    /// Removes every flag-index entry of `mailbox`.
    func removeFlagIndex(of mailbox: MailboxID) throws {
        var keys: [[UInt8]] = []
        try w.scan(.flagIndex, prefix: Keys.mailboxPrefix(mailbox)) { k, _ in keys.append(Array(k)); return true }
        for key in keys { try w.delete(.flagIndex, key) }
    }

    private func addFlagIndex(of mailbox: MailboxID) throws {
        try forEachMessage(in: mailbox) { record in
            try indexFlags(mailbox, record.uid, from: nil, to: record)
            return true
        }
    }
}

extension StoreReader {
    /// The UIDs (below `universe`) of the messages of `mailbox` that have the flag or keyword
    /// of `tag`.
    func flaggedUIDs(_ mailbox: MailboxID, tag: UInt32, universe: UInt32) throws -> UIDBitmap {
        var set = UIDBitmap(universe: universe)
        try kv.scan(.flagIndex, prefix: Keys.flagged(mailbox, tag)) { k, _ in
            let uid = readU32(k, at: 8)
            if uid < universe { set.insert(uid) }
            return true
        }
        return set
    }

    /// Where the flag index of `mailbox` differs from its message records.
    func flagIndexProblems(_ mailbox: MailboxID) throws -> [String] {
        var expected = Set<[UInt8]>()
        try forEachMessage(in: mailbox) { record in
            for tag in FlagIndex.tags(record) { expected.insert(Keys.flagged(mailbox, tag, record.uid)) }
            return true
        }
        var problems: [String] = []
        try kv.scan(.flagIndex, prefix: Keys.mailboxPrefix(mailbox)) { k, _ in
            let key = Array(k)
            if expected.remove(key) == nil {
                problems.append("flag index holds UID \(readU32(k, at: 8)) under tag \(readU32(k, at: 4)), which its record lacks")
            }
            return true
        }
        for key in expected.sorted(by: { $0.lexicographicallyPrecedes($1) }) {
            let (tag, uid) = key.withUnsafeBytes { (readU32($0, at: 4), readU32($0, at: 8)) }
            problems.append("flag index lacks UID \(uid) under tag \(tag)")
        }
        return problems
    }
}
