import IMAPProtocol
import MailStore

/// The session's view of its selected mailbox: the sequence-number-to-UID map and what the
/// client has not been told yet (RFC 9051 §5.5, §7.5.1). Only the session's event loop touches it.
struct SelectedMailbox {
    let id: MailboxID
    let name: String
    let uidValidity: UInt32
    let readOnly: Bool
    /// Sequence number n is `uids[n - 1]`; ascending.
    private(set) var uids: [UID]
    /// Every change up to this modseq is reflected here, announced or pending.
    private(set) var knownModSeq: ModSeq
    /// UIDs expunged in the store but still numbered, because no EXPUNGE could be sent yet.
    private(set) var pendingExpunges: Set<UID> = []
    /// UIDs that are `\Recent` for this session (IMAP4rev1 only).
    private(set) var recent: Set<UID>
    /// Flag changes this session made and already reported: not announced again.
    private var reported: [UID: ModSeq] = [:]
    /// The result SEARCH RETURN (SAVE) kept for `$`, ascending (RFC 5182). It lives and dies
    /// with the selection: SELECT, EXAMINE, CLOSE and UNSELECT start without one.
    private(set) var savedResult: [UID] = []
    /// Searches kept current for the client (RFC 5267 §4), in the order they were made. They
    /// too live and die with the selection.
    var contexts: [SearchContext] = []

    init(mailbox: Mailbox, uids: [UID], readOnly: Bool, firstRecent: UID) {
        id = mailbox.id
        name = mailbox.name
        uidValidity = mailbox.uidValidity
        self.readOnly = readOnly
        self.uids = uids
        knownModSeq = mailbox.highestModSeq
        recent = Set(uids.reversed().prefix { $0 >= firstRecent })
    }

    var count: Int { uids.count }
    var lastUID: UID { uids.last ?? UID(0) }

    /// The sequence number of `uid`, if it is in the map.
    func sequence(of uid: UID) -> Int? {
        let index = lowerBound(uid)
        return index < uids.count && uids[index] == uid ? index + 1 : nil
    }

    func isExpunged(_ uid: UID) -> Bool { pendingExpunges.contains(uid) }

    enum ResolveError: Error { case outOfRange }

    /// The sequence numbers a set names, ascending and without repeats. Message numbers must
    /// exist (RFC 9051 §9 seq-number); UIDs that do not exist are left out (§6.4.8).
    func resolve(_ set: SequenceSet, uid: Bool) throws(ResolveError) -> [Int] {
        guard !uids.isEmpty else {
            if uid { return [] }
            throw .outOfRange
        }
        var picked: [ClosedRange<Int>] = []
        for range in set.ranges {
            if uid {
                func value(_ n: SequenceNumber) -> UInt32 {
                    if case .number(let v) = n { return v }
                    return lastUID.rawValue
                }
                let (a, b) = (value(range.first), value(range.last))
                let low = UID(min(a, b)), high = UID(max(a, b))
                let start = lowerBound(low)
                var end = lowerBound(high)
                if end < uids.count && uids[end] == high { end += 1 }
                if start < end { picked.append((start + 1)...end) }
            } else {
                func value(_ n: SequenceNumber) -> Int {
                    if case .number(let v) = n { return Int(v) }
                    return uids.count
                }
                let (a, b) = (value(range.first), value(range.last))
                guard min(a, b) >= 1, max(a, b) <= uids.count else { throw .outOfRange }
                picked.append(min(a, b)...max(a, b))
            }
        }
        if picked.count == 1 { return Array(picked[0]) }
        picked.sort { $0.lowerBound < $1.lowerBound }
        var result: [Int] = []
        var next = 1
        for r in picked where r.upperBound >= next {
            result.append(contentsOf: max(r.lowerBound, next)...r.upperBound)
            next = r.upperBound + 1
        }
        return result
    }

    private func lowerBound(_ uid: UID) -> Int {
        var low = 0, high = uids.count
        while low < high {
            let mid = (low + high) / 2
            if uids[mid] < uid { low = mid + 1 } else { high = mid }
        }
        return low
    }

    /// Keeps `uids` as the saved search result (RFC 5182 §2.1).
    mutating func save(_ uids: [UID]) {
        savedResult = uids.sorted()
    }

    /// The sequence numbers and UIDs of the saved result's messages still in the map.
    var savedTargets: [(Int, UID)] {
        savedResult.compactMap { uid in sequence(of: uid).map { ($0, uid) } }
    }

