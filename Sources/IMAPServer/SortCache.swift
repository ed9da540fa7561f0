import IMAPProtocol
import MailStore
import NIOConcurrencyHelpers

/// What SORT compares of the messages of recently sorted mailboxes, with each key's ranks,
/// shared by every session of the process.
///
/// A message's sort row never changes (its UID, INTERNALDATE, size and header are fixed), so
/// a row read once serves every later SORT; new messages add rows, and a key's ranks are
/// computed again only after rows were added. A SORT then gathers the ranks of the messages it
/// matched and sorts integers: no record or header is read and no string compared. Rows of
/// expunged messages stay until the mailbox is read afresh (they never match).
final class SortCache: Sendable {
    /// Most rows kept over all cached mailboxes.
    static let maxCachedRows = 2 * 1024 * 1024
    /// Mailboxes this small are sorted from the store each time.
    static let minCachedMessages = 1024

    private struct Entry: Sendable {
        var uidValidity: UInt32
        /// The rows' UIDs, ascending.
        var uids: [UID] = []
        var rows: [SortRow] = []
        /// What each row holds beyond its record: the sort-key parts read, nil when none were.
        var parts: SortKeys.Parts?
        /// Each key's ranks over all rows, for rows as they are now.
        var ranks: [SortKey: [Int32]] = [:]
    }

    private let state = NIOLockedValueBox(MailboxLRU<Entry>(maxWeight: maxCachedRows))

    /// Whether `mailbox` is big enough to cache, and small enough.
    static func caches(_ mailbox: Mailbox) -> Bool {
        mailbox.messages >= minCachedMessages && mailbox.messages <= maxCachedRows
    }

    /// The sequence numbers `seqs` (ascending, the matches of a search in the snapshot `tx`)
    /// in the order of `criteria`, or nil when `mailbox` is too small or too big to cache.
    func order(_ tx: StoreReader, _ mailbox: Mailbox, criteria: [SortCriterion], seqs: [Int], uids: [UID]) throws -> [Int]? {
        let keys = Set(criteria.map(\.key))
        return try withRows(tx, mailbox, SortRow.Needs(keys: keys), seqs: seqs, uids: uids) { entry, rowIndices in
            for key in keys where entry.ranks[key] == nil {
                entry.ranks[key] = MessageSorter.ranks(key, entry.rows)
            }
            let order = MessageSorter.order(count: seqs.count, columns: criteria.map { criterion in
                let ranks = entry.ranks[criterion.key]!
                return rowIndices.map { criterion.reverse ? -ranks[$0] : ranks[$0] }
            })
            return order.map { seqs[$0] }
        }
    }

    /// The rows THREAD (or another reader of whole rows) needs of the matches `seqs`, numbered
    /// by them; nil as for `order`.
    func rows(_ tx: StoreReader, _ mailbox: Mailbox, needs: SortRow.Needs, seqs: [Int], uids: [UID]) throws -> [SortRow]? {
        try withRows(tx, mailbox, needs, seqs: seqs, uids: uids) { entry, rowIndices in
            zip(seqs, rowIndices).map { seq, index in
                var row = entry.rows[index]
                row.seq = seq
                return row
            }
        }
    }

    /// Runs `body` with the cached entry of `mailbox`, brought up to date for `needs`, and the
    /// index of each match's row; nil when the mailbox is not cached or a match has no row.
    private func withRows<T>(_ tx: StoreReader, _ mailbox: Mailbox, _ needs: SortRow.Needs, seqs: [Int], uids: [UID],
                             _ body: (inout Entry, [Int]) throws -> T) throws -> T? {
        guard Self.caches(mailbox) else { return nil }
        var entry = state.withLockedValue { $0.use(mailbox.id) } ?? Entry(uidValidity: mailbox.uidValidity)
        try bringUpToDate(&entry, tx, mailbox, needs)
        defer { state.withLockedValue { $0.put(entry, weight: entry.rows.count, for: mailbox.id) } }
        // Each match's row: both runs ascend by UID.
        var rowIndices: [Int] = []
        rowIndices.reserveCapacity(seqs.count)
        var next = 0
        for seq in seqs {
            let uid = uids[seq - 1]
            while next < entry.uids.count && entry.uids[next] < uid { next += 1 }
            guard next < entry.uids.count, entry.uids[next] == uid else { return nil }
            rowIndices.append(next)
        }
        return try body(&entry, rowIndices)
    }

    /// Reads the rows `entry` lacks: all of them for a new mailbox incarnation, a key part not
    /// read yet, or many expunged rows; else only the messages added since.
    private func bringUpToDate(_ entry: inout Entry, _ tx: StoreReader, _ mailbox: Mailbox, _ needs: SortRow.Needs) throws {
        let wanted: SortKeys.Parts? = needs.header ? needs.parts : nil
        let covers = wanted.map { want in entry.parts.map { $0.isSuperset(of: want) } ?? false } ?? true
        if entry.uidValidity != mailbox.uidValidity || !covers || entry.rows.count > 2 * mailbox.messages {
            let parts = wanted.map { $0.union(entry.parts ?? []) } ?? entry.parts
            entry = Entry(uidValidity: mailbox.uidValidity, parts: parts)
        }
        let from = UID((entry.uids.last?.rawValue ?? 0) + 1)
        guard from < mailbox.uidNext else { return }
        var added: [SortRow] = []
        try tx.forEachMessage(in: mailbox.id, uids: from...UID(.max)) { record in
            added.append(SortRow(seq: 0, uid: record.uid, arrival: record.internalDate.seconds, size: record.size,
                                 sentDate: record.internalDate.seconds))
            return true
        }
        if let parts = entry.parts {
            var fill = SortRow.Needs(keys: [])
            fill.set(parts)
            try SortRow.fill(&added, tx, mailbox: mailbox.id, needs: fill)
        }
        guard !added.isEmpty else { return }
        entry.uids += added.map(\.uid)
        entry.rows += added
        entry.ranks = [:]
    }
}
