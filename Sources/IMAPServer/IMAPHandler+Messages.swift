import IMAPProtocol
import IMAPSearch
import MailStore
import NIOCore
import ServerSupport

/// How much of a big FETCH is rendered per store read: the answer leaves in pieces of about
/// this size, so memory per session stays bounded and the socket's backpressure holds.
enum FetchLimits {
    static let batchBytes = 1024 * 1024
    static let batchMessages = 4096
}

/// Selected-state commands (RFC 9051 §6.4).
extension IMAPHandler {
    /// Resolves a sequence set against the session's map, or answers BAD and returns nil.
    func targets(_ context: ChannelHandlerContext, _ tag: String, _ set: SequenceSet, uid: Bool,
                 _ box: SelectedMailbox) -> [(Int, UID)]? {
        // RFC 5182 §2.1: `$` names the saved messages, whether for UIDs or sequence numbers.
        if set.isSavedResult { return box.savedTargets }
        do {
            return try box.resolve(set, uid: uid).map { ($0, box.uids[$0 - 1]) }
        } catch {
            reply(context, "\(tag) BAD Invalid message sequence number.")
            return nil
        }
    }

    /// Changes the selected mailbox if it is still `id`.
    func updateSelected(_ id: MailboxID, _ change: (inout SelectedMailbox) -> Void) {
        guard var box = selected, box.id == id else { return }
        change(&box)
        selected = box
    }

    // MARK: FETCH (RFC 9051 §6.4.5)

    func fetch(_ context: ChannelHandlerContext, _ tag: String, _ set: SequenceSet, _ attributes: [FetchAttribute],
               _ modifiers: FetchModifiers, uid: Bool, _ box: SelectedMailbox) {
        guard let targets = targets(context, tag, set, uid: uid, box) else { return }
        if modifiers.vanished {
            guard qresync else { return reply(context, "\(tag) BAD VANISHED needs QRESYNC enabled.") }
            return sendVanished(context, tag, set, since: modifiers.changedSince ?? 0, box) { handler, context in
                handler.fetch(context, tag, set, attributes,
                              FetchModifiers(changedSince: modifiers.changedSince, partial: modifiers.partial),
                              uid: uid, box)
            }
        }
        guard let partial = modifiers.partial else {
            return fetch(context, tag, targets, attributes, modifiers, uid: uid, box)
        }
        // RFC 9394: the window is taken from the messages the FETCH would answer for, in UID
        // order, so with CHANGEDSINCE it is taken after that filter.
        guard let since = modifiers.changedSince else {
            return fetch(context, tag, Array(targets[partial.window(count: targets.count)]), attributes, modifiers, uid: uid, box)
        }
        let store = self.store
        let id = box.id
        run(context, services.offload(on: context.eventLoop) {
            try store.read { tx in try targets.filter { (try tx.message(in: id, uid: $0.1)?.modSeq.rawValue ?? 0) > since } }
        }) { handler, context, result in
            switch result {
            case .success(let changed):
                handler.fetch(context, tag, Array(changed[partial.window(count: changed.count)]), attributes, modifiers,
                              uid: uid, box)
            case .failure(let error):
                handler.reply(context, handler.failure(tag, error))
            }
        }
    }

    /// FETCH for resolved targets.
    private func fetch(_ context: ChannelHandlerContext, _ tag: String, _ targets: [(Int, UID)], _ attributes: [FetchAttribute],
                       _ modifiers: FetchModifiers, uid: Bool, _ box: SelectedMailbox) {
        let plan = FetchPlan(attributes, uid: uid, uidOnly: uidOnly, utf8: utf8, changedSince: modifiers.changedSince)
        let name = uid ? "UID FETCH" : "FETCH"
        guard plan.setsSeen && !box.readOnly else {
            return fetchBatch(context, tag, name, FetchJob(targets: targets, plan: plan, flagsChanged: []))
        }
        // A non-PEEK body fetch sets \Seen first, so the answer carries the new flags.
        let store = self.store
        let id = box.id
        let uids = targets.map(\.1).filter { !box.isExpunged($0) }
        run(context, {
            try await store.write { try $0.store(in: id, uids: uids, FlagChange(.add, flags: .seen)).updated }
        }) { handler, context, result in
            switch result {
            case .success(let updated):
                handler.updateSelected(id) { $0.noteReported(updated) }
                let job = FetchJob(targets: targets, plan: plan, flagsChanged: Set(updated.map(\.uid)))
                handler.fetchBatch(context, tag, name, job)
            case .failure(let error):
                handler.reply(context, handler.failure(tag, error))
            }
        }
    }

