import IMAPProtocol
import IMAPSearch
import MailStore
import NIOCore
import ServerSupport

/// Authenticated-state commands: mailboxes, STATUS, APPEND, SELECT (RFC 9051 §6.3).
extension IMAPHandler {
    /// A mailbox name as the client sent it, in the store's form: modified UTF-7 decoded unless
    /// UTF-8 is on, INBOX spelled `INBOX`, a trailing separator dropped. Nil when invalid.
    func storeName(_ wire: String) -> String? {
        var name = wire
        if !utf8 {
            guard let decoded = try? ModifiedUTF7.decode(wire) else { return nil }
            name = decoded
        }
        if name.count > 1, name.hasSuffix("/") { name.removeLast() }
        return try? MailboxName.normalize(name)
    }

    /// A mailbox name as the client reads it.
    func wireName(_ name: String) -> String { utf8 ? name : ModifiedUTF7.encode(name) }

    /// Writes a mailbox name as an astring-or-literal, quoted when it must be.
    func quotedName(_ name: String) -> String {
        var buffer = ByteBuffer()
        buffer.writeMailboxName(name, utf8Enabled: utf8)
        return String(buffer: buffer)
    }

    func invalidName(_ context: ChannelHandlerContext, _ tag: String) {
        reply(context, "\(tag) NO [CANNOT] Invalid mailbox name.")
    }

    // MARK: SELECT and EXAMINE (RFC 9051 §6.3.2, §6.3.3)

    func select(_ context: ChannelHandlerContext, _ tag: String, _ wire: String, readOnly: Bool,
                _ parameters: SelectParameters, _ account: Account) {
        if parameters.qresync != nil && !qresync {
            return reply(context, "\(tag) BAD QRESYNC must be enabled first.")
        }
        let hadSelection = selected != nil
        selected = nil
        if hadSelection, rev2 || qresync { send(context, "* OK [CLOSED] Previous mailbox closed.") }
        guard let name = storeName(wire) else { return invalidName(context, tag) }
        let store = self.store
        let uidLists = caches.uidLists
        let claimRecent = !rev2 && !readOnly
        let resync = parameters.qresync
        run(context, {
            var first = UID(UInt32.max)
            let box = try store.read { try $0.requireMailbox(of: account.id, named: name) }
            if box.isNoSelect { throw MailStoreError.mailboxNotSelectable(name) }
            if claimRecent && box.firstRecentUID < box.uidNext {
                first = try await store.write { try $0.claimRecent(box.id) }
            }
            return try store.read { tx -> SelectSnapshot in
                let box = try tx.requireMailbox(of: account.id, named: name)
                let uids = try uidLists.uids(tx, box)
                var firstUnseen: Int?
                if box.unseen > 0 {
                    var seq = 0
                    try tx.forEachMessage(in: box.id) { r in
                        seq += 1
                        if !r.flags.contains(.seen) { firstUnseen = seq; return false }
                        return true
                    }
                }
                let names = try tx.keywords(of: account.id)
                var snapshot = SelectSnapshot(mailbox: box, uids: uids, firstRecent: first, firstUnseen: firstUnseen,
                                              keywords: names.values.sorted())
                // RFC 7162 §3.2.5: what changed since the client's last sync, read from the change
                // log, so it costs in proportion to the changes, not to the mailbox.
                if let resync, resync.uidValidity == box.uidValidity {
                    for change in try tx.changes(in: box.id, since: ModSeq(resync.modSeq)) {
                        switch change.kind {
                        case .expunged:
                            if let known = resync.knownUIDs,
                               !SearchEvaluator.contains(known, change.uid.rawValue, last: box.uidNext.rawValue) { continue }
                            snapshot.vanished.append(change.uid)
                        case .updated:
                            guard let r = try tx.message(in: box.id, uid: change.uid) else { continue }
                            snapshot.changed.append(MessageInfo(record: r, keywordNames: r.keywords.compactMap { names[$0] }))
                        }
                    }
                }
                return snapshot
            }
        }) { handler, context, result in
            switch result {
            case .failure(let error):
                handler.reply(context, handler.failure(tag, error))
            case .success(let snap):
                handler.selected(context, tag, snap, readOnly: readOnly)
            }
        }
    }

