import Foundation
import IMAPProtocol
import Logging
import MailStore
import NIOCore
import ServerSupport

/// One IMAP connection: assembles commands from the framer's lines and literals, parses them,
/// and runs them against the store in order, one at a time. Store work runs on the thread pool;
/// all session state lives on the channel's event loop.
final class IMAPHandler: ChannelInboundHandler {
    typealias InboundIn = FramedInput
    typealias OutboundOut = ByteBuffer

    enum Mode {
        case command
        /// Inside AUTHENTICATE: the next line is a base64 response.
        case sasl(tag: String, SASLExchange)
        /// Waiting for the client's empty response after SCRAM's final data.
        case saslFinal(tag: String, Account)
        case idle(tag: String)
        case closed
    }

    var mode = Mode.command
    var account: Account?
    var selected: SelectedMailbox?
    /// Extensions the client turned on with ENABLE, upper-cased.
    var enabled: Set<String> = []
    /// COMPRESS=DEFLATE is on (RFC 4978); it stays on for the rest of the connection.
    var compressed = false
    /// The change feed said the selected mailbox changed since the last refresh.
    var dirty = false
    /// A command is being read or run (or a NOTIFY push holds the framer): nothing unsolicited
    /// goes out until it ends.
    var busy = false
    /// RFC 5465: what the client asked to be told, and what is not told yet.
    var notify: NotifyRegistration?
    var notifyPending = NotifyPending()
    let connection: Connection
    let framer: LineFramer
    private var assembler = CommandAssembler()
    /// The server's message buffer this command's literals hold, given back when it ends.
    private lazy var literalHold = BufferHold(services.messageBuffers, for: connection.remoteIP)
    /// While literal bytes are awaited: when the last ones came, and the timer that ends a
    /// literal whose sender went quiet (`Limits.literalIdleTimeout`).
    private var literalProgress: ContinuousClock.Instant = .now
    private var literalWatch: RepeatedTask?
    var feed: Task<Void, Never>?
    /// The INPROGRESS timer of the command running now.
    private var progress: RepeatedTask?
    /// Whether the command in progress may be followed by EXPUNGE responses (RFC 9051 §7.5.1).
    var expungeAllowed = true
    var commandStart: ContinuousClock.Instant = .now
    var commandName = ""

    let caches: MailboxCaches

    init(connection: Connection, framer: LineFramer, caches: MailboxCaches) {
        self.connection = connection
        self.framer = framer
        self.caches = caches
    }

    var services: ServerServices { connection.services }
    var store: MailStore { services.store }
    var logger: Logger { connection.logger }
    var rev2: Bool { enabled.contains("IMAP4REV2") }
    /// RFC 7162: CONDSTORE is on once enabled, implied by QRESYNC, or used by any command.
    var condstore: Bool { enabled.contains("CONDSTORE") || qresync }
    var qresync: Bool { enabled.contains("QRESYNC") }
    /// RFC 9586: no message sequence numbers either way.
    var uidOnly: Bool { enabled.contains("UIDONLY") }
    /// Mailbox names and strings go as UTF-8 (RFC 9051 §5.1; RFC 6855).
    var utf8: Bool { rev2 || enabled.contains("UTF8=ACCEPT") }

    // MARK: Channel events

    func channelActive(context: ChannelHandlerContext) {
        send(context, "* OK [CAPABILITY \(capabilities())] mstore IMAP4rev2 ready.")
        context.flush()
    }

    func channelInactive(context: ChannelHandlerContext) {
        mode = .closed
        feed?.cancel()
        feed = nil
        progress?.cancel()
        logger.info("disconnect")
        context.fireChannelInactive()
    }

    func userInboundEventTriggered(context: ChannelHandlerContext, event: Any) {
        if event is ServerShutdownEvent {
            // RFC 9051 §7.1.5: BYE before the server closes the connection.
            mode = .closed
            send(context, "* BYE [UNAVAILABLE] Server shutting down.")
            context.flush()
            return
        }
        if event is IdleStateHandler.IdleStateEvent {
            logger.info("idle timeout")
            close(context, "* BYE Disconnected for inactivity.")
            return
        }
        context.fireUserInboundEventTriggered(event)
    }

    func errorCaught(context: ChannelHandlerContext, error: any Error) {
        logger.debug("connection error: \(error)")
        context.close(promise: nil)
    }