    /// `UID FETCH ... (CHANGEDSINCE m VANISHED)`: the UIDs of the set expunged since `m`, as
    /// `* VANISHED (EARLIER)`, before the FETCH answers (RFC 7162 §3.2.6).
    private func sendVanished(_ context: ChannelHandlerContext, _ tag: String, _ set: SequenceSet, since: UInt64,
                              _ box: SelectedMailbox, then: @escaping (IMAPHandler, ChannelHandlerContext) -> Void) {
        let store = self.store
        let id = box.id
        run(context, services.offload(on: context.eventLoop) {
            try store.read { tx -> [UID] in
                let last = try tx.mailbox(id)?.uidNext.rawValue ?? 0
                return try tx.changes(in: id, since: ModSeq(since)).filter {
                    $0.kind == .expunged && SearchEvaluator.contains(set, $0.uid.rawValue, last: last)
                }.map(\.uid).sorted()
            }
        }) { handler, context, result in
            switch result {
            case .success(let vanished):
                if !vanished.isEmpty { handler.send(context, "* VANISHED (EARLIER) \(Self.uidSet(vanished))") }
                then(handler, context)
            case .failure(let error):
                handler.reply(context, handler.failure(tag, error))
            }
        }
    }

    struct FetchJob: Sendable {
        var targets: [(Int, UID)]
        var plan: FetchPlan
        var flagsChanged: Set<UID>
        var next = 0
        var missing = 0
    }

    /// Renders the next batch off the event loop and sends it, until all are sent. The next
    /// batch renders while the socket drains the last one, but is written only once that one
    /// has gone: at most two batches per session are in memory, and the socket never idles.
    private func fetchBatch(_ context: ChannelHandlerContext, _ tag: String, _ name: String, _ job: FetchJob,
                            after previous: EventLoopFuture<Void>? = nil) {
        guard let box = selected else { return reply(context, "\(tag) BAD No mailbox selected.") }
        let store = self.store
        let allocator = context.channel.allocator
        let (id, account) = (box.id, self.account!.id)
        let recent = rev2 ? [] : box.recent
        let rendered = services.offload(on: context.eventLoop) {
            try store.read { tx -> (ByteBuffer, Int, Int) in
                let needsNames = job.plan.includesFlags || !job.flagsChanged.isEmpty
                let renderer = FetchRenderer(tx: tx, mailbox: id, plan: job.plan,
                                             keywordNames: needsNames ? try tx.keywords(of: account) : [:],
                                             recent: recent, flagsChanged: job.flagsChanged)
                var out = allocator.buffer(capacity: 64 * 1024)
                let (next, missing) = try renderer.render(job.targets, from: job.next, into: &out)
                return (out, next - job.next, missing)
            }
        }
        let ready = previous.map { written in rendered.flatMap { r in written.map { r } } } ?? rendered
        run(context, ready) { handler, context, result in
            switch result {
            case .failure(let error):
                handler.reply(context, handler.failure(tag, error))
            case .success(let (out, consumed, missing)):
                var job = job
                job.next += consumed
                job.missing += missing
                guard job.next < job.targets.count else {
                    context.write(NIOAny(out), promise: nil)
                    return handler.complete(context, tag, job.missing > 0
                        ? "NO [EXPUNGEISSUED] Some of the requested messages no longer exist."
                        : "OK \(name) completed.")
                }
                handler.fetchBatch(context, tag, name, job, after: context.writeAndFlush(NIOAny(out)))
            }
        }
    }

    // MARK: STORE (RFC 9051 §6.4.6)