    private func selected(_ context: ChannelHandlerContext, _ tag: String, _ snap: SelectSnapshot, readOnly: Bool) {
        let box = SelectedMailbox(mailbox: snap.mailbox, uids: snap.uids, readOnly: readOnly, firstRecent: snap.firstRecent)
        selected = box
        dirty = false
        let flags = (MessageFlags.names.map(\.1) + snap.keywords).joined(separator: " ")
        send(context, "* \(box.count) EXISTS")
        if !rev2 {
            send(context, "* \(box.recent.count) RECENT")
            // A sequence number: not under UIDONLY (RFC 9586 §3).
            if let unseen = snap.firstUnseen, !uidOnly { send(context, "* OK [UNSEEN \(unseen)] First unseen.") }
        }
        send(context, "* FLAGS (\(flags))")
        send(context, readOnly ? "* OK [PERMANENTFLAGS ()] Read-only mailbox."
                               : "* OK [PERMANENTFLAGS (\(flags) \\*)] Flags permitted.")
        send(context, "* OK [UIDVALIDITY \(snap.mailbox.uidValidity)] UIDs valid.")
        send(context, "* OK [UIDNEXT \(snap.mailbox.uidNext)] Predicted next UID.")
        send(context, "* OK [MAILBOXID (\(Self.objectID("F", UInt64(snap.mailbox.id.rawValue))))] Ok.")
        if condstore { send(context, "* OK [HIGHESTMODSEQ \(snap.mailbox.highestModSeq)] Highest.") }
        if rev2 { send(context, "* LIST () \"/\" \(quotedName(snap.mailbox.name))") }
        if !snap.vanished.isEmpty { send(context, "* VANISHED (EARLIER) \(Self.uidSet(snap.vanished.sorted()))") }
        for info in snap.changed {
            guard let seq = box.sequence(of: info.uid) else { continue }
            send(context, unsolicitedFetch(seq, info))
        }
        reply(context, "\(tag) OK [\(readOnly ? "READ-ONLY" : "READ-WRITE")] \(readOnly ? "EXAMINE" : "SELECT") completed.")
    }

    // MARK: CREATE, DELETE, RENAME, SUBSCRIBE (RFC 9051 §6.3.4–§6.3.8)

    func create(_ context: ChannelHandlerContext, _ tag: String, _ wire: String, specialUse: [String], _ account: Account) {
        guard let name = storeName(wire) else { return invalidName(context, tag) }
        var uses: SpecialUse = []
        for attribute in specialUse {
            guard let u = SpecialUse(name: attribute) else {
                return reply(context, "\(tag) NO [USEATTR] Unsupported special-use attribute \(attribute).")
            }
            uses.insert(u)
        }
        if name == "INBOX" { return reply(context, "\(tag) NO [ALREADYEXISTS] INBOX already exists.") }
        let store = self.store
        let use = uses
        run(context, { try await store.write { try $0.createMailbox(account: account.id, name: name, specialUse: use).id } }) {
            handler, context, result in
            switch result {
            case .success(let id):
                // RFC 8474 §4.1: the new mailbox's id in the tagged OK.
                handler.complete(context, tag, "OK [MAILBOXID (\(Self.objectID("F", UInt64(id.rawValue))))] CREATE completed.")
            case .failure(let error): handler.reply(context, handler.failure(tag, error))
            }
        }
    }

    func delete(_ context: ChannelHandlerContext, _ tag: String, _ wire: String, _ account: Account) {
        guard let name = storeName(wire) else { return invalidName(context, tag) }
        let store = self.store
        run(context, {
            try await store.write { tx -> MailboxID in
                let box = try tx.requireMailbox(of: account.id, named: name)
                try tx.deleteMailbox(box.id)
                return box.id
            }
        }) { handler, context, result in
            switch result {
            case .success(let id):
                if handler.selected?.id == id {
                    handler.selected = nil
                    handler.send(context, "* OK [CLOSED] The selected mailbox was deleted.")
                }
                handler.complete(context, tag, "OK DELETE completed.")
            case .failure(let error):
                handler.reply(context, handler.failure(tag, error))
            }
        }
    }

    func rename(_ context: ChannelHandlerContext, _ tag: String, _ fromWire: String, _ toWire: String, _ account: Account) {
        guard let from = storeName(fromWire), let to = storeName(toWire) else { return invalidName(context, tag) }
        let store = self.store
        run(context, {
            try await store.write { tx in
                let box = try tx.requireMailbox(of: account.id, named: from)
                _ = try tx.renameMailbox(box.id, to: to)
            }
        }) { handler, context, result in
            switch result {
            case .success: handler.complete(context, tag, "OK RENAME completed.")
            case .failure(let error): handler.reply(context, handler.failure(tag, error))
            }
        }
    }