    /// Remembers flag changes this session has reported, so the change log does not echo them.
    mutating func noteReported(_ records: [MessageRecord]) {
        for r in records { reported[r.uid] = r.modSeq }
    }

    /// Messages just taken out of the map, and what the updating searches say about it.
    struct Removal {
        /// Each one's sequence number (at the time its EXPUNGE is sent, so in the order to
        /// send them: highest first) and UID.
        var expunged: [(seq: Int, uid: UID)] = []
        /// `REMOVEFROM` updates, to send before the expunges (RFC 5267 §4.3).
        var contextLines: [String] = []
    }

    /// Removes expunged messages from the map, from the saved result and from the updating
    /// searches.
    mutating func remove(_ expunged: [UID]) -> Removal {
        var removed: [(seq: Int, uid: UID)] = []
        for uid in expunged.sorted(by: >) {
            guard let seq = sequence(of: uid) else { continue }
            uids.remove(at: seq - 1)
            pendingExpunges.remove(uid)
            recent.remove(uid)
            reported[uid] = nil
            removed.append((seq, uid))
        }
        // RFC 5182 §2.1: expunged messages leave the saved result.
        if !savedResult.isEmpty, !removed.isEmpty {
            let gone = Set(removed.map(\.uid))
            savedResult.removeAll { gone.contains($0) }
        }
        return Removal(expunged: removed, contextLines: removeFromContexts(removed))
    }

    /// Folds in what changed in the store and returns the untagged responses to send now:
    /// flag changes (`format`), expunges (`announce`, unless held back) and EXISTS. Expunges wait
    /// in `pendingExpunges` while `allowExpunge` is false (during FETCH, STORE and SEARCH, RFC
    /// 9051 §7.5.1).
    mutating func apply(_ update: MailboxUpdate, allowExpunge: Bool, format: (Int, MessageInfo) -> String,
                        announce: (Removal) -> [String]) -> [String] {
        var lines: [String] = []
        if update.modSeq > knownModSeq {
            for info in update.changed {
                guard let seq = sequence(of: info.uid), !pendingExpunges.contains(info.uid) else { continue }
                if reported[info.uid] == info.record.modSeq { continue }
                lines.append(format(seq, info))
            }
            reported.removeAll()
            for uid in update.expunged where sequence(of: uid) != nil { pendingExpunges.insert(uid) }
            knownModSeq = update.modSeq
        }
        if allowExpunge && !pendingExpunges.isEmpty {
            lines += announce(remove(Array(pendingExpunges)))
        }
        let fresh = update.appended.filter { $0 > lastUID }
        if !fresh.isEmpty {
            uids.append(contentsOf: fresh)
            if !readOnly { recent.formUnion(fresh) }
            lines.append("* \(uids.count) EXISTS")
            lines.append("* \(recent.count) RECENT")
        }
        return lines + updateContexts(update.contextAnswers)
    }
}

/// What changed in a mailbox since a modseq: read off the event loop, applied on it.
struct MailboxUpdate: Sendable {
    var modSeq: ModSeq
    var appended: [UID] = []
    var expunged: [UID] = []
    /// Messages already numbered whose flags changed.
    var changed: [MessageInfo] = []
    /// False when the mailbox is gone.
    var exists = true
    /// What each updating search (by tag) finds after the change, when there are any.
    var contextAnswers: [String: SearchContext.Answer] = [:]

    /// Reads the changes of `mailbox` after `since`; `lastUID` splits new messages from changed ones.
    static func read(_ tx: StoreReader, mailbox: MailboxID, since: ModSeq, lastUID: UID) throws -> MailboxUpdate {
        guard let box = try tx.mailbox(mailbox) else { return MailboxUpdate(modSeq: since, exists: false) }
        var update = MailboxUpdate(modSeq: box.highestModSeq)
        guard box.highestModSeq > since else { return update }
        var names: [KeywordID: String]?
        for change in try tx.changes(in: mailbox, since: since) {
            switch change.kind {
            case .expunged:
                if change.uid <= lastUID { update.expunged.append(change.uid) }
            case .updated:
                if change.uid > lastUID {
                    update.appended.append(change.uid)
                } else if let record = try tx.message(in: mailbox, uid: change.uid) {
                    if names == nil { names = try tx.keywords(of: box.account) }
                    update.changed.append(MessageInfo(record: record, keywordNames: record.keywords.compactMap { names?[$0] }))
                }
            }
        }
        update.appended.sort()
        return update
    }
}
