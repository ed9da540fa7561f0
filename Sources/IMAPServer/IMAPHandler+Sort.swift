import IMAPProtocol
import IMAPSearch
import MailStore
import NIOCore

/// SORT and THREAD (RFC 5256), with ESORT (RFC 5267) and SORT=DISPLAY (RFC 5957). The
/// messages are chosen by `searchMatches`, as SEARCH chooses them; the order is computed here.
extension IMAPHandler {
    // MARK: SORT (RFC 5256 §3, RFC 5267 §3)

    /// `* SORT 5 3 4 1 2`, or with RETURN `* ESEARCH (TAG "a1") MIN 5 MAX 2 ...` in sort order.
    func sort(_ context: ChannelHandlerContext, _ tag: String, _ command: SortCommand, uid: Bool, _ box: SelectedMailbox) {
        let options = command.returnOptions ?? []
        guard Self.isSearchCharset(command.charset) else { return refuseCharset(context, tag, save: options.contains(.save)) }
        let scope = searchScope(command.key, box)
        let criteria = command.criteria
        let (store, sortCache) = (self.store, caches.sort)
        run(context, services.offload(on: context.eventLoop) {
            try store.read { tx in try scope.sorted(tx, by: criteria, cache: sortCache) }
        }) { handler, context, result in
            switch result {
            case .failure(let error):
                if options.contains(.save) { handler.updateSelected(scope.mailbox) { $0.save([]) } }
                handler.reply(context, handler.failure(tag, error))
            case .success(let (seqs, modSeq)):
                if options.contains(.save) { handler.save(seqs, options, partial: command.partial, scope) }
                if options.contains(.update) {
                    handler.keepUpdated(context, tag, uid: uid, scope, criteria: criteria, seqs.map { scope.uids[$0 - 1] })
                }
                let numbers = uid ? seqs.map { scope.uids[$0 - 1].rawValue } : seqs.map { UInt32($0) }
                if command.returnOptions == nil {
                    handler.send(context, Self.numberLine("* SORT", numbers) + (modSeq.map { " (MODSEQ \($0))" } ?? ""))
                } else {
                    handler.sendESearch(context, tag, numbers, uid: uid, modSeq: modSeq, options: options,
                                        partial: command.partial)
                }
                handler.complete(context, tag, "OK \(uid ? "UID SORT" : "SORT") completed.")
            }
        }
    }

    /// A sequence-set that keeps the order of `numbers` (RFC 5267 §3.2): only runs that go up by
    /// one become ranges, as in `4:5,2,1,3`; `2:1` would name the same set as `1:2`, so a
    /// descending run is written number by number (as Dovecot does).
    static func orderedSet(_ numbers: [UInt32]) -> String {
        var parts: [String] = []
        var index = 0
        while index < numbers.count {
            var end = index
            while end + 1 < numbers.count, numbers[end + 1] == numbers[end] &+ 1 { end += 1 }
            parts.append(end == index ? "\(numbers[index])" : "\(numbers[index]):\(numbers[end])")
            index = end + 1
        }
        return parts.joined(separator: ",")
    }

    // MARK: THREAD (RFC 5256 §2, §3)

    /// `* THREAD (2)(3 6 (4 23)(44 7 96))`.
    func thread(_ context: ChannelHandlerContext, _ tag: String, _ command: ThreadCommand, uid: Bool, _ box: SelectedMailbox) {
        guard Self.isSearchCharset(command.charset) else { return refuseCharset(context, tag, save: false) }
        let scope = searchScope(command.key, box)
        let algorithm = command.algorithm
        let (store, sortCache) = (self.store, caches.sort)
        run(context, services.offload(on: context.eventLoop) {
            try store.read { tx -> String in
                let rows = try scope.threadRows(tx, cache: sortCache)
                var threader = MessageThreader(rows: rows, number: uid ? { $0.uid.rawValue } : { UInt32($0.seq) })
                return threader.threads(algorithm)
            }
        }) { handler, context, result in
            switch result {
            case .failure(let error):
                handler.reply(context, handler.failure(tag, error))
            case .success(let threads):
                handler.send(context, threads.isEmpty ? "* THREAD" : "* THREAD " + threads)
                handler.complete(context, tag, "OK \(uid ? "UID THREAD" : "THREAD") completed.")
            }
        }
    }

    // MARK: Shared with SEARCH

    /// The charsets SEARCH, SORT and THREAD take: the two RFC 9051 §6.4.4 requires.
    static let searchCharsets = ["UTF-8", "US-ASCII"]

    static func isSearchCharset(_ name: String) -> Bool { searchCharsets.contains(name.uppercased()) }

    /// `NO [BADCHARSET (...)]`; a failed SAVE empties the saved result (RFC 5182 §2.1).
    func refuseCharset(_ context: ChannelHandlerContext, _ tag: String, save: Bool) {
        if save, let id = selected?.id { updateSelected(id) { $0.save([]) } }
        reply(context, "\(tag) NO [BADCHARSET (\(Self.searchCharsets.joined(separator: " ")))] Unsupported charset.")
    }