    func subscribe(_ context: ChannelHandlerContext, _ tag: String, _ wire: String, _ on: Bool, _ account: Account) {
        guard let name = storeName(wire) else { return invalidName(context, tag) }
        let store = self.store
        let verb = on ? "SUBSCRIBE" : "UNSUBSCRIBE"
        run(context, { try await store.write { try $0.setSubscribed(account: account.id, name: name, on) } }) {
            handler, context, result in
            switch result {
            case .success: handler.complete(context, tag, "OK \(verb) completed.")
            case .failure(let error): handler.reply(context, handler.failure(tag, error))
            }
        }
    }

    // MARK: LIST and LSUB (RFC 9051 §6.3.9, RFC 5258, RFC 6154, RFC 5819)

    func list(_ context: ChannelHandlerContext, _ tag: String, _ command: ListCommand, _ account: Account) {
        // `LIST "" ""` asks for the hierarchy separator.
        if command.patterns.count == 1, command.patterns[0].isEmpty {
            send(context, "* LIST (\\Noselect) \"/\" \"\"")
            return complete(context, tag, "OK LIST completed.")
        }
        var patterns: [String] = []
        for p in command.patterns {
            let full = command.reference + p
            guard let decoded = utf8 ? full : try? ModifiedUTF7.decode(full) else { return invalidName(context, tag) }
            patterns.append(decoded)
        }
        let selectSubscribed = command.selectionOptions.contains("SUBSCRIBED")
        let recursive = command.selectionOptions.contains("RECURSIVEMATCH")
        let specialOnly = command.selectionOptions.contains("SPECIAL-USE")
        let returnSubscribed = selectSubscribed || command.returnOptions.contains("SUBSCRIBED")
        let statusItems = command.returnStatus
        let metadata = command.returnMetadata
        let store = self.store
        run(context, services.offload(on: context.eventLoop) {
            try store.read { tx -> ([Mailbox], Set<String>, [MailboxID: Int], [MailboxID: [Annotation]]) in
                let boxes = try tx.mailboxes(of: account.id)
                let subscribed = returnSubscribed ? Set(try tx.subscriptions(of: account.id)) : []
                var deletedBytes: [MailboxID: Int] = [:]
                if statusItems?.contains(.deletedStorage) == true {
                    for box in boxes { deletedBytes[box.id] = try Self.deletedBytes(tx, box) }
                }
                var annotations: [MailboxID: [Annotation]] = [:]
                if metadata != nil {
                    for box in boxes { annotations[box.id] = try tx.annotations(account: account.id, mailbox: box.id) }
                }
                return (boxes, subscribed, deletedBytes, annotations)
            }
        }) { handler, context, result in
            guard case .success(let (boxes, subscribed, deletedBytes, annotations)) = result else {
                if case .failure(let error) = result { handler.reply(context, handler.failure(tag, error)) }
                return
            }
            let byName = Dictionary(boxes.map { ($0.name, $0) }, uniquingKeysWith: { a, _ in a })
            var names = Set(boxes.map(\.name))
            // RFC 5258 §3.5: with RECURSIVEMATCH, a parent of a subscribed mailbox is listed with
            // CHILDINFO even when it is not subscribed itself.
            var parentsOfSubscribed = Set<String>()
            if selectSubscribed {
                names = subscribed
                if recursive {
                    for name in subscribed { parentsOfSubscribed.formUnion(MailboxName.ancestors(of: name)) }
                    names.formUnion(parentsOfSubscribed)
                }
            }
            for name in names.sorted() where patterns.contains(where: { MailboxName.matches(name, pattern: $0) }) {
                let box = byName[name]
                if specialOnly, box?.specialUse.isEmpty != false { continue }
                var attributes: [String] = []
                if let box {
                    if box.isNoSelect { attributes.append("\\Noselect") }
                    let prefix = name + "/"
                    attributes.append(boxes.contains { $0.name.hasPrefix(prefix) } ? "\\HasChildren" : "\\HasNoChildren")
                    attributes += box.specialUse.attributeNames
                } else {
                    attributes.append("\\NonExistent")
                }
                if returnSubscribed, subscribed.contains(name) { attributes.append("\\Subscribed") }
                let childInfo = parentsOfSubscribed.contains(name) ? " (\"CHILDINFO\" (\"SUBSCRIBED\"))" : ""
                handler.send(context, "* LIST (\(attributes.joined(separator: " "))) \"/\" \(handler.quotedName(name))\(childInfo)")
                if let statusItems, let box, !box.isNoSelect {
                    handler.send(context, handler.statusLine(box, statusItems, deletedBytes: deletedBytes[box.id]))
                }
                // RFC 9590: the requested entries of each listed mailbox, as GETMETADATA gives them.
                if let metadata, let box {
                    let answer = Self.metadataAnswer(annotations[box.id] ?? [], requested: metadata.entries,
                                                     depth: .zero, maxSize: metadata.maxSize)
                    handler.sendMetadata(context, mailbox: name, answer.entries)
                }
            }
            handler.complete(context, tag, "OK LIST completed.")
        }
    }

