/// Indexes derived from the message records, written in the same transaction as the records,
/// one empty value per entry:
/// - the flag index (`Subspace.flagIndex`): per mailbox, per system flag and per keyword, the
///   UIDs of the messages that have it; a message without flags costs nothing;
/// - the date index (`Subspace.dateIndex`): per mailbox, the UIDs by the day of their internal
///   date, in the zone it was recorded in (what SINCE, ON and BEFORE compare);
/// - the size index (`Subspace.sizeIndex`): per mailbox, the UIDs by size class (four classes
///   per doubling), so LARGER and SMALLER read exactly the messages of one class and take the
///   classes beyond it whole. Classes, not sizes, keep new messages at the end of a few runs of
///   keys, as days do, rather than at a random place in the mailbox's range.
/// A search for a flag, a keyword, an internal-date or a size range reads these instead of
/// every record.
enum RecordIndex {
    /// A keyword's tag has this bit; a system flag's tag is its `MessageFlags` bit.
    static let keywordBit: UInt32 = 1 << 31

    /// The tags of flags and keywords, system flags first, in bit order.
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

    /// A day number as a key part that sorts as the days do.
    static func dayKey(_ day: Int) -> UInt32 {
        UInt32(bitPattern: Int32(clamping: day)) ^ 0x8000_0000
    }

    /// The day number of a `dayKey`.
    static func day(fromKey key: UInt32) -> Int { Int(Int32(bitPattern: key ^ 0x8000_0000)) }

    /// The size class of `size`: the size itself below 4, then four classes per power of two
    /// (the highest bit and the two below it). A larger size never has a smaller class.
    static func sizeClass(_ size: Int) -> UInt32 {
        guard size >= 4 else { return UInt32(max(size, 0)) }
        let high = Int.bitWidth - 1 - size.leadingZeroBitCount
        return UInt32(high * 4 + (size >> (high - 2)) & 3)
    }

    struct Entry: Hashable {
        let space: Subspace
        let key: [UInt8]
    }

    /// The entries of message `record` of `mailbox` (none for nil).
    static func entries(_ mailbox: MailboxID, _ record: MessageRecord?) -> [Entry] {
        guard let record else { return [] }
        var entries = tags(record.flags, record.keywords).map {
            Entry(space: .flagIndex, key: Keys.flagged(mailbox, $0, record.uid))
        }
        let day = SearchPlanner.day(record.internalDate.seconds, Int(record.internalDate.zoneMinutes))
        entries.append(Entry(space: .dateIndex, key: Keys.dated(mailbox, dayKey(day), record.uid)))
        entries.append(Entry(space: .sizeIndex, key: Keys.sized(mailbox, sizeClass(record.size), record.uid)))
        return entries
    }

    static let spaces: [Subspace] = [.flagIndex, .dateIndex, .sizeIndex]
}

extension StoreWriter {
    /// Keeps the record indexes in step with message `uid` of `mailbox` going from `old` to
    /// `new` (nil: no such message).
    func indexRecord(_ mailbox: MailboxID, _ uid: UID, from old: MessageRecord?, to new: MessageRecord?) throws {
        let before = RecordIndex.entries(mailbox, old), after = RecordIndex.entries(mailbox, new)
        guard before != after else { return }
        for e in before where !after.contains(e) { try w.delete(e.space, e.key) }
        for e in after where !before.contains(e) { try w.put(e.space, e.key, []) }
    }

    /// Writes the record indexes of every message, replacing what was there (an upgrade).
    func rebuildRecordIndexes() throws {
        for space in RecordIndex.spaces { try w.clear(space) }
        for account in try accounts() {
            for mailbox in try mailboxes(of: account.id) { try addRecordIndexes(of: mailbox.id) }
        }
    }

    /// Writes the record indexes of `mailbox` from its message records, replacing what was
    /// there (a repair).
    func rebuildRecordIndexes(of mailbox: MailboxID) throws {
        try removeRecordIndexes(of: mailbox)
        try addRecordIndexes(of: mailbox)
    }

    /// Removes every record-index entry of `mailbox`.
    func removeRecordIndexes(of mailbox: MailboxID) throws {
        for space in RecordIndex.spaces {
            var keys: [[UInt8]] = []
            try w.scan(space, prefix: Keys.mailboxPrefix(mailbox)) { k, _ in keys.append(Array(k)); return true }
            for key in keys { try w.delete(space, key) }
        }
    }

    private func addRecordIndexes(of mailbox: MailboxID) throws {
        try forEachMessage(in: mailbox) { record in
            try indexRecord(mailbox, record.uid, from: nil, to: record)
            return true
        }
    }
}

extension StoreReader {
    /// The UIDs (below `universe`) of the messages of `mailbox` that have the flag or keyword
    /// of `tag`.
    func flaggedUIDs(_ mailbox: MailboxID, tag: UInt32, universe: UInt32) throws -> UIDBitmap {
        let upper = tag == .max ? Keys.mailboxEnd(mailbox) : Keys.flagged(mailbox, tag + 1)
        return try indexedUIDs(.flagIndex, from: Keys.flagged(mailbox, tag), to: upper, universe: universe)
    }

