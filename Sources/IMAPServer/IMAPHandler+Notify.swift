import IMAPProtocol
import MailStore
import NIOCore

/// Bounds on what one NOTIFY push does.
enum NotifyLimits {
    /// New messages of one push that get MessageNew's FETCH items; more only get EXISTS.
    static let maxNewMessageFetches = 256
}

/// A `NOTIFY SET` as this session applies it (RFC 5465): filters with store names, and what
/// the session was last told, so that each push says only what changed since.
struct NotifyRegistration {
    enum Filter {
        case selected(delayed: Bool), inboxes, personal, subscribed
        case subtree([String]), mailboxes([String])
    }
    enum Kind: Hashable {
        case messageNew, messageExpunge, flagChange, mailboxName, subscriptionChange, mailboxMetadataChange, serverMetadataChange
    }
    struct Group {
        var filter: Filter
        var events: Set<Kind>
        /// MessageNew's FETCH items (SELECTED only).
        var fetch: [FetchAttribute]
    }

    var groups: [Group]
    var mailboxes: [MailboxID: Mailbox] = [:]
    var subscriptions: Set<String> = []

    /// The SELECTED or SELECTED-DELAYED group: it alone covers the selected mailbox (§6.1).
    var selectedGroup: Group? { groups.first { if case .selected = $0.filter { true } else { false } } }
    var delayed: Bool { if case .selected(let delayed)? = selectedGroup?.filter { delayed } else { false } }

    /// Whether the first other group that covers mailbox `name` asks for `kind`.
    func wants(_ kind: Kind, for name: String, subscriptions: Set<String>? = nil) -> Bool {
        let subscribed = subscriptions ?? self.subscriptions
        let group = groups.first { g in
            switch g.filter {
            case .selected: false
            case .inboxes: name == "INBOX"
            case .personal: true
            case .subscribed: subscribed.contains(name)
            case .subtree(let roots): roots.contains { name == $0 || name.hasPrefix($0 + "/") }
            case .mailboxes(let names): names.contains(name)
            }
        }
        return group?.events.contains(kind) == true
    }

    var wantsServerMetadata: Bool { groups.contains { $0.events.contains(.serverMetadataChange) } }
}

/// Store events a session has not told its NOTIFY client about yet.
struct NotifyPending {
    var mailboxes: Set<MailboxID> = []
    var list = false
    var subscriptions = false
    var annotations: [(mailbox: MailboxID?, names: [String])] = []
    var isEmpty: Bool { mailboxes.isEmpty && !list && !subscriptions && annotations.isEmpty }
}

extension IMAPHandler {
    static let notifyEvents = "(MessageNew MessageExpunge FlagChange MailboxName SubscriptionChange MailboxMetadataChange ServerMetadataChange)"

    // MARK: NOTIFY NONE / NOTIFY SET (RFC 5465 §3)