    /// RETURN (SAVE) (RFC 5182 §2.1, §2.4): with MIN or MAX and neither ALL nor COUNT, only
    /// those; else every message found. `seqs` is in the answer's order, so for SORT MIN and
    /// MAX are the first and last in sort order (RFC 5267 §3.2).
    func save(_ seqs: [Int], _ options: [SearchReturnOption], partial: PartialRange?, _ scope: SearchScope) {
        var chosen = seqs
        if let partial, !options.contains(.count) {
            // With PARTIAL (never with ALL), the window is what the client sees, so it is saved.
            chosen = Array(seqs[partial.window(count: seqs.count)])
        } else if !options.contains(.all), !options.contains(.count), options.contains(.min) || options.contains(.max) {
            chosen = []
            if options.contains(.min), let first = seqs.first { chosen.append(first) }
            if options.contains(.max), let last = seqs.last, last != seqs.first || !options.contains(.min) { chosen.append(last) }
        }
        updateSelected(scope.mailbox) { $0.save(chosen.map { scope.uids[$0 - 1] }) }
    }
}

/// What a SEARCH, SORT or THREAD looks at, copied from the session for the store read.
struct SearchScope: Sendable {
    let mailbox: MailboxID
    /// The session's sequence map when the command started.
    let uids: [UID]
    let recent: Set<UID>
    /// The criteria, with `$` resolved.
    let key: SearchKey

    /// The store's planner over this session's view.
    func evaluator(_ tx: StoreReader) -> SearchEvaluator {
        SearchEvaluator(tx: tx, mailbox: mailbox, uids: uids, recent: recent, now: ZonedDate.now().seconds)
    }

    /// The messages of the session's map that match `key`: sequence numbers ascending, with
    /// their records when `records` is true. SEARCH, SORT and THREAD all select their messages here.
    func matches(_ tx: StoreReader, records: Bool = false) throws -> SearchResult {
        try evaluator(tx).run(key, records: records)
    }

    /// The rows THREAD links, for the matches in sequence-number order; with `cache`, a big
    /// mailbox's rows come from it.
    func threadRows(_ tx: StoreReader, cache: SortCache? = nil) throws -> [SortRow] {
        if let cache, let box = try tx.mailbox(mailbox), SortCache.caches(box),
           let rows = try cache.rows(tx, box, needs: .thread, seqs: matches(tx).seqs, uids: uids) {
            return rows
        }
        return try SortRow.read(tx, mailbox: mailbox, matches(tx, records: true), uids: uids, needs: .thread)
    }

    /// The matches as SORT orders them: sequence numbers in sort order, and for a key with
    /// MODSEQ the highest modseq found (RFC 7162 §3.1.5). With `cache`, a big mailbox's rows
    /// and ranks come from it.
    func sorted(_ tx: StoreReader, by criteria: [SortCriterion], cache: SortCache? = nil) throws -> (seqs: [Int], modSeq: UInt64?) {
        let needs = SortRow.Needs(keys: Set(criteria.map(\.key)))
        let modSeq: ([MessageRecord]) -> UInt64? = { key.usesModSeq ? $0.map(\.modSeq.rawValue).max() : nil }
        if let cache, let box = try tx.mailbox(mailbox), SortCache.caches(box) {
            let matches = try self.matches(tx, records: key.usesModSeq)
            if let order = try cache.order(tx, box, criteria: criteria, seqs: matches.seqs, uids: uids) {
                return (order, modSeq(matches.records))
            }
        }
        let matches = try self.matches(tx, records: needs.record || key.usesModSeq)
        let rows = try SortRow.read(tx, mailbox: mailbox, matches, uids: uids, needs: needs)
        return (MessageSorter(criteria: criteria).order(rows), modSeq(matches.records))
    }
}

extension SearchKey {
    /// The key with `$` (RFC 5182 §2.1) replaced by the saved messages, named by UID.
    func resolvingSavedResult(_ saved: [UID]) -> SearchKey {
        switch self {
        case .sequenceSet(let set) where set.isSavedResult, .uid(let set) where set.isSavedResult:
            return .uid(SequenceSet.of(saved))
        case .not(let k): return .not(k.resolvingSavedResult(saved))
        case .or(let a, let b): return .or(a.resolvingSavedResult(saved), b.resolvingSavedResult(saved))
        case .and(let keys): return .and(keys.map { $0.resolvingSavedResult(saved) })
        default: return self
        }
    }
}

extension SequenceSet {
    /// The set of `uids` (ascending), in ranges; empty, it matches nothing.
    static func of(_ uids: [UID]) -> SequenceSet {
        var ranges: [SequenceRange] = []
        var index = 0
        while index < uids.count {
            var end = index
            while end + 1 < uids.count, uids[end + 1].rawValue == uids[end].rawValue &+ 1 { end += 1 }
            ranges.append(SequenceRange(.number(uids[index].rawValue), .number(uids[end].rawValue)))
            index = end + 1
        }
        return SequenceSet(ranges)
    }
}
