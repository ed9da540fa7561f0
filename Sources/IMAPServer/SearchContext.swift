import IMAPProtocol
import MailStore
import NIOCore

/// A SEARCH or SORT made with RETURN (UPDATE) (RFC 5267 §4, CONTEXT=SEARCH and CONTEXT=SORT):
/// the result the client holds, kept current with `ADDTO` and `REMOVEFROM` as the selected
/// mailbox changes, until CANCELUPDATE or the end of the selection.
///
/// Updates name messages the way the search did: by UID after UID SEARCH or UID SORT, else by
/// sequence number. For SEARCH the position is always 0 (the result has no order). For SORT
/// each message goes in its own pair, with its 1-based position in the list as it stands when
/// that pair is applied: removals from the last position back, then insertions from the
/// first position on, so that applying the pairs in order gives the new sort order.
struct SearchContext: Sendable {
    let tag: String
    let uid: Bool
    /// The criteria, with `$` resolved when the search ran.
    let key: SearchKey
    /// The sort order for SORT; nil for SEARCH.
    let criteria: [SortCriterion]?
    /// The messages the client holds: ascending for SEARCH, in sort order for SORT.
    var result: [UID]

    /// What a context finds once the mailbox has changed, read in the same transaction as the
    /// change itself.
    enum Answer: Sendable {
        /// SEARCH: which of the new and changed messages (`candidates`) match now.
        case matching(candidates: [UID], matches: Set<UID>)
        /// SORT: the whole result, in order (the place of a new message depends on the others).
        case sorted([UID])
    }

    /// Evaluates every context against the mailbox as `update` leaves it: the session's map
    /// `uids` plus the new messages. Only contexts that a new or changed message could affect
    /// are evaluated; expunged messages are handled when their expunge is announced.
    static func answers(_ contexts: [SearchContext], _ tx: StoreReader, mailbox: MailboxID, uids: [UID],
                        recent: Set<UID>, after update: MailboxUpdate, sortCache: SortCache? = nil) throws -> [String: Answer] {
        // `update` was read against `uids`: what it calls appended lies past the map's end.
        let candidates = (update.appended + update.changed.map(\.uid)).sorted()
        guard !candidates.isEmpty else { return [:] }
        let map = uids + update.appended
        var answers: [String: Answer] = [:]
        for context in contexts {
            if let criteria = context.criteria {
                let scope = SearchScope(mailbox: mailbox, uids: map, recent: recent, key: context.key)
                answers[context.tag] = .sorted(try scope.sorted(tx, by: criteria, cache: sortCache).seqs.map { map[$0 - 1] })
            } else {
                let key = SearchKey.and([context.key, .uid(SequenceSet.of(candidates))])
                let scope = SearchScope(mailbox: mailbox, uids: map, recent: recent, key: key)
                answers[context.tag] = .matching(candidates: candidates,
                                                 matches: Set(try scope.matches(tx).seqs.map { map[$0 - 1] }))
            }
        }
        return answers
    }

    /// `* ESEARCH (TAG "a1") UID ADDTO (0 4:5)`.
    func line(_ item: String, _ pairs: [(position: Int, numbers: [UInt32])]) -> String {
        let body = pairs.map { "\($0.position) \(IMAPHandler.orderedSet($0.numbers))" }.joined(separator: " ")
        return "* ESEARCH (TAG \"\(tag)\")\(uid ? " UID" : "") \(item) (\(body))"
    }
}

extension SelectedMailbox {
    /// Takes just-expunged messages out of every context: `REMOVEFROM` lines, which name the
    /// messages by the sequence numbers they had before the expunge.
    mutating func removeFromContexts(_ removed: [(seq: Int, uid: UID)]) -> [String] {
        guard !contexts.isEmpty, !removed.isEmpty else { return [] }
        let seqs = Dictionary(removed.map { ($0.uid, $0.seq) }, uniquingKeysWith: { a, _ in a })
        var lines: [String] = []
        for i in contexts.indices {
            let context = contexts[i]
            let number = { (uid: UID) in context.uid ? uid.rawValue : UInt32(seqs[uid]!) }
            if context.criteria == nil {
                let gone = context.result.filter { seqs[$0] != nil }
                guard !gone.isEmpty else { continue }
                contexts[i].result.removeAll { seqs[$0] != nil }
                lines.append(context.line("REMOVEFROM", [(0, gone.map(number).sorted())]))
            } else {
                let positions = context.result.indices.filter { seqs[context.result[$0]] != nil }
                guard !positions.isEmpty else { continue }
                let pairs = positions.reversed().map { (position: $0 + 1, numbers: [number(context.result[$0])]) }
                for p in positions.reversed() { contexts[i].result.remove(at: p) }
                lines.append(context.line("REMOVEFROM", pairs))
            }
        }
        return lines
    }