    func channelRead(context: ChannelHandlerContext, data: NIOAny) {
        switch unwrapInboundIn(data) {
        case .lineTooLong:
            close(context, "* BYE [TOOBIG] Command line too long.")
        case .lines:
            // IMAP never asks for blocks of lines; nothing to do but go on.
            framer.resume()
        case .bytes(let bytes):
            literalProgress = .now
            if let step = assembler.literal(bytes.readableBytesView) {
                assembled(context, step)
            } else {
                framer.resume()
            }
        case .line(let line):
            let bytes = Array(line.readableBytesView)
            switch mode {
            case .closed:
                return
            case .idle(let tag):
                endIdle(context, tag: tag, line: bytes)
            case .sasl(let tag, let exchange):
                saslResponse(context, tag: tag, exchange, bytes)
            case .saslFinal(let tag, let account):
                if bytes.isEmpty { authenticated(context, tag: tag, account) } else { authFailed(context, tag: tag, user: account.name) }
            case .command:
                busy = true
                commandStart = .now
                assembled(context, assembler.line(bytes))
            }
        }
    }

    /// Acts on what the assembler made of the input so far.
    private func assembled(_ context: ChannelHandlerContext, _ step: CommandAssembler.Step) {
        if case .literal = step {} else { literalHold.release() }
        switch step {
        case .complete(let command):
            switch CommandParser.parse(command) {
            case .success(let tagged):
                commandName = tagged.command.name
                dispatch(context, tagged)
            case .failure(let error):
                commandName = "BAD"
                reply(context, "\(error.tag ?? "*") BAD \(error.message)")
            }
        case .literal(let count, let synchronizing):
            guard literalHold.grow(by: count) else {
                services.metrics.messageBufferFull("imap")
                logger.notice("message buffer full: literal refused", metadata: ["bytes": "\(count)"])
                return assembled(context, assembler.refuseLiteral(
                    "[LIMIT] The server holds too much incoming mail; try again later", synchronizing: synchronizing))
            }
            watchLiteral(context)
            framer.readRaw(count: count)
            if synchronizing {
                send(context, "+ Ready for literal data")
                context.flush()
            }
            framer.resume()
        case .reject(let tag, let message, let closeConnection):
            if closeConnection {
                close(context, "* BYE \(message)")
            } else {
                reply(context, "\(tag ?? "*") NO \(message)")
            }
        }
    }

    // MARK: Dispatch

    private func dispatch(_ context: ChannelHandlerContext, _ tagged: TaggedCommand) {
        let tag = tagged.tag
        expungeAllowed = true
        if account != nil { startProgress(context, tag: tag) }
        switch tagged.command {
        // Any state.
        case .capability:
            send(context, "* CAPABILITY \(capabilities())")
            complete(context, tag, "OK CAPABILITY completed.")
        case .noop, .check:
            complete(context, tag, "OK \(tagged.command.name) completed.", refresh: true)
        case .logout:
            send(context, "* BYE Logging out.")
            mode = .closed
            context.writeLastLine("\(tag) OK LOGOUT completed.")
        case .id(let fields):
            // RFC 2971 §3.1: the client's identity goes to the log, bounded in size.
            if let fields, !fields.isEmpty {
                let text = fields.prefix(IMAPLimits.maxIDFields)
                    .map { "\($0.name.prefix(30))=\(($0.value ?? "NIL").prefix(128))" }.joined(separator: " ")
                connection.logger[metadataKey: "client"] = "\(text)"
                logger.info("client id")
            }
            send(context, "* ID (\"name\" \"mstore\" \"vendor\" \"mstore\")")
            complete(context, tag, "OK ID completed.")

        // Not authenticated.
        case .starttls:
            guard account == nil else { return reply(context, "\(tag) BAD Already authenticated.") }
            startTLS(context, tag: tag)
        case .login(let user, let password):
            guard account == nil else { return reply(context, "\(tag) BAD Already authenticated.") }
            guard connection.allowsPlaintextAuth else { return reply(context, "\(tag) NO [PRIVACYREQUIRED] \(Self.plaintextRefusal)") }
            let exchange = SASLExchange(mechanism: .plain, services: services)
            run(context, { await exchange.verify(user: user, password: password) }) { handler, context, step in
                handler.saslStep(context, tag: tag, step)
            }
        case .authenticate(let mechanism, let initial):
            guard account == nil else { return reply(context, "\(tag) BAD Already authenticated.") }
            authenticate(context, tag: tag, mechanism: mechanism, initial: initial)

        default:
            guard let account else {
                return reply(context, "\(tag) BAD \(tagged.command.name) needs authentication first.")
            }
            // RFC 7162 §3.1: a command that uses CONDSTORE turns it on for the session.
            if tagged.command.usesCondstore { enabled.insert("CONDSTORE") }
            dispatchAuthenticated(context, tag, tagged.command, account)
        }
    }