    func store(_ context: ChannelHandlerContext, _ tag: String, _ set: SequenceSet, _ action: StoreAction,
               uid: Bool, _ box: SelectedMailbox) {
        guard !box.readOnly else { return reply(context, "\(tag) NO [READ-ONLY] The mailbox is read-only.") }
        guard let targets = targets(context, tag, set, uid: uid, box) else { return }
        guard let (flags, keywords) = parseFlags(action.flags) else { return reply(context, "\(tag) BAD Invalid flag.") }
        let operation: FlagOperation = switch action.operation {
        case .replace: .replace
        case .add: .add
        case .remove: .remove
        }
        let change = FlagChange(operation, flags: flags, keywords: keywords)
        let live = targets.filter { !box.isExpunged($0.1) }
        let expungedSome = live.count < targets.count
        let unchangedSince = action.unchangedSince.map { ModSeq($0) }
        let silent = action.silent
        let store = self.store
        let id = box.id
        let account = self.account!.id
        run(context, {
            try await store.write { tx -> (StoreResult, [MessageInfo]) in
                let result = try tx.store(in: id, uids: live.map(\.1), change, unchangedSince: unchangedSince)
                guard !silent else { return (result, []) }
                let names = try tx.keywords(of: account)
                let infos = try live.compactMap { try tx.message(in: id, uid: $0.1) }.map {
                    MessageInfo(record: $0, keywordNames: $0.keywords.compactMap { names[$0] })
                }
                return (result, infos)
            }
        }) { handler, context, result in
            switch result {
            case .failure(let error):
                handler.reply(context, handler.failure(tag, error))
            case .success(let (outcome, infos)):
                handler.updateSelected(id) { $0.noteReported(outcome.updated) }
                let sequences = Dictionary(live.map { ($0.1, $0.0) }, uniquingKeysWith: { a, _ in a })
                for info in infos {
                    guard let seq = sequences[info.uid] else { continue }
                    handler.send(context, handler.unsolicitedFetch(seq, info))
                }
                let verb = uid ? "UID STORE" : "STORE"
                if !outcome.modified.isEmpty {
                    let seqs = outcome.modified.compactMap { u in uid ? u : sequences[u].map { UID(UInt32($0)) } }
                    handler.complete(context, tag, "OK [MODIFIED \(Self.uidSet(seqs))] Conditional \(verb) failed.")
                } else if action.flags.contains(where: { $0.lowercased() == "\\recent" }) {
                    // RFC 9051 §2.3.2: the client cannot change \Recent; the rest was done.
                    handler.complete(context, tag, "OK [CLIENTBUG] \\Recent cannot be changed; \(verb) completed.")
                } else if expungedSome {
                    handler.complete(context, tag, "NO [EXPUNGEISSUED] Some of the messages no longer exist.")
                } else {
                    handler.complete(context, tag, "OK \(verb) completed.")
                }
            }
        }
    }

    // MARK: COPY and MOVE (RFC 9051 §6.4.7, §6.4.8; RFC 4315 COPYUID)

    func copy(_ context: ChannelHandlerContext, _ tag: String, _ set: SequenceSet, _ wire: String,
              uid: Bool, move: Bool, _ box: SelectedMailbox) {
        if move && box.readOnly { return reply(context, "\(tag) NO [READ-ONLY] The mailbox is read-only.") }
        guard let targets = targets(context, tag, set, uid: uid, box) else { return }
        guard let name = storeName(wire) else { return invalidName(context, tag) }
        let uids = targets.map(\.1).filter { !box.isExpunged($0) }
        let store = self.store
        let (id, account) = (box.id, self.account!.id)
        let verb = (uid ? "UID " : "") + (move ? "MOVE" : "COPY")
        run(context, {
            try await store.write { tx -> (UInt32, [(UID, UID)]) in
                let target = try tx.requireMailbox(of: account, named: name)
                let pairs = move ? try tx.move(uids: uids, from: id, to: target.id)
                                 : try tx.copy(uids: uids, from: id, to: target.id)
                return (target.uidValidity, pairs)
            }
        }) { handler, context, result in
            switch result {
            case .failure(let error):
                handler.reply(context, handler.failure(tag, error, missing: "TRYCREATE"))
            case .success(let (validity, pairs)):
                guard !pairs.isEmpty else {
                    return handler.complete(context, tag, uids.count < targets.count
                        ? "NO [EXPUNGEISSUED] The messages no longer exist." : "OK \(verb) completed (nothing to do).")
                }
                let code = "COPYUID \(validity) \(Self.uidSet(pairs.map(\.0))) \(Self.uidSet(pairs.map(\.1)))"
                guard move else { return handler.complete(context, tag, "OK [\(code)] \(verb) completed.", refresh: true) }
                // RFC 6851 §4.3: COPYUID goes in an untagged OK before the EXPUNGEs.
                handler.send(context, "* OK [\(code)] Moved.")
                handler.announceExpunged(context, id, pairs.map(\.0))
                handler.complete(context, tag, "OK \(verb) completed.", refresh: true)
            }
        }
    }

    // MARK: REPLACE (RFC 8508)