    /// Brings every context up to date with what the store read found after a change, once the
    /// new messages are numbered (after EXISTS): `REMOVEFROM` for messages that no longer
    /// match, then `ADDTO` for those that now do. Messages whose expunge is not announced yet
    /// are left to that announcement.
    mutating func updateContexts(_ answers: [String: SearchContext.Answer]) -> [String] {
        guard !answers.isEmpty else { return [] }
        let map = self
        var lines: [String] = []
        for i in contexts.indices {
            guard let answer = answers[contexts[i].tag] else { continue }
            let context = contexts[i]
            let number = { (uid: UID) -> UInt32 in context.uid ? uid.rawValue : UInt32(map.sequence(of: uid) ?? 0) }
            let present = { (uid: UID) in map.sequence(of: uid) != nil && !map.isExpunged(uid) }
            switch answer {
            case .matching(let candidates, let matches):
                var members = Set(context.result)
                var added: [UID] = [], dropped: [UID] = []
                for uid in candidates where present(uid) {
                    if matches.contains(uid), members.insert(uid).inserted { added.append(uid) }
                    if !matches.contains(uid), members.remove(uid) != nil { dropped.append(uid) }
                }
                guard !added.isEmpty || !dropped.isEmpty else { continue }
                contexts[i].result = members.sorted()
                if !dropped.isEmpty { lines.append(context.line("REMOVEFROM", [(0, dropped.map(number).sorted())])) }
                if !added.isEmpty { lines.append(context.line("ADDTO", [(0, added.map(number).sorted())])) }
            case .sorted(let order):
                let now = Set(order)
                var list = context.result
                var removals: [(position: Int, numbers: [UInt32])] = []
                for p in list.indices.reversed() where !now.contains(list[p]) && present(list[p]) {
                    removals.append((p + 1, [number(list[p])]))
                    list.remove(at: p)
                }
                // Each new message goes right after the message before it in the new order.
                var members = Set(list)
                var insertions: [(position: Int, numbers: [UInt32])] = []
                var previous: UID?
                for uid in order where present(uid) {
                    if !members.contains(uid) {
                        let at = previous.flatMap { p in list.firstIndex(of: p).map { $0 + 1 } } ?? 0
                        list.insert(uid, at: at)
                        members.insert(uid)
                        insertions.append((at + 1, [number(uid)]))
                    }
                    previous = uid
                }
                guard !removals.isEmpty || !insertions.isEmpty else { continue }
                contexts[i].result = list
                if !removals.isEmpty { lines.append(context.line("REMOVEFROM", removals)) }
                if !insertions.isEmpty { lines.append(context.line("ADDTO", insertions)) }
            }
        }
        return lines
    }
}

extension IMAPHandler {
    /// Keeps a SEARCH or SORT with RETURN (UPDATE) current (RFC 5267 §4); `result` is in the
    /// answer's order (ascending for SEARCH, whose matches come by sequence number). A search with the tag
    /// of an earlier one replaces it; past `IMAPLimits.maxUpdatingSearches` the client is told
    /// with `NOUPDATE` that this one gets no updates.
    func keepUpdated(_ context: ChannelHandlerContext, _ tag: String, uid: Bool, _ scope: SearchScope,
                     criteria: [SortCriterion]?, _ result: [UID]) {
        guard let box = selected, box.id == scope.mailbox else { return }
        let others = box.contexts.filter { $0.tag != tag }
        guard others.count < IMAPLimits.maxUpdatingSearches else {
            return send(context, "* NO [NOUPDATE \"\(tag)\"] Too many searches are kept up to date.")
        }
        let search = SearchContext(tag: tag, uid: uid, key: scope.key, criteria: criteria, result: result)
        updateSelected(box.id) { $0.contexts = others + [search] }
    }

    /// `CANCELUPDATE "a1" "a2"` (RFC 5267 §4.2): every tag must name an updating search.
    func cancelUpdate(_ context: ChannelHandlerContext, _ tag: String, _ tags: [String], _ box: SelectedMailbox) {
        guard tags.allSatisfy({ t in box.contexts.contains { $0.tag == t } }) else {
            return reply(context, "\(tag) NO No updating search has that tag.")
        }
        updateSelected(box.id) { $0.contexts.removeAll { tags.contains($0.tag) } }
        complete(context, tag, "OK CANCELUPDATE completed.")
    }
}