    private func dispatchAuthenticated(_ context: ChannelHandlerContext, _ tag: String, _ command: Command, _ account: Account) {
        switch command {
        case .enable(let names):
            enable(context, tag, names)
        case .select(let name, let readOnly, let parameters):
            select(context, tag, name, readOnly: readOnly, parameters, account)
        case .create(let name, let specialUse):
            create(context, tag, name, specialUse: specialUse, account)
        case .delete(let name):
            delete(context, tag, name, account)
        case .rename(let from, let to):
            rename(context, tag, from, to, account)
        case .subscribe(let name):
            subscribe(context, tag, name, true, account)
        case .unsubscribe(let name):
            subscribe(context, tag, name, false, account)
        case .list(let list):
            self.list(context, tag, list, account)
        case .lsub(let reference, let pattern):
            lsub(context, tag, reference, pattern, account)
        case .namespace:
            send(context, "* NAMESPACE ((\"\" \"/\")) NIL NIL")
            complete(context, tag, "OK NAMESPACE completed.")
        case .status(let name, let items):
            status(context, tag, name, items, account)
        case .append(let name, let messages):
            resolvingCatenate(context, tag, messages) { handler, context, messages in
                handler.append(context, tag, name, messages, account)
            }
        case .idle:
            startIdle(context, tag: tag)
        case .starttls, .login, .authenticate:
            reply(context, "\(tag) BAD Already authenticated.")
        case .compress, .unauthenticate, .getQuota, .getQuotaRoot, .setQuota, .getMetadata, .setMetadata, .notify:
            dispatchExtension(context, tag, command, account)
        default:
            guard let box = selected else {
                return reply(context, "\(tag) BAD \(command.name) needs a selected mailbox.")
            }
            dispatchSelected(context, tag, command, box)
        }
    }

    private func dispatchSelected(_ context: ChannelHandlerContext, _ tag: String, _ command: Command, _ box: SelectedMailbox) {
        if uidOnly && command.usesSequenceNumbers {
            return reply(context, "\(tag) BAD [UIDREQUIRED] Message sequence numbers are off (UIDONLY).")
        }
        switch command {
        case .close:
            close(context, tag, box)
        case .unselect:
            selected = nil
            complete(context, tag, "OK UNSELECT completed.")
        case .expunge(let uids):
            expunge(context, tag, uids, box)
        case .search(let search, let uid):
            expungeAllowed = uid
            self.search(context, tag, search, uid: uid, box)
        case .sort(let sort, let uid):
            expungeAllowed = uid
            self.sort(context, tag, sort, uid: uid, box)
        case .thread(let thread, let uid):
            expungeAllowed = uid
            self.thread(context, tag, thread, uid: uid, box)
        case .fetch(let set, let attributes, let modifiers, let uid):
            expungeAllowed = uid
            fetch(context, tag, set, attributes, modifiers, uid: uid, box)
        case .store(let set, let action, let uid):
            expungeAllowed = uid
            self.store(context, tag, set, action, uid: uid, box)
        case .copy(let set, let name, let uid):
            copy(context, tag, set, name, uid: uid, move: false, box)
        case .move(let set, let name, let uid):
            copy(context, tag, set, name, uid: uid, move: true, box)
        case .cancelUpdate(let tags):
            cancelUpdate(context, tag, tags, box)
        case .replace(let number, let name, let message, let uid):
            resolvingCatenate(context, tag, [message]) { handler, context, messages in
                handler.replace(context, tag, number, name, messages[0], uid: uid, box)
            }
        default:
            reply(context, "\(tag) BAD Unexpected \(command.name).")
        }
    }

    // MARK: Capabilities

    static let plaintextRefusal = "Plaintext authentication is disallowed on non-secure connections."

    /// Always offered after login (RFC 9051 §7.2.2 and the extensions that work).
    static let sessionCapabilities = ["IMAP4rev2", "IMAP4rev1", "SASL-IR", "LITERAL+", "ID", "ENABLE", "IDLE",
                                      "NAMESPACE", "UIDPLUS", "MOVE", "UNSELECT", "CHILDREN", "SPECIAL-USE",
                                      "BINARY", "ESEARCH", "CONDSTORE", "QRESYNC", "LIST-EXTENDED", "LIST-STATUS",
                                      "CREATE-SPECIAL-USE", "OBJECTID", "SAVEDATE", "WITHIN", "PREVIEW", "REPLACE",
                                      "UTF8=ACCEPT", "INPROGRESS", "SORT", "SORT=DISPLAY", "ESORT",
                                      "THREAD=ORDEREDSUBJECT", "THREAD=REFERENCES", "SEARCHRES", "PARTIAL", "UIDONLY", "CATENATE", "NOTIFY",
                                      "CONTEXT=SEARCH", "CONTEXT=SORT"]