    func notifyCommand(_ context: ChannelHandlerContext, _ tag: String, _ set: NotifySet?, _ account: Account) {
        guard let set else {
            notify = nil
            notifyPending = NotifyPending()
            return complete(context, tag, "OK NOTIFY completed.")
        }
        var groups: [NotifyRegistration.Group] = []
        for group in set.groups {
            var kinds = Set<NotifyRegistration.Kind>()
            var fetch: [FetchAttribute] = []
            for event in group.events {
                switch event {
                case .messageNew(let items): kinds.insert(.messageNew); fetch = items
                case .messageExpunge: kinds.insert(.messageExpunge)
                case .flagChange: kinds.insert(.flagChange)
                case .mailboxName: kinds.insert(.mailboxName)
                case .subscriptionChange: kinds.insert(.subscriptionChange)
                case .mailboxMetadataChange: kinds.insert(.mailboxMetadataChange)
                case .serverMetadataChange: kinds.insert(.serverMetadataChange)
                case .annotationChange, .other:
                    // RFC 5465 §3.1: an event the server does not support.
                    return reply(context, "\(tag) NO [BADEVENT \(Self.notifyEvents)] Unsupported event.")
                }
            }
            // §5: MessageNew and MessageExpunge go together; FlagChange needs both.
            if kinds.contains(.messageNew) != kinds.contains(.messageExpunge)
                || (kinds.contains(.flagChange) && !kinds.contains(.messageNew)) {
                return reply(context, "\(tag) BAD MessageNew and MessageExpunge go together, and FlagChange needs them.")
            }
            let filter: NotifyRegistration.Filter
            switch group.filter {
            case .selected, .selectedDelayed:
                guard kinds.isSubset(of: [.messageNew, .messageExpunge, .flagChange]) else {
                    return reply(context, "\(tag) BAD SELECTED takes message events only.")
                }
                filter = .selected(delayed: group.filter == .selectedDelayed)
            case .inboxes: filter = .inboxes
            case .personal: filter = .personal
            case .subscribed: filter = .subscribed
            case .subtree(let names), .mailboxes(let names):
                let decoded = names.compactMap { storeName($0) }
                guard decoded.count == names.count else { return invalidName(context, tag) }
                if case .subtree = group.filter { filter = .subtree(decoded) } else { filter = .mailboxes(decoded) }
            }
            if !fetch.isEmpty, case .selected = filter {} else if !fetch.isEmpty {
                return reply(context, "\(tag) BAD FETCH items in MessageNew need SELECTED.")
            }
            groups.append(NotifyRegistration.Group(filter: filter, events: kinds, fetch: fetch))
        }
        if groups.filter({ if case .selected = $0.filter { true } else { false } }).count > 1 {
            return reply(context, "\(tag) BAD SELECTED is given more than once.")
        }
        let store = self.store
        run(context, services.offload(on: context.eventLoop) {
            try store.read { tx in (try tx.mailboxes(of: account.id), try tx.subscriptions(of: account.id)) }
        }) { handler, context, result in
            guard case .success(let (boxes, subscriptions)) = result else {
                if case .failure(let error) = result { handler.reply(context, handler.failure(tag, error)) }
                return
            }
            var registration = NotifyRegistration(groups: groups)
            registration.mailboxes = Dictionary(uniqueKeysWithValues: boxes.map { ($0.id, $0) })
            registration.subscriptions = Set(subscriptions)
            handler.notify = registration
            handler.notifyPending = NotifyPending()
            // §3.1 STATUS: where new messages would be announced, say what there is now.
            if set.status {
                for box in boxes where !box.isNoSelect && box.id != handler.selected?.id
                    && registration.wants(.messageNew, for: box.name) {
                    handler.send(context, handler.notifyStatus(box))
                }
            }
            handler.complete(context, tag, "OK NOTIFY completed.")
        }
    }

    /// `* STATUS` for a mailbox other than the selected one (RFC 5465 §5.1, §5.2).
    func notifyStatus(_ box: Mailbox) -> String {
        statusLine(box, [.messages, .uidNext, .uidValidity, .unseen] + (condstore ? [.highestModSeq] : []))
    }

    // MARK: Events

    /// Every event of the account's change feed comes here, on the event loop.
    func storeEvent(_ context: ChannelHandlerContext, _ event: StoreEvent) {
        if case .mailboxChanged(_, let mailbox, _) = event {
            // With SELECTED, the push below announces the selected mailbox's changes.
            if mailbox == selected?.id, notify?.selectedGroup?.events.contains(.messageNew) == true {
                dirty = true
            } else {
                mailboxChanged(context, mailbox)
            }
        }
        guard notify != nil else { return }
        switch event {
        case .mailboxChanged(_, let mailbox, _): notifyPending.mailboxes.insert(mailbox)
        case .mailboxListChanged: notifyPending.list = true
        case .subscriptionsChanged: notifyPending.subscriptions = true
        case .annotationsChanged(_, let mailbox, let names): notifyPending.annotations.append((mailbox, names))
        }
        if !busy { deliverNotifications(context, framerHeld: false) }
    }

