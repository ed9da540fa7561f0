import IMAPProtocol
import MailMessage
import MailStore

/// What SORT and THREAD compare of one message, read once from its record and, when a key
/// needs the header, from the sort keys the store keeps per message (RFC 5256 §2.2, §3;
/// RFC 5957). Strings come folded (`SearchFolding`), so comparing them compares the keys.
struct SortRow: Sendable {
    /// The message's sequence number: the tie-breaker of every order (RFC 5256 §3).
    let seq: Int
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

    /// What a command compares: only those keys are read and folded.
    struct Needs: Sendable {
        var keys: Set<SortKey>
        /// THREAD: sent date, base subject, Message-ID and References.
        var threading = false

        static let thread = Needs(keys: [.date, .subject], threading: true)

        /// Whether anything comes from the header, so the sort keys must be read.
        var header: Bool { threading || keys.contains { $0 != .arrival && $0 != .size } }

        /// The parts of the sort keys these keys compare (the sent date always comes along).
        var parts: SortKeys.Parts {
            var parts: SortKeys.Parts = []
            if keys.contains(.subject) { parts.insert(.subject) }
            if keys.contains(.from) || keys.contains(.to) || keys.contains(.cc) { parts.insert(.addresses) }
            if keys.contains(.displayFrom) || keys.contains(.displayTo) { parts.insert(.displayNames) }
            if threading { parts.insert(.threading) }
            return parts
        }
    }

    /// The rows of the messages numbered `seqs` (ascending) in the session's map `uids`, in that
    /// order: INTERNALDATE and size from the message records, the rest from the store's
    /// per-message sort keys (no message is parsed).
    static func read(_ tx: StoreReader, mailbox: MailboxID, uids: [UID], seqs: [Int], needs: Needs) throws -> [SortRow] {
        var rows: [SortRow] = []
        rows.reserveCapacity(seqs.count)
        guard let first = seqs.first, let last = seqs.last else { return rows }
        let range = uids[first - 1]...uids[last - 1]
        var next = 0
        // Both runs are in UID order: walk the wanted sequence numbers alongside the store.
        try tx.forEachMessage(in: mailbox, uids: range) { record in
            while next < seqs.count && uids[seqs[next] - 1] < record.uid { next += 1 }
            guard next < seqs.count else { return false }
            guard uids[seqs[next] - 1] == record.uid else { return true }
            var row = SortRow(seq: seqs[next], uid: record.uid)
            row.arrival = record.internalDate.seconds
            row.size = record.size
            row.sentDate = record.internalDate.seconds
            rows.append(row)
            next += 1
            return true
        }
        guard needs.header else { return rows }
        var index = 0
        try tx.forEachSortKeys(in: mailbox, uids: range, parts: needs.parts) { uid, keys in
            while index < rows.count && rows[index].uid < uid { index += 1 }
            guard index < rows.count else { return false }
            guard rows[index].uid == uid else { return true }
            rows[index].fill(keys, needs)
            return true
        }
        return rows
    }

    private mutating func fill(_ keys: SortKeys, _ needs: Needs) {
        if let date = keys.sentDate { sentDate = date }
        if needs.keys.contains(.subject) {
            subject = keys.baseSubject
            isReplyOrForward = keys.isReplyOrForward
        }
        if needs.keys.contains(.from) { from = keys.from }
        if needs.keys.contains(.to) { to = keys.to }
        if needs.keys.contains(.cc) { cc = keys.cc }
        if needs.keys.contains(.displayFrom) { displayFrom = keys.displayFrom }
        if needs.keys.contains(.displayTo) { displayTo = keys.displayTo }
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

    /// The sequence numbers of `rows` in sort order. Indices are sorted, not the rows: moving
    /// rows would copy (and retain) every string in them at each step of the sort.
    func order(_ rows: [SortRow]) -> [Int] {
        rows.indices.sorted { a, b in
            for criterion in criteria {
                let order = Self.compare(criterion.key, rows[a], rows[b])
                if order != 0 { return criterion.reverse ? order > 0 : order < 0 }
            }
            return rows[a].seq < rows[b].seq
        }.map { rows[$0].seq }
    }

    /// -1, 0 or 1 as `a`'s key is below, equal to or above `b`'s.
    static func compare(_ key: SortKey, _ a: SortRow, _ b: SortRow) -> Int {
        switch key {
        case .arrival: return compare(a.arrival, b.arrival)
        case .date: return compare(a.sentDate, b.sentDate)
        case .size: return compare(a.size, b.size)
        case .subject: return compare(a.subject, b.subject)
        case .from: return compare(a.from, b.from)
        case .to: return compare(a.to, b.to)
        case .cc: return compare(a.cc, b.cc)
        case .displayFrom: return compare(a.displayFrom, b.displayFrom)
        case .displayTo: return compare(a.displayTo, b.displayTo)
        }
    }

    static func compare<T: Comparable>(_ a: T, _ b: T) -> Int { a < b ? -1 : a == b ? 0 : 1 }

    /// Folded strings compare by code point (UTF-8 order), the order of i;unicode-casemap keys.
    static func compare(_ a: String, _ b: String) -> Int {
        var i = a.utf8.makeIterator(), j = b.utf8.makeIterator()
        while true {
            switch (i.next(), j.next()) {
            case (nil, nil): return 0
            case (nil, _): return -1
            case (_, nil): return 1
            case (let x?, let y?): if x != y { return x < y ? -1 : 1 }
            }
        }
    }
}