    func offeredMechanisms() -> [SASLMechanism] {
        SASLMechanism.allCases.filter { !$0.sendsPassword || connection.allowsPlaintextAuth }
    }

    func capabilities() -> String {
        var caps = Self.sessionCapabilities
        if account == nil {
            if connection.canStartTLS && !compressed { caps.append("STARTTLS") }
            if !connection.allowsPlaintextAuth { caps.append("LOGINDISABLED") }
            caps += offeredMechanisms().map { "AUTH=\($0.rawValue)" }
        } else {
            caps += Self.authenticatedCapabilities
        }
        return caps.joined(separator: " ")
    }

    private func enable(_ context: ChannelHandlerContext, _ tag: String, _ names: [String]) {
        // RFC 5161 §3.1: only extensions that can be enabled are listed in ENABLED.
        let known: Set<String> = ["IMAP4REV2", "UTF8=ACCEPT", "CONDSTORE", "QRESYNC", "UIDONLY"]
        var newly: [String] = []
        for name in names where known.contains(name) && !enabled.contains(name) {
            enabled.insert(name)
            newly.append(name == "IMAP4REV2" ? "IMAP4rev2" : name)
        }
        send(context, "* ENABLED" + newly.map { " " + $0 }.joined())
        complete(context, tag, "OK ENABLE completed.")
    }

    // MARK: STARTTLS (RFC 9051 §6.2.1)

    private func startTLS(_ context: ChannelHandlerContext, tag: String) {
        guard connection.canStartTLS else { return reply(context, "\(tag) BAD TLS is not available.") }
        // TLS goes under compression, never over it (RFC 4978 §3): here after UNAUTHENTICATE.
        guard !compressed else { return reply(context, "\(tag) BAD STARTTLS after COMPRESS.") }
        guard framer.bufferedBytes == 0 else {
            logger.notice("STARTTLS with pipelined data: closing")
            return close(context, "* BYE Data after STARTTLS.")
        }
        send(context, "\(tag) OK Begin TLS negotiation now.")
        context.flush()
        do {
            guard try StartTLS.upgrade(channel: context.channel, framer: framer, connection: connection) else {
                return close(context, "* BYE Data after STARTTLS.")
            }
        } catch {
            logger.error("STARTTLS failed: \(error)")
            context.close(promise: nil)
            return
        }
        finish(context)
    }

    // MARK: Authentication (RFC 9051 §6.2.2, RFC 4959 SASL-IR)

    private func authenticate(_ context: ChannelHandlerContext, tag: String, mechanism name: String, initial: String?) {
        guard let mechanism = SASLMechanism(name: name) else {
            return reply(context, "\(tag) NO Unsupported authentication mechanism.")
        }
        guard offeredMechanisms().contains(mechanism) else {
            return reply(context, "\(tag) NO [PRIVACYREQUIRED] \(Self.plaintextRefusal)")
        }
        var initialBytes: [UInt8]?
        if let initial {
            guard let decoded = Self.decodeBase64(initial) else { return reply(context, "\(tag) BAD Invalid base64.") }
            initialBytes = decoded
        }
        let exchange = SASLExchange(mechanism: mechanism, services: services)
        mode = .sasl(tag: tag, exchange)
        let initialResponse = initialBytes
        run(context, { await exchange.start(initialResponse: initialResponse) }) { handler, context, step in
            handler.saslStep(context, tag: tag, step)
        }
    }

    private func saslResponse(_ context: ChannelHandlerContext, tag: String, _ exchange: SASLExchange, _ line: [UInt8]) {
        if line == [UInt8(ascii: "*")] {
            mode = .command
            return reply(context, "\(tag) BAD Authentication cancelled.")
        }
        guard let data = Self.decodeBase64(String(decoding: line, as: UTF8.self)) else {
            mode = .command
            return reply(context, "\(tag) BAD Invalid base64.")
        }
        run(context, { await exchange.respond(data) }) { handler, context, step in
            handler.saslStep(context, tag: tag, step)
        }
    }