    /// Appends the new message and expunges the old one in one durable write: neither happens
    /// without the other.
    func replace(_ context: ChannelHandlerContext, _ tag: String, _ number: UInt32, _ wire: String,
                 _ message: AppendMessage, uid: Bool, _ box: SelectedMailbox) {
        guard !box.readOnly else { return reply(context, "\(tag) NO [READ-ONLY] The mailbox is read-only.") }
        let old: UID
        if uid {
            old = UID(number)
        } else {
            guard number >= 1, Int(number) <= box.count else {
                return reply(context, "\(tag) BAD Invalid message sequence number.")
            }
            old = box.uids[Int(number) - 1]
        }
        guard box.sequence(of: old) != nil, !box.isExpunged(old) else {
            return reply(context, "\(tag) NO [NONEXISTENT] No such message.")
        }
        guard let name = storeName(wire) else { return invalidName(context, tag) }
        guard !message.data.isEmpty else { return reply(context, "\(tag) NO Cannot append an empty message.") }
        guard let (flags, keywords) = parseFlags(message.flags) else { return reply(context, "\(tag) BAD Invalid flag.") }
        let item = AppendItem(flags: flags, keywords: keywords, date: message.internalDate.map(Self.zonedDate), data: message.data)
        let store = self.store
        let (id, account) = (box.id, self.account!.id)
        run(context, {
            let prepared = PreparedMessage(item.data)
            return try await store.write { tx -> (UInt32, UID) in
                let target = try tx.requireMailbox(of: account, named: name)
                guard try tx.message(in: id, uid: old) != nil else { throw MailStoreError.unknownMessage(old) }
                let record = try tx.append(to: target.id, prepared, flags: item.flags, keywords: item.keywords,
                                           internalDate: item.date)
                _ = try tx.expunge(in: id, uids: [old])
                return (target.uidValidity, record.uid)
            }
        }) { handler, context, result in
            switch result {
            case .failure(let error):
                handler.reply(context, handler.failure(tag, error, missing: "TRYCREATE"))
            case .success(let (validity, newUID)):
                // RFC 8508 §3.3: APPENDUID in an untagged OK, then the expunge of the old one.
                handler.send(context, "* OK [APPENDUID \(validity) \(newUID)] Replacement appended.")
                handler.announceExpunged(context, id, [old])
                handler.complete(context, tag, "OK \(uid ? "UID REPLACE" : "REPLACE") completed.", refresh: true)
            }
        }
    }

    // MARK: EXPUNGE, UID EXPUNGE and CLOSE (RFC 9051 §6.4.3, §6.4.1; RFC 4315 §2.1)

    func expunge(_ context: ChannelHandlerContext, _ tag: String, _ set: SequenceSet?, _ box: SelectedMailbox) {
        guard !box.readOnly else { return reply(context, "\(tag) NO [READ-ONLY] The mailbox is read-only.") }
        var only: [UID]?
        if let set {
            guard let targets = targets(context, tag, set, uid: true, box) else { return }
            only = targets.map(\.1)
        }
        let store = self.store
        let id = box.id
        let uids = only
        run(context, {
            try await store.write { tx -> [UID] in
                guard let uids else { return try tx.expungeDeleted(in: id) }
                let deleted = try uids.filter { try tx.message(in: id, uid: $0)?.flags.contains(.deleted) == true }
                return try tx.expunge(in: id, uids: deleted)
            }
        }) { handler, context, result in
            switch result {
            case .failure(let error):
                handler.reply(context, handler.failure(tag, error))
            case .success(let expunged):
                handler.announceExpunged(context, id, expunged)
                handler.complete(context, tag, "OK \(set == nil ? "EXPUNGE" : "UID EXPUNGE") completed.", refresh: true)
            }
        }
    }

    func close(_ context: ChannelHandlerContext, _ tag: String, _ box: SelectedMailbox) {
        selected = nil
        guard !box.readOnly else { return reply(context, "\(tag) OK CLOSE completed.") }
        let store = self.store
        let id = box.id
        // RFC 9051 §6.4.1: CLOSE expunges silently.
        run(context, { try await store.write { _ = try $0.expungeDeleted(in: id) } }) { handler, context, result in
            switch result {
            case .success: handler.reply(context, "\(tag) OK CLOSE completed.")
            case .failure(let error): handler.reply(context, handler.failure(tag, error))
            }
        }
    }

    // MARK: SEARCH (RFC 9051 §6.4.4, RFC 4731 ESEARCH)

