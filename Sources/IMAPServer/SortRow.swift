import IMAPProtocol
import IMAPSearch
import MailMessage
import MailStore
#if canImport(Glibc)
import Glibc
#endif

/// What SORT and THREAD compare of one message, read once from its record and, when a key
/// needs the header, from the sort keys the store keeps per message (RFC 5256 §2.2, §3;
/// RFC 5957). Strings come folded (`SearchFolding`), so comparing them compares the keys.
struct SortRow: Sendable {
    /// The message's sequence number: the tie-breaker of every order (RFC 5256 §3).
    var seq: Int
    let uid: UID
    /// INTERNALDATE, seconds since 1970 UTC (ARRIVAL).
    var arrival: Int64 = 0
    /// RFC822.SIZE (SIZE).
    var size = 0
    /// The Date: header in UTC, or the INTERNALDATE without one (RFC 5256 §2.2 "sent date").
    var sentDate: Int64 = 0
    /// The base subject, folded (RFC 5256 §2.1).
    var subject = ""
    /// Whether the subject had a reply or forward marker (RFC 5256 §2.2 step 5).
    var isReplyOrForward = false
    /// The addr-mailbox of the first From, To and Cc address, folded.
    var from = "", to = "", cc = ""
    /// The display name of the first From and To address, else its address, folded (RFC 5957 §3).
    var displayFrom = "", displayTo = ""
    /// The Message-ID, and the parents REFERENCES links (References, else the first In-Reply-To id).
    var messageID: String?
    var references: [String] = []

    /// What a command compares: only those keys are read.
    struct Needs: Sendable {
        var subject = false, from = false, to = false, cc = false, displayFrom = false, displayTo = false
        /// THREAD: sent date, base subject, Message-ID and References.
        var threading = false
        /// Whether anything comes from the header, so the sort keys must be read.
        var header = false
        /// Whether anything comes from the message records: ARRIVAL, SIZE, and the sent date
        /// (DATE, THREAD), which falls back to the INTERNALDATE.
        var record = false

        init(keys: Set<SortKey>, threading: Bool = false) {
            subject = keys.contains(.subject)
            from = keys.contains(.from)
            to = keys.contains(.to)
            cc = keys.contains(.cc)
            displayFrom = keys.contains(.displayFrom)
            displayTo = keys.contains(.displayTo)
            self.threading = threading
            header = threading || keys.contains { $0 != .arrival && $0 != .size }
            record = threading || keys.contains { $0 == .arrival || $0 == .size || $0 == .date }
        }

        static let thread = Needs(keys: [.date, .subject], threading: true)

        /// Needs every key of `parts` (and so the sort keys).
        mutating func set(_ parts: SortKeys.Parts) {
            header = true
            if parts.contains(.subject) { subject = true }
            if parts.contains(.addresses) { from = true; to = true; cc = true }
            if parts.contains(.displayNames) { displayFrom = true; displayTo = true }
            if parts.contains(.threading) { threading = true }
        }

        /// The parts of the sort keys these keys compare (the sent date always comes along).
        var parts: SortKeys.Parts {
            var parts: SortKeys.Parts = []
            if subject { parts.insert(.subject) }
            if from || to || cc { parts.insert(.addresses) }
            if displayFrom || displayTo { parts.insert(.displayNames) }
            if threading { parts.insert(.threading) }
            return parts
        }
    }

    /// The rows of `matches`, in that order: INTERNALDATE and size from the records (which
    /// `matches` carries when `needs.record`), the rest from the store's per-message sort keys
    /// (no message is parsed). `uids` is the session's sequence map.
    static func read(_ tx: StoreReader, mailbox: MailboxID, _ matches: SearchResult, uids: [UID],
                     needs: Needs) throws -> [SortRow] {
        var rows = needs.record
            ? zip(matches.seqs, matches.records).map { seq, record in
                SortRow(seq: seq, uid: record.uid, arrival: record.internalDate.seconds, size: record.size,
                        sentDate: record.internalDate.seconds)
            }
            : matches.seqs.map { SortRow(seq: $0, uid: uids[$0 - 1]) }
        try fill(&rows, tx, mailbox: mailbox, needs: needs)
        return rows
    }

    /// Fills in what `needs` takes from the sort keys, for `rows` in UID order.
    static func fill(_ rows: inout [SortRow], _ tx: StoreReader, mailbox: MailboxID, needs: Needs) throws {
        guard needs.header, let first = rows.first?.uid, let last = rows.last?.uid else { return }
        var index = 0
        // Both runs are in UID order: walk the rows alongside the store.
        try tx.forEachSortKeys(in: mailbox, uids: first...last, parts: needs.parts) { uid, keys in
            while index < rows.count && rows[index].uid < uid { index += 1 }
            guard index < rows.count else { return false }
            guard rows[index].uid == uid else { return true }
            rows[index].fill(keys, needs)
            return true
        }
    }