    private func saslStep(_ context: ChannelHandlerContext, tag: String, _ step: SASLStep) {
        switch step {
        case .challenge(let bytes):
            send(context, "+ " + Data(bytes).base64EncodedString())
            finish(context)
        case .success(let account, let finalData?):
            mode = .saslFinal(tag: tag, account)
            send(context, "+ " + Data(finalData).base64EncodedString())
            finish(context)
        case .success(let account, nil):
            authenticated(context, tag: tag, account)
        case .failure(let user):
            authFailed(context, tag: tag, user: user)
        case .malformed(let why):
            mode = .command
            reply(context, "\(tag) BAD \(why)")
        }
    }

    private func authFailed(_ context: ChannelHandlerContext, tag: String, user: String?) {
        mode = .command
        services.metrics.authFailure("imap")
        logger.notice("authentication failed", metadata: ["user": "\(user ?? "")"])
        let delay = services.authThrottle.recordFailure(ip: connection.remoteIP, user: user)
        let bound = NIOLoopBound((self, context), eventLoop: context.eventLoop)
        context.eventLoop.scheduleTask(in: .nanoseconds(delay.nanoseconds)) {
            let (handler, context) = bound.value
            handler.reply(context, "\(tag) NO [AUTHENTICATIONFAILED] Authentication failed.")
        }
    }

    private func authenticated(_ context: ChannelHandlerContext, tag: String, _ account: Account) {
        mode = .command
        services.authThrottle.recordSuccess(user: account.name)
        self.account = account
        connection.logger[metadataKey: "user"] = "\(account.name)"
        logger.info("login")
        subscribeToChanges(context, account)
        reply(context, "\(tag) OK [CAPABILITY \(capabilities())] Logged in.")
    }

    static func decodeBase64(_ text: String) -> [UInt8]? {
        if text == "=" { return [] }  // RFC 4959 §3: an empty initial response
        return Data(base64Encoded: text).map(Array.init)
    }

    // MARK: Change feed and IDLE (RFC 2177, RFC 9051 §6.3.13)

    /// Follows the account's changes: marks the session dirty, and pushes updates during IDLE.
    private func subscribeToChanges(_ context: ChannelHandlerContext, _ account: Account) {
        let events = store.events(for: account.id)
        let bound = NIOLoopBound((self, context), eventLoop: context.eventLoop)
        let loop = context.eventLoop
        feed = Task {
            for await event in events {
                loop.execute {
                    let (handler, context) = bound.value
                    handler.storeEvent(context, event)
                }
            }
        }
    }

    func mailboxChanged(_ context: ChannelHandlerContext, _ mailbox: MailboxID) {
        guard selected?.id == mailbox else { return }
        dirty = true
        if case .idle = mode { pushUpdates(context) }
    }

    private func startIdle(_ context: ChannelHandlerContext, tag: String) {
        // IDLE waits for the client, so it needs no INPROGRESS.
        progress?.cancel()
        mode = .idle(tag: tag)
        // IDLE waits for the client: what NOTIFY has to say goes out meanwhile.
        busy = false
        send(context, "+ idling")
        context.flush()
        dirty = true
        pushUpdates(context)
        if notify != nil && !notifyPending.isEmpty { deliverNotifications(context, framerHeld: false) }
        framer.resume()
    }

    /// Sends what changed during IDLE at once.
    private func pushUpdates(_ context: ChannelHandlerContext) {
        guard dirty, selected != nil else { return }
        dirty = false
        refresh(context) { handler, context in
            if case .idle = handler.mode { context.flush() }
        }
    }

    private func endIdle(_ context: ChannelHandlerContext, tag: String, line: [UInt8]) {
        mode = .command
        guard String(decoding: line, as: UTF8.self).uppercased() == "DONE" else {
            return reply(context, "\(tag) BAD Expected DONE.")
        }
        complete(context, tag, "OK IDLE terminated.")
    }

    // MARK: Output

    /// Reads what changed in the selected mailbox and sends the untagged responses, then
    /// calls `then` (on the event loop).
    func refresh(_ context: ChannelHandlerContext, then: @escaping (IMAPHandler, ChannelHandlerContext) -> Void) {
        guard let box = selected else { return then(self, context) }
        let store = self.store
        let (id, since, last) = (box.id, box.knownModSeq, box.lastUID)
        let contexts = box.contexts, uids = box.uids, recent = rev2 ? [] : box.recent, sortCache = caches.sort
        run(context, services.offload(on: context.eventLoop) {
            try store.read { tx in
                var update = try MailboxUpdate.read(tx, mailbox: id, since: since, lastUID: last)
                if !contexts.isEmpty {
                    update.contextAnswers = try SearchContext.answers(contexts, tx, mailbox: id, uids: uids,
                                                                      recent: recent, after: update, sortCache: sortCache)
                }
                return update
            }
        }) { handler, context, result in
            switch result {
            case .success(let update):
                handler.apply(context, update)
            case .failure(let error):
                handler.logger.error("refresh: \(error)")
            }
            then(handler, context)
        }
    }