    func lsub(_ context: ChannelHandlerContext, _ tag: String, _ reference: String, _ pattern: String, _ account: Account) {
        guard let decoded = utf8 ? reference + pattern : try? ModifiedUTF7.decode(reference + pattern) else {
            return invalidName(context, tag)
        }
        let store = self.store
        run(context, services.offload(on: context.eventLoop) {
            try store.read { tx in (try tx.subscriptions(of: account.id), try tx.mailboxes(of: account.id)) }
        }) { handler, context, result in
            switch result {
            case .success(let (subscriptions, boxes)):
                let existing = Dictionary(boxes.map { ($0.name, $0) }, uniquingKeysWith: { a, _ in a })
                for name in subscriptions.sorted() where MailboxName.matches(name, pattern: decoded) {
                    let noSelect = existing[name].map(\.isNoSelect) ?? true
                    handler.send(context, "* LSUB (\(noSelect ? "\\Noselect" : "")) \"/\" \(handler.quotedName(name))")
                }
                handler.complete(context, tag, "OK LSUB completed.")
            case .failure(let error):
                handler.reply(context, handler.failure(tag, error))
            }
        }
    }

    // MARK: STATUS (RFC 9051 §6.3.11)

    func status(_ context: ChannelHandlerContext, _ tag: String, _ wire: String, _ items: [StatusItem], _ account: Account) {
        guard let name = storeName(wire) else { return invalidName(context, tag) }
        let store = self.store
        let wantsDeleted = items.contains(.deletedStorage)
        run(context, services.offload(on: context.eventLoop) {
            try store.read { tx -> (Mailbox, Int?) in
                let box = try tx.requireMailbox(of: account.id, named: name)
                return (box, wantsDeleted ? try Self.deletedBytes(tx, box) : nil)
            }
        }) { handler, context, result in
            switch result {
            case .success(let (box, _)) where box.isNoSelect:
                handler.reply(context, "\(tag) NO [CANNOT] Mailbox cannot hold messages.")
            case .success(let (box, deletedBytes)):
                handler.send(context, handler.statusLine(box, items, deletedBytes: deletedBytes))
                handler.complete(context, tag, "OK STATUS completed.")
            case .failure(let error):
                handler.reply(context, handler.failure(tag, error))
            }
        }
    }

    /// Octets of the `\Deleted` messages: a scan, skipped when the count says there are none.
    static func deletedBytes(_ tx: StoreReader, _ box: Mailbox) throws -> Int {
        guard box.deleted > 0 else { return 0 }
        var total = 0
        try tx.forEachMessage(in: box.id) { r in
            if r.flags.contains(.deleted) { total += r.size }
            return true
        }
        return total
    }

    func statusLine(_ box: Mailbox, _ items: [StatusItem], deletedBytes: Int? = nil) -> String {
        let values = items.map { item -> String in
            switch item {
            case .messages: "MESSAGES \(box.messages)"
            case .uidNext: "UIDNEXT \(box.uidNext)"
            case .uidValidity: "UIDVALIDITY \(box.uidValidity)"
            case .unseen: "UNSEEN \(box.unseen)"
            case .deleted: "DELETED \(box.deleted)"
            case .size: "SIZE \(box.size)"
            case .recent: "RECENT \(box.firstRecentUID < box.uidNext ? recentCount(box) : 0)"
            case .highestModSeq: "HIGHESTMODSEQ \(box.highestModSeq)"
            case .appendLimit: "APPENDLIMIT \(IMAPLimits.maxLiteralSize)"
            case .mailboxID: "MAILBOXID (\(Self.objectID("F", UInt64(box.id.rawValue))))"
            // RFC 9208 §4.4: in units of 1024 octets, rounded up like the STORAGE usage.
            case .deletedStorage: "DELETED-STORAGE \(((deletedBytes ?? 0) + 1023) / 1024)"
            }
        }
        return "* STATUS \(quotedName(box.name)) (\(values.joined(separator: " ")))"
    }