    /// Tells the client what is pending, between commands or during IDLE. Between commands the
    /// framer is held, so no command starts while the selected mailbox's map changes.
    func deliverNotifications(_ context: ChannelHandlerContext, framerHeld: Bool) {
        let idle = if case .idle = mode { true } else { false }
        let commandState = if case .command = mode { true } else { false }
        guard let account, notify != nil, !notifyPending.isEmpty, idle || commandState else {
            if framerHeld { framer.resume() }
            return
        }
        let work = notifyPending
        notifyPending = NotifyPending()
        if !idle {
            busy = true
            if !framerHeld { framer.pause() }
        }
        // A change in the selected mailbox alone (the usual case) needs no look at the others.
        let selectedID = selected?.id
        guard work.list || work.subscriptions || !work.annotations.isEmpty || work.mailboxes.contains(where: { $0 != selectedID }) else {
            return pushSelectedIfWanted(context, work, idle: idle)
        }
        let store = self.store
        run(context, services.offload(on: context.eventLoop) {
            try store.read { tx in
                (try tx.mailboxes(of: account.id), work.subscriptions ? try tx.subscriptions(of: account.id) : nil)
            }
        }) { handler, context, result in
            switch result {
            case .success(let (boxes, subscriptions)):
                handler.sendNotifications(context, work, boxes, subscriptions)
            case .failure(let error):
                handler.logger.error("notify: \(error)")
            }
            handler.pushSelectedIfWanted(context, work, idle: idle)
        }
    }

    /// Under SELECTED, the selected mailbox's changes; then the push ends.
    private func pushSelectedIfWanted(_ context: ChannelHandlerContext, _ work: NotifyPending, idle: Bool) {
        guard let box = selected, work.mailboxes.contains(box.id), notify?.selectedGroup?.events.contains(.messageNew) == true
        else { return endNotifications(context, idle: idle) }
        pushSelected(context) { handler, context in handler.endNotifications(context, idle: idle) }
    }

    private func endNotifications(_ context: ChannelHandlerContext, idle: Bool) {
        context.flush()
        guard !idle else { return }
        busy = false
        if notifyPending.isEmpty { framer.resume() } else { deliverNotifications(context, framerHeld: true) }
    }