    /// Applies a mailbox update to the selected mailbox and writes its untagged responses.
    func apply(_ context: ChannelHandlerContext, _ update: MailboxUpdate) {
        guard var box = selected, update.exists else {
            if selected != nil {
                selected = nil
                close(context, "* BYE The selected mailbox was deleted.")
            }
            return
        }
        let lines = box.apply(update, allowExpunge: expungeAllowed,
                              format: { seq, info in self.unsolicitedFetch(seq, info) },
                              announce: { self.expungeLines($0) })
        selected = box
        for line in lines where !rev2 || !line.hasSuffix(" RECENT") { send(context, line) }
    }

    /// A message's flags, as a STORE answers and as other sessions' changes are announced:
    /// `* 4 FETCH (UID 9 FLAGS (...))`, or `* 9 UIDFETCH (FLAGS (...))` under UIDONLY.
    func unsolicitedFetch(_ seq: Int, _ info: MessageInfo) -> String {
        // RFC 7162 §3.1.4.1: with CONDSTORE on, every unsolicited FETCH carries MODSEQ.
        let modSeq = condstore ? " MODSEQ (\(info.record.modSeq))" : ""
        let flags = "FLAGS (\(flagNames(info).joined(separator: " ")))\(modSeq))"
        return uidOnly ? "* \(info.uid) UIDFETCH (\(flags)" : "* \(seq) FETCH (UID \(info.uid) \(flags)"
    }

    /// How removed messages are announced: `* n EXPUNGE` each, or one `* VANISHED` with their UIDs
    /// once QRESYNC (RFC 7162 §3.2.10) or UIDONLY (RFC 9586) is on; updating searches hear of
    /// the removal first (RFC 5267 §4.3).
    func expungeLines(_ removal: SelectedMailbox.Removal) -> [String] {
        let removed = removal.expunged
        guard !removed.isEmpty else { return [] }
        let lines = qresync || uidOnly ? ["* VANISHED \(Self.uidSet(removed.map(\.uid).sorted()))"]
                                       : removed.map { "* \($0.seq) EXPUNGE" }
        return removal.contextLines + lines
    }

    /// Takes messages this session expunged (EXPUNGE, MOVE, REPLACE) out of the selected
    /// mailbox and announces them.
    func announceExpunged(_ context: ChannelHandlerContext, _ id: MailboxID, _ uids: [UID]) {
        var removal = SelectedMailbox.Removal()
        updateSelected(id) { removal = $0.remove(uids) }
        for line in expungeLines(removal) { send(context, line) }
    }

    /// The flags of a message as this session shows them, with `\Recent` for IMAP4rev1.
    func flagNames(_ info: MessageInfo) -> [String] {
        var names = info.flagNames
        if !rev2, selected?.recent.contains(info.uid) == true { names.append("\\Recent") }
        return names
    }

    /// Ends a command: announces mailbox changes if any are known (or `refresh` asks for a
    /// check), then sends the tagged line and lets the next command through.
    func complete(_ context: ChannelHandlerContext, _ tag: String, _ text: String, refresh: Bool = false) {
        guard selected != nil, dirty || refresh else { return reply(context, "\(tag) \(text)") }
        dirty = false
        self.refresh(context) { handler, context in
            handler.reply(context, "\(tag) \(text)")
        }
    }

    /// Runs `work` off the event loop, then `then` back on it, for this connection.
    func run<T: Sendable>(_ context: ChannelHandlerContext, _ work: @escaping @Sendable () async throws -> T,
                          then: @escaping (IMAPHandler, ChannelHandlerContext, Result<T, any Error>) -> Void) {
        run(context, context.eventLoop.makeFutureWithTask(work), then: then)
    }

    /// Calls `then` on the event loop when `future` completes, if the connection is still open.
    func run<T: Sendable>(_ context: ChannelHandlerContext, _ future: EventLoopFuture<T>,
                          then: @escaping (IMAPHandler, ChannelHandlerContext, Result<T, any Error>) -> Void) {
        context.onCompletion(of: future, handler: self, then: then)
    }