    private mutating func fill(_ keys: SortKeys, _ needs: Needs) {
        if let date = keys.sentDate { sentDate = date }
        if needs.subject {
            subject = keys.baseSubject
            isReplyOrForward = keys.isReplyOrForward
        }
        if needs.from { from = keys.from }
        if needs.to { to = keys.to }
        if needs.cc { cc = keys.cc }
        if needs.displayFrom { displayFrom = keys.displayFrom }
        if needs.displayTo { displayTo = keys.displayTo }
        if needs.threading {
            messageID = keys.messageID
            references = keys.parents
        }
    }
}

/// Orders rows by SORT criteria (RFC 5256 §3): each key in turn, REVERSE flipping only its own
/// key, and the sequence number last, always ascending.
struct MessageSorter {
    let criteria: [SortCriterion]

    /// The sequence numbers of `rows` (in sequence-number order) in sort order.
    func order(_ rows: [SortRow]) -> [Int] { indices(rows).map { rows[$0].seq } }

    /// The indices of `rows` (in sequence-number order) in sort order.
    ///
    /// Each criterion's keys are first ranked on their own (equal keys, equal ranks; strings as
    /// their UTF-8 bytes in one buffer), then the rows are sorted by their ranks. Comparing rows
    /// themselves would retain and release every string of both rows at each step of the sort,
    /// which made a 100,000-message SORT (DATE) spend most of its time in reference counting.
    func indices(_ rows: [SortRow]) -> [Int] {
        Self.order(count: rows.count, columns: criteria.map { criterion in
            Self.ranks(criterion.key, rows).map { criterion.reverse ? -$0 : $0 }
        })
    }

    /// The indices `0..<count` sorted by `columns` (one rank per index each, compared in turn),
    /// then by index.
    static func order(count: Int, columns: [[Int32]]) -> [Int] {
        let width = columns.count
        var ranks = [Int32](repeating: 0, count: count * width)
        for (column, values) in columns.enumerated() {
            for index in 0..<count { ranks[index * width + column] = values[index] }
        }
        var order = Array(0..<count)
        ranks.withUnsafeBufferPointer { ranks in
            order.sort { a, b in
                for column in 0..<width where ranks[a * width + column] != ranks[b * width + column] {
                    return ranks[a * width + column] < ranks[b * width + column]
                }
                return a < b  // indices are in sequence-number order
            }
        }
        return order
    }

    /// Each row's rank by `key` alone: 0 for the lowest key, equal keys equal ranks.
    static func ranks(_ key: SortKey, _ rows: [SortRow]) -> [Int32] {
        switch key {
        case .arrival: return ranks(rows.map(\.arrival))
        case .date: return ranks(rows.map(\.sentDate))
        case .size: return ranks(rows.map { Int64($0.size) })
        case .subject: return ranks(TextColumn(rows.map(\.subject)))
        case .from: return ranks(TextColumn(rows.map(\.from)))
        case .to: return ranks(TextColumn(rows.map(\.to)))
        case .cc: return ranks(TextColumn(rows.map(\.cc)))
        case .displayFrom: return ranks(TextColumn(rows.map(\.displayFrom)))
        case .displayTo: return ranks(TextColumn(rows.map(\.displayTo)))
        }
    }

    private static func ranks(_ keys: [Int64]) -> [Int32] {
        keys.withUnsafeBufferPointer { keys in
            ranks(count: keys.count, less: { keys[$0] < keys[$1] }, equal: { keys[$0] == keys[$1] })
        }
    }

    private static func ranks(_ column: TextColumn) -> [Int32] {
        column.bytes.withUnsafeBufferPointer { bytes in
            column.starts.withUnsafeBufferPointer { starts in
                func compare(_ a: Int, _ b: Int) -> Int {
                    let (la, lb) = (starts[a + 1] - starts[a], starts[b + 1] - starts[b])
                    let common = min(la, lb)
                    if common > 0, let base = bytes.baseAddress {
                        let order = memcmp(base + starts[a], base + starts[b], common)
                        if order != 0 { return Int(order) }
                    }
                    return la - lb
                }
                return ranks(count: starts.count - 1, less: { compare($0, $1) < 0 }, equal: { compare($0, $1) == 0 })
            }
        }
    }

    /// Dense ranks of `count` keys from a comparison of key indices.
    private static func ranks(count: Int, less: (Int, Int) -> Bool, equal: (Int, Int) -> Bool) -> [Int32] {
        var order = Array(0..<count)
        order.sort(by: less)
        var ranks = [Int32](repeating: 0, count: count)
        var rank: Int32 = 0
        for (position, index) in order.enumerated() {
            if position > 0 && !equal(order[position - 1], index) { rank += 1 }
            ranks[index] = rank
        }
        return ranks
    }

    /// Strings as one buffer of UTF-8 bytes: string i is `bytes[starts[i]..<starts[i + 1]]`.
    private struct TextColumn {
        var bytes: [UInt8] = []
        var starts: [Int] = [0]

        init(_ strings: [String]) {
            starts.reserveCapacity(strings.count + 1)
            for s in strings {
                bytes.append(contentsOf: s.utf8)
                starts.append(bytes.count)
            }
        }
    }
}
