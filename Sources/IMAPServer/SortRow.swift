import IMAPProtocol
import MailMessage
import MailStore

/// What SORT and THREAD compare of one message, read once from its record and, when a key
/// needs the header, from the parsed structure stored with it (RFC 5256 §2.2, §3; RFC 5957).
/// Strings are folded for comparison (`SortRow.fold`), so comparing them compares the keys.
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

        /// Whether anything comes from the header, so the stored structure must be read.
        var header: Bool { threading || keys.contains { $0 != .arrival && $0 != .size } }
    }

    /// At most this many References ids of one message take part in threading: the last ones,
    /// the nearest ancestors. RFC 5256 §2.2 sets no bound; this one keeps a hostile header from
    /// making a container per id (RFC 5322 §3.6.4 has no bound either; real threads are far shorter).
    static let maxReferences = 256

    /// The rows of the messages numbered `seqs` (ascending) in the session's map `uids`, in that order.
    static func read(_ tx: StoreReader, mailbox: MailboxID, uids: [UID], seqs: [Int], needs: Needs) throws -> [SortRow] {
        var rows: [SortRow] = []
        rows.reserveCapacity(seqs.count)
        guard let first = seqs.first, let last = seqs.last else { return rows }
        var next = 0
        // Both runs are in UID order: walk the wanted sequence numbers alongside the store.
        try tx.forEachMessage(in: mailbox, uids: uids[first - 1]...uids[last - 1]) { record in
            while next < seqs.count && uids[seqs[next] - 1] < record.uid { next += 1 }
            guard next < seqs.count else { return false }
            guard uids[seqs[next] - 1] == record.uid else { return true }
            rows.append(try row(tx, seq: seqs[next], record, needs: needs))
            next += 1
            return true
        }
        return rows
    }

    static func row(_ tx: StoreReader, seq: Int, _ record: MessageRecord, needs: Needs) throws -> SortRow {
        var row = SortRow(seq: seq, uid: record.uid)
        row.arrival = record.internalDate.seconds
        row.size = record.size
        row.sentDate = record.internalDate.seconds
        guard needs.header else { return row }
        let parsed = try tx.structure(of: record.content) ?? ParsedMessage.parse(try tx.content(record.content))
        if let date = parsed.sentDate { row.sentDate = date.secondsSince1970 }
        let keys = parsed.threading
        if needs.keys.contains(.subject) {
            row.subject = fold(keys.baseSubject)
            row.isReplyOrForward = keys.isReplyOrForward
        }
        // The first address of the envelope list as IMAP shows it: for a group, its start marker,
        // whose addr-mailbox is the group's name (RFC 9051 §7.5.2; Dovecot reads RFC 5256 so too).
        let envelope = parsed.envelope
        if needs.keys.contains(.from) { row.from = fold(envelope.from.first?.mailbox ?? "") }
        if needs.keys.contains(.to) { row.to = fold(envelope.to.first?.mailbox ?? "") }
        if needs.keys.contains(.cc) { row.cc = fold(envelope.cc.first?.mailbox ?? "") }
        if needs.keys.contains(.displayFrom) { row.displayFrom = fold(displayName(envelope.from)) }
        if needs.keys.contains(.displayTo) { row.displayTo = fold(displayName(envelope.to)) }
        if needs.threading {
            row.messageID = keys.messageID
            // RFC 5256 §2.2 step 1: without usable References, the first In-Reply-To id is the parent.
            row.references = keys.references.isEmpty ? Array(keys.inReplyTo.prefix(1))
                                                     : Array(keys.references.suffix(maxReferences))
        }
        return row
    }

    /// RFC 5957 §3: the decoded display name of the first address, else its addr-spec (a
    /// group's name).
    static func displayName(_ list: [Address]) -> String {
        guard let address = list.first else { return "" }
        if let name = address.decodedName, name.contains(where: { !$0.isWhitespace }) { return name }
        return address.addressSpec
    }

    /// Folding for comparison, as the store folds names: full Unicode lower-casing, an
    /// approximation of i;unicode-casemap (RFC 5051) that the rest of mstore uses too.
    static func fold(_ s: String) -> String {
        s.utf8.allSatisfy({ $0 < 0x80 && !($0 >= 0x41 && $0 <= 0x5A) }) ? s : s.lowercased()
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