    /// An upper bound of `\Recent` messages not yet claimed: exact when UIDs were not expunged.
    private func recentCount(_ box: Mailbox) -> Int {
        min(box.messages, Int(box.uidNext.rawValue - box.firstRecentUID.rawValue))
    }

    // MARK: APPEND (RFC 9051 §6.3.12, RFC 4315 APPENDUID, RFC 3502 MULTIAPPEND)

    func append(_ context: ChannelHandlerContext, _ tag: String, _ wire: String, _ messages: [AppendMessage], _ account: Account) {
        guard let name = storeName(wire) else { return invalidName(context, tag) }
        var items: [AppendItem] = []
        for m in messages {
            guard !m.data.isEmpty else { return reply(context, "\(tag) NO Cannot append an empty message.") }
            guard let (flags, keywords) = parseFlags(m.flags) else { return reply(context, "\(tag) BAD Invalid flag.") }
            items.append(AppendItem(flags: flags, keywords: keywords, date: m.internalDate.map(Self.zonedDate), data: m.data))
        }
        let store = self.store
        let appended = items
        run(context, {
            let ready = appended.map { ($0, PreparedMessage($0.data)) }
            return try await store.write { tx -> (UInt32, [UID]) in
                let box = try tx.requireMailbox(of: account.id, named: name)
                var uids: [UID] = []
                for (item, message) in ready {
                    let record = try tx.append(to: box.id, message, flags: item.flags, keywords: item.keywords,
                                               internalDate: item.date)
                    uids.append(record.uid)
                }
                return (box.uidValidity, uids)
            }
        }) { handler, context, result in
            switch result {
            case .success(let (validity, uids)):
                // RFC 9051 §6.3.12: appending to the selected mailbox announces the new message.
                handler.complete(context, tag, "OK [APPENDUID \(validity) \(Self.uidSet(uids))] APPEND completed.",
                                 refresh: handler.selected?.name == name)
            case .failure(let error):
                handler.reply(context, handler.failure(tag, error, missing: "TRYCREATE"))
            }
        }
    }

    /// An RFC 8474 object id: a letter for the kind (`M` email, `T` thread, `F` mailbox) and the
    /// store's number in hex. Store numbers are never reused, so ids stay unique.
    static func objectID(_ kind: Character, _ n: UInt64) -> String { "\(kind)\(String(n, radix: 16))" }

    static func zonedDate(_ d: IMAPDateTime) -> ZonedDate {
        ZonedDate(seconds: d.secondsSince1970, zoneMinutes: Int16(d.zoneMinutes))
    }

    /// System flags and keywords from flag names; nil when a `\` name is not a system flag.
    /// `\Recent` is ignored (RFC 9051 §2.3.2: it cannot be set).
    func parseFlags(_ names: [String]) -> (MessageFlags, [String])? {
        var flags: MessageFlags = []
        var keywords: [String] = []
        for name in names {
            if name.hasPrefix("\\") {
                if name.lowercased() == "\\recent" { continue }
                guard let f = MessageFlags(name: name) else { return nil }
                flags.insert(f)
            } else {
                keywords.append(name)
            }
        }
        return (flags, keywords)
    }

    /// A UID set in the compact form of RFC 9051 §9 (`1:3,7`), from ascending or unsorted UIDs.
    static func uidSet(_ uids: [UID]) -> String {
        var parts: [String] = []
        var start: UInt32?
        var last: UInt32 = 0
        for uid in uids.map(\.rawValue) {
            if let s = start, uid == last + 1 { last = uid; _ = s; continue }
            if let s = start { parts.append(s == last ? "\(s)" : "\(s):\(last)") }
            start = uid
            last = uid
        }
        if let s = start { parts.append(s == last ? "\(s)" : "\(s):\(last)") }
        return parts.joined(separator: ",")
    }
}

struct SelectSnapshot: Sendable {
    var mailbox: Mailbox
    var uids: [UID]
    var firstRecent: UID
    var firstUnseen: Int?
    var keywords: [String]
    /// QRESYNC: UIDs expunged since the client's modseq, and messages changed since then.
    var vanished: [UID] = []
    var changed: [MessageInfo] = []
}

struct AppendItem: Sendable {
    var flags: MessageFlags
    var keywords: [String]
    var date: ZonedDate?
    var data: [UInt8]
}