    private func run<T: Sendable>(_ context: ChannelHandlerContext, _ work: @escaping @Sendable () async -> T,
                                  then: @escaping (IMAPHandler, ChannelHandlerContext, T) -> Void) {
        run(context, { () async throws -> T in await work() }) { handler, context, result in
            if case .success(let value) = result { then(handler, context, value) }
        }
    }

    func send(_ context: ChannelHandlerContext, _ text: String) { context.writeLine(text) }

    /// Sends the tagged answer and lets the next command through.
    func reply(_ context: ChannelHandlerContext, _ text: String) {
        send(context, text)
        finish(context)
    }

    /// Until the command ends, says every `imapProgressInterval` that it is still running
    /// (RFC 9585), so a client does not time out a long SEARCH, COPY or FETCH. Not during IDLE or
    /// an AUTHENTICATE exchange, which wait for the client.
    private func startProgress(_ context: ChannelHandlerContext, tag: String) {
        progress?.cancel()
        let interval = services.config.limits.imapProgressInterval
        let bound = NIOLoopBound((self, context), eventLoop: context.eventLoop)
        progress = context.eventLoop.scheduleRepeatedTask(initialDelay: .nanoseconds(interval.nanoseconds),
                                                          delay: .nanoseconds(interval.nanoseconds)) { _ in
            let (handler, context) = bound.value
            guard case .command = handler.mode, context.channel.isActive else { return }
            // A tag has no quote or backslash (RFC 9051 §9 tag), so it quotes as is.
            context.writeLine("* OK [INPROGRESS (\"\(tag)\" NIL NIL)] Still working.")
            context.flush()
        }
    }

    /// Closes the connection when a literal's bytes stop coming for `Limits.literalIdleTimeout`:
    /// a literal holds its share of the message buffer (`BufferBudget`) until it is complete,
    /// so a sender that stalls must not keep it for the whole session timeout.
    private func watchLiteral(_ context: ChannelHandlerContext) {
        literalProgress = .now
        guard literalWatch == nil else { return }
        let timeout = services.config.limits.literalIdleTimeout
        let check = TimeAmount.nanoseconds(max(timeout.nanoseconds / 4, 1_000_000))
        let bound = NIOLoopBound((self, context), eventLoop: context.eventLoop)
        literalWatch = context.eventLoop.scheduleRepeatedTask(initialDelay: check, delay: check) { task in
            let (handler, context) = bound.value
            guard handler.assembler.pendingLiteralBytes > 0, context.channel.isActive else {
                handler.literalWatch = nil
                return task.cancel()
            }
            guard ContinuousClock.now - handler.literalProgress >= timeout else { return }
            handler.literalWatch = nil
            task.cancel()
            handler.logger.info("literal timeout")
            handler.close(context, "* BYE Timed out waiting for literal data.")
        }
    }

    func finish(_ context: ChannelHandlerContext) {
        progress?.cancel()
        progress = nil
        services.metrics.command("imap", commandName, nanoseconds: (ContinuousClock.now - commandStart).nanoseconds)
        busy = false
        // NOTIFY (RFC 5465): what happened during the command goes out before the next one.
        if notify != nil && !notifyPending.isEmpty { return deliverNotifications(context, framerHeld: true) }
        framer.resume()
    }

    func close(_ context: ChannelHandlerContext, _ text: String) {
        mode = .closed
        context.writeLastLine(text)
    }

    /// The tagged NO or BAD for a store error.
    func failure(_ tag: String, _ error: any Error, missing: String = "NONEXISTENT") -> String {
        guard let error = error as? MailStoreError else {
            logger.error("store: \(error)")
            return "\(tag) NO [SERVERBUG] Internal error."
        }
        switch error {
        case .unknownMailbox: return "\(tag) NO [\(missing)] Mailbox doesn't exist."
        case .mailboxExists: return "\(tag) NO [ALREADYEXISTS] Mailbox already exists."
        case .invalidMailboxName(_, let why): return "\(tag) NO [CANNOT] Invalid mailbox name: \(why)."
        case .cannotDeleteInbox: return "\(tag) NO [CANNOT] INBOX cannot be deleted."
        case .mailboxNotSelectable: return "\(tag) NO [CANNOT] Mailbox cannot hold messages."
        case .overQuota: return "\(tag) NO [OVERQUOTA] Quota exceeded."
        case .messageTooLarge: return "\(tag) NO [TOOBIG] Message too large."
        case .invalidKeyword(let k): return "\(tag) BAD Invalid keyword \(k)."
        case .unknownMessage: return "\(tag) NO [NONEXISTENT] No such message."
        default:
            logger.error("store: \(error)")
            return "\(tag) NO [SERVERBUG] \(error)"
        }
    }
}