    /// The UIDs (below `universe`) of the messages of `mailbox` whose internal date's day is in
    /// `days`.
    func datedUIDs(_ mailbox: MailboxID, days: Range<Int>, universe: UInt32) throws -> UIDBitmap {
        guard !days.isEmpty else { return UIDBitmap(universe: universe) }
        let upper = days.upperBound > Int(Int32.max) ? Keys.mailboxEnd(mailbox)
            : Keys.dated(mailbox, RecordIndex.dayKey(days.upperBound))
        return try indexedUIDs(.dateIndex, from: Keys.dated(mailbox, RecordIndex.dayKey(days.lowerBound)), to: upper,
                               universe: universe)
    }

    /// The UIDs (below `universe`) of the messages of `mailbox` whose size class is in
    /// `classes`, in class order (not UID order).
    func sizedUIDs(_ mailbox: MailboxID, classes: ClosedRange<UInt32>, universe: UInt32,
                   _ body: (UInt32) throws -> Void) throws {
        let upper = classes.upperBound == .max ? Keys.mailboxEnd(mailbox) : Keys.sized(mailbox, classes.upperBound + 1)
        try forEachIndexedUID(.sizeIndex, from: Keys.sized(mailbox, classes.lowerBound), to: upper, universe: universe, body)
    }

    /// The UIDs below `universe` of the record-index entries from `lower` to before `upper`, as
    /// a set.
    private func indexedUIDs(_ space: Subspace, from lower: [UInt8], to upper: [UInt8]?, universe: UInt32) throws -> UIDBitmap {
        var set = UIDBitmap(universe: universe)
        try forEachIndexedUID(space, from: lower, to: upper, universe: universe) { set.insert($0) }
        return set
    }

    /// The UID of each record-index entry from `lower` to before `upper` (all three indexes
    /// end their keys with it, after mailbox and tag, day or class), below `universe`.
    private func forEachIndexedUID(_ space: Subspace, from lower: [UInt8], to upper: [UInt8]?, universe: UInt32,
                                   _ body: (UInt32) throws -> Void) throws {
        try kv.scan(space, from: lower, to: upper, reverse: false) { k, _ in
            let uid = readU32(k, at: 8)
            if uid < universe { try body(uid) }
            return true
        }
    }

    /// The lowest and the highest day key (`dateIndex`) or size class (`sizeIndex`) that
    /// `mailbox` has in `space`; nil when it has none. Two reads of the index.
    func indexSpan(_ space: Subspace, _ mailbox: MailboxID) throws -> ClosedRange<UInt32>? {
        func first(reverse: Bool) throws -> UInt32? {
            var found: UInt32?
            try kv.scan(space, prefix: Keys.mailboxPrefix(mailbox), reverse: reverse) { k, _ in
                found = readU32(k, at: 4)
                return false
            }
            return found
        }
        guard let low = try first(reverse: false), let high = try first(reverse: true) else { return nil }
        return low...high
    }

    /// The mailboxes that no longer exist but still have entries in the record index `space`.
    /// One read per mailbox present (the scan jumps past each mailbox's entries), not per entry.
    func deletedMailboxes(inRecordIndex space: Subspace) throws -> Set<MailboxID> {
        var gone = Set<MailboxID>()
        var from: [UInt8]? = []
        while let lower = from {
            from = nil
            try kv.scan(space, from: lower, to: nil, reverse: false) { k, _ in
                let id = MailboxID(rawValue: readU32(k, at: 0))
                if try mailbox(id) == nil { gone.insert(id) }
                from = Keys.mailboxEnd(id)
                return false
            }
        }
        return gone
    }

    /// Where the record indexes of `mailbox` differ from its message records.
    func recordIndexProblems(_ mailbox: MailboxID) throws -> [String] {
        var expected = Set<RecordIndex.Entry>()
        try forEachMessage(in: mailbox) { record in
            expected.formUnion(RecordIndex.entries(mailbox, record))
            return true
        }
        var problems: [String] = []
        func describe(_ e: RecordIndex.Entry) -> String {
            e.key.withUnsafeBytes { "UID \(readU32($0, at: 8)) under \(readU32($0, at: 4))" }
        }
        for space in RecordIndex.spaces {
            try kv.scan(space, prefix: Keys.mailboxPrefix(mailbox)) { k, _ in
                let entry = RecordIndex.Entry(space: space, key: Array(k))
                if expected.remove(entry) == nil { problems.append("\(space) holds \(describe(entry)), which its record does not give") }
                return true
            }
        }
        for entry in expected.sorted(by: { $0.key.lexicographicallyPrecedes($1.key) }) {
            problems.append("\(entry.space) lacks \(describe(entry))")
        }
        return problems
    }
}