    func search(_ context: ChannelHandlerContext, _ tag: String, _ command: SearchCommand, uid: Bool, _ box: SelectedMailbox) {
        let save = command.returnOptions?.contains(.save) == true
        if let charset = command.charset, !Self.isSearchCharset(charset) {
            return refuseCharset(context, tag, save: save)
        }
        let scope = searchScope(command.key, box)
        let store = self.store
        run(context, services.offload(on: context.eventLoop) {
            try store.read { tx in try scope.evaluator(tx).run(scope.key, records: scope.key.usesModSeq) }
        }) { handler, context, result in
            switch result {
            case .failure(let error):
                if save { handler.updateSelected(scope.mailbox) { $0.save([]) } }
                handler.reply(context, handler.failure(tag, error))
            case .success(let found):
                handler.logger.debug("search plan", metadata: ["plan": "\(found.plan)"])
                if save { handler.save(found.seqs, command.returnOptions ?? [], partial: command.partial, scope) }
                if command.returnOptions?.contains(.update) == true {
                    handler.keepUpdated(context, tag, uid: uid, scope, criteria: nil, found.seqs.map { scope.uids[$0 - 1] })
                }
                let numbers = uid ? found.seqs.map { scope.uids[$0 - 1].rawValue } : found.seqs.map { UInt32($0) }
                // RFC 7162 §3.1.5: a search with MODSEQ reports the highest modseq it found.
                let modSeq = scope.key.usesModSeq ? found.records.map(\.modSeq.rawValue).max() : nil
                handler.sendSearchResult(context, tag, numbers, uid: uid, modSeq: modSeq, options: command.returnOptions,
                                         partial: command.partial)
                handler.complete(context, tag, "OK \(uid ? "UID SEARCH" : "SEARCH") completed.")
            }
        }
    }

    /// `prefix` and each number after a space, as SEARCH and SORT answer: the digits written
    /// straight into one buffer (`PointerWriter`, as record-only FETCH lines are), since a big
    /// result has tens of thousands of them.
    static func numberLine(_ prefix: String, _ numbers: [UInt32]) -> String {
        let prefix = Array(prefix.utf8)
        // A space and at most 10 digits per number.
        return String(unsafeUninitializedCapacity: prefix.count + numbers.count * 11) { buffer in
            var w = PointerWriter(UnsafeMutableRawPointer(buffer.baseAddress!))
            w.put(prefix)
            for number in numbers {
                w.put(" ")
                w.decimal(UInt64(number))
            }
            return w.count
        }
    }

    /// What SEARCH, SORT and THREAD look at, copied from the session: `$` already resolved.
    func searchScope(_ key: SearchKey, _ box: SelectedMailbox) -> SearchScope {
        SearchScope(mailbox: box.id, uids: box.uids, recent: rev2 ? [] : box.recent,
                    key: key.resolvingSavedResult(box.savedResult))
    }

    private func sendSearchResult(_ context: ChannelHandlerContext, _ tag: String, _ numbers: [UInt32], uid: Bool,
                                  modSeq: UInt64?, options: [SearchReturnOption]?, partial: PartialRange?) {
        guard options != nil || rev2 else {
            return send(context, Self.numberLine("* SEARCH", numbers) + (modSeq.map { " (MODSEQ \($0))" } ?? ""))
        }
        sendESearch(context, tag, numbers, uid: uid, modSeq: modSeq, options: options ?? [.all], partial: partial)
    }

    /// `* ESEARCH (TAG "a1") UID MIN 2 MAX 9 ALL 2:4,9 COUNT 4` (RFC 4731 §3.1). MIN and MAX are
    /// the first and last of `numbers` and ALL keeps their order: for SORT that is the sort
    /// order (RFC 5267 §3.2). SAVE alone asks for no answer (RFC 5182 §2.4). PARTIAL gives a
    /// window of that order, `PARTIAL (-1:-2 8,9)`, or NIL when it holds none (RFC 9394).
    func sendESearch(_ context: ChannelHandlerContext, _ tag: String, _ numbers: [UInt32], uid: Bool,
                     modSeq: UInt64?, options: [SearchReturnOption], partial: PartialRange?) {
        let wanted = options.filter { $0 != .save && $0 != .update && $0 != .context }
        // With UPDATE the answer comes even when it holds nothing but the tag (RFC 5267 §4.1).
        guard !wanted.isEmpty || partial != nil || options.contains(.update) else { return }
        var line = "* ESEARCH (TAG \"\(tag)\")"
        if uid { line += " UID" }
        if let first = numbers.first, let last = numbers.last {
            if wanted.contains(.min) { line += " MIN \(first)" }
            if wanted.contains(.max) { line += " MAX \(last)" }
            if wanted.contains(.all) { line += " ALL \(Self.orderedSet(numbers))" }
        }
        if wanted.contains(.count) { line += " COUNT \(numbers.count)" }
        if let partial {
            let window = numbers[partial.window(count: numbers.count)]
            line += " PARTIAL (\(partial) \(window.isEmpty ? "NIL" : Self.orderedSet(Array(window))))"
        }
        if let modSeq { line += " MODSEQ \(modSeq)" }
        send(context, line)
    }
}