    /// LIST, STATUS and METADATA lines for what changed outside the selected mailbox.
    private func sendNotifications(_ context: ChannelHandlerContext, _ work: NotifyPending, _ boxes: [Mailbox],
                                   _ subscriptions: [String]?) {
        guard var registration = notify else { return }
        let byID = Dictionary(uniqueKeysWithValues: boxes.map { ($0.id, $0) })
        // §5.4 MailboxName: created, deleted and renamed mailboxes.
        if work.list {
            for (id, old) in registration.mailboxes where byID[id] == nil && registration.wants(.mailboxName, for: old.name) {
                send(context, "* LIST (\\NonExistent) \"/\" \(quotedName(old.name))")
            }
            for box in boxes {
                let old = registration.mailboxes[box.id]
                guard old?.name != box.name,
                      registration.wants(.mailboxName, for: box.name) || old.map({ registration.wants(.mailboxName, for: $0.name) }) == true
                else { continue }
                let oldName = old.map { " (\"OLDNAME\" (\(quotedName($0.name))))" } ?? ""
                send(context, "* LIST () \"/\" \(quotedName(box.name))\(oldName)")
            }
            registration.mailboxes = registration.mailboxes.filter { byID[$0.key] != nil }
            for (id, box) in byID {
                if registration.mailboxes[id] == nil { registration.mailboxes[id] = box } else { registration.mailboxes[id]!.name = box.name }
            }
        }
        // §5.5 SubscriptionChange.
        if let subscriptions {
            let now = Set(subscriptions)
            for name in now.subtracting(registration.subscriptions).sorted()
            where registration.wants(.subscriptionChange, for: name, subscriptions: now) {
                send(context, "* LIST (\\Subscribed) \"/\" \(quotedName(name))")
            }
            for name in registration.subscriptions.subtracting(now).sorted() where registration.wants(.subscriptionChange, for: name) {
                send(context, "* LIST () \"/\" \(quotedName(name))")
            }
            registration.subscriptions = now
        }
        // §5.1–§5.3 on other mailboxes: STATUS when messages came or went, or flags changed.
        for id in work.mailboxes {
            guard let box = byID[id], let old = registration.mailboxes[id] else { continue }
            registration.mailboxes[id] = box
            // The selected mailbox is never announced by STATUS (RFC 5465 §5.1).
            guard id != selected?.id, !box.isNoSelect else { continue }
            let arrivedOrLeft = old.messages != box.messages || old.uidNext != box.uidNext
            let flagsChanged = old.highestModSeq != box.highestModSeq
            if (arrivedOrLeft && registration.wants(.messageNew, for: box.name))
                || (!arrivedOrLeft && flagsChanged && registration.wants(.flagChange, for: box.name)) {
                send(context, notifyStatus(box))
            }
        }
        // §5.6, §5.7: which entries changed (RFC 5464 §4.4 unsolicited METADATA).
        for (mailbox, names) in work.annotations {
            let entries = names.map { MetadataEntry(name: $0, value: nil) }
            if let mailbox {
                guard let box = byID[mailbox], registration.wants(.mailboxMetadataChange, for: box.name) else { continue }
                sendMetadata(context, mailbox: box.name, entries, values: false)
            } else if registration.wantsServerMetadata {
                sendMetadata(context, mailbox: nil, entries, values: false)
            }
        }
        notify = registration
    }

    /// The selected mailbox's changes at once (SELECTED), EXPUNGEs held back for
    /// SELECTED-DELAYED, then MessageNew's FETCH items for the new messages.
    private func pushSelected(_ context: ChannelHandlerContext, then: @escaping (IMAPHandler, ChannelHandlerContext) -> Void) {
        guard let before = selected?.lastUID, let registration = notify else { return then(self, context) }
        dirty = false
        let allowed = expungeAllowed
        expungeAllowed = !registration.delayed
        refresh(context) { handler, context in
            handler.expungeAllowed = allowed
            guard let fetch = registration.selectedGroup?.fetch, !fetch.isEmpty, let box = handler.selected,
                  let account = handler.account else { return then(handler, context) }
            let targets = Array(box.uids.enumerated().lazy.filter { $0.element > before }
                .prefix(NotifyLimits.maxNewMessageFetches).map { ($0.offset + 1, $0.element) })
            guard !targets.isEmpty else { return then(handler, context) }
            let plan = FetchPlan(fetch, uid: true, uidOnly: handler.uidOnly, utf8: handler.utf8, changedSince: nil)
            let store = handler.store
            let allocator = context.channel.allocator
            let recent = handler.rev2 ? [] : box.recent
            handler.run(context, handler.services.offload(on: context.eventLoop) {
                try store.read { tx -> ByteBuffer in
                    let renderer = FetchRenderer(tx: tx, mailbox: box.id, plan: plan, keywordNames: try tx.keywords(of: account.id),
                                                 recent: recent, flagsChanged: [])
                    var out = allocator.buffer(capacity: 4096)
                    var next = 0
                    while next < targets.count {
                        let (after, missing) = try renderer.render(targets, from: next, into: &out)
                        guard after > next || missing > 0 else { break }
                        next = after
                    }
                    return out
                }
            }) { handler, context, result in
                if case .success(let out) = result { context.write(NIOAny(out), promise: nil) }
                then(handler, context)
            }
        }
    }
}
