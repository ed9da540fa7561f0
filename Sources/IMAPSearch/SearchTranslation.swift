import IMAPProtocol
import MailMessage
import MailStore

/// What a search found in a session's view.
public struct SearchResult: Sendable {
    /// The matches' sequence numbers, ascending.
    public var seqs: [Int]
    /// The matches' records, in the same order; empty unless they were asked for.
    public var records: [MessageRecord]
    /// How the store's planner answered.
    public var plan: String
}

/// Answers an IMAP SEARCH key (RFC 9051 §6.4.4) over the selected mailbox through the store's
/// search planner: the key is translated into a `SearchQuery` against the session's view
/// (sequence numbers and `\Recent` become UIDs), and the matches are mapped back to the
/// session's sequence numbers.
public struct SearchEvaluator {
    let tx: StoreReader
    let mailbox: MailboxID
    /// The session's sequence map: sequence number n is `uids[n - 1]`.
    let uids: [UID]
    let recent: Set<UID>
    let now: Int64

    public init(tx: StoreReader, mailbox: MailboxID, uids: [UID], recent: Set<UID> = [], now: Int64) {
        self.tx = tx
        self.mailbox = mailbox
        self.uids = uids
        self.recent = recent
        self.now = now
    }

    /// The sequence numbers of the matching messages, ascending, with their records when
    /// `records` is true, and the planner's account of how it answered.
    public func run(_ key: SearchKey, records wantRecords: Bool = false) throws -> SearchResult {
        let outcome = try tx.search(in: mailbox, query(key), records: wantRecords)
        var result = SearchResult(seqs: [], records: [], plan: outcome.plan)
        result.seqs.reserveCapacity(outcome.uids.count)
        // Both runs are in UID order; messages the session has not been told of are left out.
        var index = 0
        for (i, uid) in outcome.uids.enumerated() {
            while index < uids.count && uids[index] < uid { index += 1 }
            guard index < uids.count, uids[index] == uid else { continue }
            result.seqs.append(index + 1)
            if wantRecords { result.records.append(outcome.records[i]) }
        }
        return result
    }

    public func query(_ key: SearchKey) -> SearchQuery {
        switch key {
        case .all, .saveDateSupported: return .all
        case .answered: return .flags(.answered)
        case .deleted: return .flags(.deleted)
        case .draft: return .flags(.draft)
        case .flagged: return .flags(.flagged)
        case .seen: return .flags(.seen)
        case .unanswered: return .not(.flags(.answered))
        case .undeleted: return .not(.flags(.deleted))
        case .undraft: return .not(.flags(.draft))
        case .unflagged: return .not(.flags(.flagged))
        case .unseen: return .not(.flags(.seen))
        case .recent: return .uids(recent.map { $0.rawValue...$0.rawValue })
        case .new: return .and([query(.recent), .not(.flags(.seen))])
        case .old: return .not(query(.recent))
        case .keyword(let k): return .keyword(k)
        case .unkeyword(let k): return .not(.keyword(k))
        case .larger(let n): return .larger(n)
        case .smaller(let n): return .smaller(n)
        case .before(let d): return .internalDate(.before(day: d.daysSince1970))
        case .on(let d): return .internalDate(.on(day: d.daysSince1970))
        case .since(let d): return .internalDate(.since(day: d.daysSince1970))
        case .sentBefore(let d): return .sentDate(.before(day: d.daysSince1970))
        case .sentOn(let d): return .sentDate(.on(day: d.daysSince1970))
        case .sentSince(let d): return .sentDate(.since(day: d.daysSince1970))
        case .savedBefore(let d): return .saveDate(.before(day: d.daysSince1970))
        case .savedOn(let d): return .saveDate(.on(day: d.daysSince1970))
        case .savedSince(let d): return .saveDate(.since(day: d.daysSince1970))
        case .uid(let set):
            return .uids(Self.ranges(set, last: uids.last?.rawValue ?? 0))
        case .sequenceSet(let set):
            // Sequence ranges map onto UID ranges: the store holds no UID between two of the
            // session's that the session does not know (new messages come after all of them).
            return .uids(Self.ranges(set, last: UInt32(uids.count)).compactMap { r in
                guard r.lowerBound >= 1, Int(r.lowerBound) <= uids.count else { return nil }
                return uids[Int(r.lowerBound) - 1].rawValue...uids[min(Int(r.upperBound), uids.count) - 1].rawValue
            })
        case .modSeq(let n): return .modSeq(atLeast: n)
        // RFC 5032: OLDER and YOUNGER compare the INTERNALDATE with now.
        case .older(let s): return .receivedAtOrBefore(now - Int64(s))
        case .younger(let s): return .receivedAtOrAfter(now - Int64(s))
        case .emailID(let id): return Self.objectNumber(id, "M").map { .emailID(EmailID(rawValue: $0)) } ?? .uids([])
        case .threadID(let id): return Self.objectNumber(id, "T").map { .threadID(ThreadID(rawValue: $0)) } ?? .uids([])
        case .from(let s): return .text(.from, s)
        case .to(let s): return .text(.to, s)
        case .cc(let s): return .text(.cc, s)
        case .bcc(let s): return .text(.bcc, s)
        case .subject(let s): return .text(.subject, s)
        case .body(let s): return .text(.body, s)
        case .text(let s): return .text(.text, s)
        case .header(let name, let s): return .header(name: name, s)
        case .not(let k): return .not(query(k))
        case .or(let a, let b): return .or(query(a), query(b))
        case .and(let keys): return .and(keys.map(query))
        }
    }

    /// The number in an object id the IMAP front end gave out (kind letter, then hex), or nil.
    static func objectNumber(_ id: String, _ kind: Character) -> UInt64? {
        guard id.first == kind else { return nil }
        return UInt64(id.dropFirst(), radix: 16)
    }

    /// A sequence set's ranges, with `*` as `last` and each range in ascending order.
    public static func ranges(_ set: SequenceSet, last: UInt32) -> [ClosedRange<UInt32>] {
        set.ranges.map { range in
            func value(_ s: SequenceNumber) -> UInt32 { if case .number(let v) = s { return v } else { return last } }
            let (a, b) = (value(range.first), value(range.last))
            return min(a, b)...max(a, b)
        }
    }

    public static func contains(_ set: SequenceSet, _ n: UInt32, last: UInt32) -> Bool {
        ranges(set, last: last).contains { $0.contains(n) }
    }
}