extension Command {
    /// Whether the command uses a CONDSTORE feature (RFC 7162 §3.1).
    var usesCondstore: Bool {
        switch self {
        case .select(_, _, let p): p.condstore || p.qresync != nil
        case .fetch(_, let attributes, let modifiers, _): modifiers.changedSince != nil || attributes.contains(.modSeq)
        case .store(_, let action, _): action.unchangedSince != nil
        case .search(let search, _): search.key.usesModSeq
        case .sort(let sort, _): sort.key.usesModSeq
        case .thread(let thread, _): thread.key.usesModSeq
        default: false
        }
    }

    /// The command name for logs, metrics and responses.
    var name: String {
        switch self {
        case .capability: "CAPABILITY"
        case .noop: "NOOP"
        case .logout: "LOGOUT"
        case .id: "ID"
        case .starttls: "STARTTLS"
        case .authenticate: "AUTHENTICATE"
        case .login: "LOGIN"
        case .enable: "ENABLE"
        case .select(_, let readOnly, _): readOnly ? "EXAMINE" : "SELECT"
        case .create: "CREATE"
        case .delete: "DELETE"
        case .rename: "RENAME"
        case .subscribe: "SUBSCRIBE"
        case .unsubscribe: "UNSUBSCRIBE"
        case .list: "LIST"
        case .lsub: "LSUB"
        case .namespace: "NAMESPACE"
        case .status: "STATUS"
        case .append: "APPEND"
        case .idle: "IDLE"
        case .check: "CHECK"
        case .close: "CLOSE"
        case .unselect: "UNSELECT"
        case .expunge(let uids): uids == nil ? "EXPUNGE" : "UID EXPUNGE"
        case .search(_, let uid): uid ? "UID SEARCH" : "SEARCH"
        case .sort(_, let uid): uid ? "UID SORT" : "SORT"
        case .thread(_, let uid): uid ? "UID THREAD" : "THREAD"
        case .fetch(_, _, _, let uid): uid ? "UID FETCH" : "FETCH"
        case .store(_, _, let uid): uid ? "UID STORE" : "STORE"
        case .copy(_, _, let uid): uid ? "UID COPY" : "COPY"
        case .move(_, _, let uid): uid ? "UID MOVE" : "MOVE"
        case .replace(_, _, _, let uid): uid ? "UID REPLACE" : "REPLACE"
        case .compress: "COMPRESS"
        case .unauthenticate: "UNAUTHENTICATE"
        case .getQuota: "GETQUOTA"
        case .getQuotaRoot: "GETQUOTAROOT"
        case .setQuota: "SETQUOTA"
        case .getMetadata: "GETMETADATA"
        case .setMetadata: "SETMETADATA"
        case .notify: "NOTIFY"
        case .cancelUpdate: "CANCELUPDATE"
        }
    }
}

extension Command {
    /// Whether the command names messages by sequence number: refused under UIDONLY (RFC 9586 §3).
    var usesSequenceNumbers: Bool {
        switch self {
        case .fetch(let set, _, _, let uid), .store(let set, _, let uid), .copy(let set, _, let uid), .move(let set, _, let uid):
            !uid && !set.isSavedResult
        case .replace(_, _, _, let uid): !uid
        case .search(let search, let uid): !uid || search.key.usesSequenceNumbers
        case .sort(let sort, let uid): !uid || sort.key.usesSequenceNumbers
        case .thread(let thread, let uid): !uid || thread.key.usesSequenceNumbers
        default: false
        }
    }
}

extension SearchKey {
    /// Whether the key names messages by sequence number anywhere (`$` does not).
    var usesSequenceNumbers: Bool {
        switch self {
        case .sequenceSet(let set): !set.isSavedResult
        case .not(let k): k.usesSequenceNumbers
        case .or(let a, let b): a.usesSequenceNumbers || b.usesSequenceNumbers
        case .and(let keys): keys.contains { $0.usesSequenceNumbers }
        default: false
        }
    }

    /// Whether the key has a MODSEQ criterion anywhere (RFC 7162 §3.1.5).
    var usesModSeq: Bool {
        switch self {
        case .modSeq: true
        case .not(let k): k.usesModSeq
        case .or(let a, let b): a.usesModSeq || b.usesModSeq
        case .and(let keys): keys.contains { $0.usesModSeq }
        default: false
        }
    }
}
