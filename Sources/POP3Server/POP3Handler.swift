import Foundation
import Logging
import MailStore
import NIOConcurrencyHelpers
import NIOCore
import ServerSupport

/// Limits of the POP3 front end.
public enum POP3Limits {
    /// RFC 2449 §4 allows 255-octet command lines; RFC 5034 SASL responses are longer, so
    /// this is the line limit, without CRLF.
    public static let maxLineLength = 4096
    /// RETR reads up to this many following messages ahead in the same store read...
    public static let readAheadMessages = 32
    /// ...as long as they add up to at most this many bytes (memory per session stays bounded;
    /// 512 KiB lets 100 KiB messages come five to a store read: 1.36x -> 1.81x Dovecot).
    public static let readAheadBytes = 512 * 1024
}

/// One POP3 connection: a session state machine driven by lines from the framer. It does the
/// store work on the thread pool and answers in command order.
final class POP3Handler: ChannelInboundHandler {
    typealias InboundIn = FramedInput
    typealias OutboundOut = ByteBuffer

    private enum State {
        /// AUTHORIZATION, with the name given by USER if any.
        case authorization(user: String?)
        /// Inside an AUTH exchange: the next line is a base64 response.
        case sasl(SASLExchange)
        /// Waiting for the client's empty response after SCRAM's final data (RFC 5034 §4).
        case saslFinal(Account)
        case transaction(Maildrop)
        /// Closing: nothing more is read.
        case closed
    }

    private var state = State.authorization(user: nil)
    private let connection: Connection
    private let framer: LineFramer
    private let locks: MaildropLocks
    private var lockedAccount: AccountID?
    /// Formatted RETR answers read ahead, by message number.
    private var readAhead: [Int: ByteBuffer] = [:]
    private var commandStart: ContinuousClock.Instant = .now
    private var commandName = ""

    init(connection: Connection, framer: LineFramer, locks: MaildropLocks) {
        self.connection = connection
        self.framer = framer
        self.locks = locks
    }

    private var services: ServerServices { connection.services }
    private var logger: Logger { connection.logger }

    // MARK: Channel events

    func channelActive(context: ChannelHandlerContext) {
        send(context, "+OK mstore POP3 ready.")
        context.flush()
    }

    private func releaseMaildrop() {
        if let account = lockedAccount { locks.release(account) }
        lockedAccount = nil
    }

    func channelInactive(context: ChannelHandlerContext) {
        releaseMaildrop()
        state = .closed
        logger.info("disconnect")
        context.fireChannelInactive()
    }

    func userInboundEventTriggered(context: ChannelHandlerContext, event: Any) {
        if event is IdleStateHandler.IdleStateEvent {
            logger.info("idle timeout")
            close(context, "-ERR [SYS/TEMP] Disconnected for inactivity.")
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
            close(context, "-ERR Line too long.")
        case .bytes, .lines:
            // POP3 never asks for raw bytes or blocks of lines; nothing to do but go on.
            framer.resume()
        case .line(let line):
            commandStart = .now
            handle(context, line: Array(line.readableBytesView))
        }
    }

    // MARK: Dispatch

    private func handle(_ context: ChannelHandlerContext, line: [UInt8]) {
        switch state {
        case .closed:
            return
        case .sasl(let exchange):
            commandName = "AUTH"
            saslResponse(context, exchange, line)
            return
        case .saslFinal(let account):
            commandName = "AUTH"
            if line.isEmpty {
                authenticated(context, account)
            } else {
                authFailed(context, user: account.name)
            }
            return
        case .authorization, .transaction:
            break
        }
        switch POP3Parser.parse(line) {
        case .failure(let error):
            commandName = "BAD"
            reply(context, "-ERR \(error.message)")
        case .success(let command):
            commandName = command.keyword
            execute(context, command)
        }
    }

    private func execute(_ context: ChannelHandlerContext, _ command: POP3Command) {
        // The commands that change the maildrop go first, before `state` is copied into the
        // switch below: a copy held while they run would make them copy the maildrop's sets.
        if case .transaction = state {
            switch command {
            case .retr(let n): return retrieve(context, n, bodyLines: nil)
            case .top(let n, let lines): return retrieve(context, n, bodyLines: lines)
            case .dele(let n): return delete(context, n)
            default: break
            }
        }
        switch (command, state) {
        case (.capa, _):
            reply(context, capabilities())
        case (.noop, .transaction):
            reply(context, "+OK")
        case (.quit, .transaction(let drop)):
            quit(context, drop)
        case (.quit, _):
            close(context, "+OK Logging out.")

        // AUTHORIZATION (RFC 1939 §4, RFC 2595 §4, RFC 5034)
        case (.stls, .authorization):
            startTLS(context)
        case (.user(let name), .authorization):
            guard connection.allowsPlaintextAuth else { return reply(context, Self.plaintextRefusal) }
            state = .authorization(user: name)
            reply(context, "+OK")
        case (.pass(let password), .authorization(let user)):
            guard let user else { return reply(context, "-ERR Give USER first.") }
            state = .authorization(user: nil)
            let exchange = SASLExchange(mechanism: .plain, services: services)
            run(context, { await exchange.verify(user: user, password: password) }) { handler, context, step in
                handler.saslStep(context, step)
            }
        case (.auth(nil, _), .authorization):
            reply(context, (["+OK"] + offeredMechanisms().map(\.rawValue) + ["."]).joined(separator: "\r\n"))
        case (.auth(let name?, let initial), .authorization):
            auth(context, mechanism: name, initial: initial)

        // TRANSACTION (RFC 1939 §5)
        case (.stat, .transaction(let drop)):
            let s = drop.stat
            reply(context, "+OK \(s.count) \(s.octets)")
        case (.list(nil), .transaction(let drop)):
            var lines = ["+OK \(drop.stat.count) messages"]
            for n in 1...max(drop.messages.count, 1) { if let m = drop.message(n) { lines.append("\(n) \(m.size)") } }
            reply(context, (lines + ["."]).joined(separator: "\r\n"))
        case (.list(let n?), .transaction(let drop)):
            guard let m = drop.message(n) else { return reply(context, Self.noSuchMessage) }
            reply(context, "+OK \(n) \(m.size)")
        case (.uidl(nil), .transaction(let drop)):
            var lines = ["+OK"]
            for n in 1...max(drop.messages.count, 1) { if let m = drop.message(n) { lines.append("\(n) \(drop.uniqueID(m))") } }
            reply(context, (lines + ["."]).joined(separator: "\r\n"))
        case (.uidl(let n?), .transaction(let drop)):
            guard let m = drop.message(n) else { return reply(context, Self.noSuchMessage) }
            reply(context, "+OK \(n) \(drop.uniqueID(m))")
        case (.rset, .transaction(var drop)):
            drop.reset()
            state = .transaction(drop)
            reply(context, "+OK")

        case (.stls, .transaction):
            reply(context, "-ERR Already authenticated.")
        default:
            reply(context, "-ERR \(command.keyword) is not valid in this state.")
        }
    }

    static let noSuchMessage = "-ERR No such message."
    static let plaintextRefusal = "-ERR [AUTH] Plaintext authentication disallowed on non-secure (SSL/TLS) connections."

    // MARK: Capabilities (RFC 2449 §6)

    private func offeredMechanisms() -> [SASLMechanism] {
        SASLMechanism.allCases.filter { !$0.sendsPassword || connection.allowsPlaintextAuth }
    }

    private func capabilities() -> String {
        var lines = ["+OK Capability list follows", "TOP", "UIDL", "RESP-CODES", "PIPELINING", "AUTH-RESP-CODE"]
        if case .authorization = state {
            lines.append((["SASL"] + offeredMechanisms().map(\.rawValue)).joined(separator: " "))
            if connection.allowsPlaintextAuth { lines.append("USER") }
            if connection.canStartTLS { lines.append("STLS") }
        }
        lines += ["EXPIRE NEVER", "IMPLEMENTATION mstore", "."]
        return lines.joined(separator: "\r\n")
    }

    // MARK: STLS (RFC 2595 §4)

    private func startTLS(_ context: ChannelHandlerContext) {
        guard connection.canStartTLS else { return reply(context, "-ERR TLS is not available.") }
        // Bytes pipelined after STLS must not be read as if they came over TLS.
        guard framer.bufferedBytes == 0 else {
            logger.notice("STLS with pipelined data: closing")
            return close(context, "-ERR Data after STLS.")
        }
        send(context, "+OK Begin TLS negotiation.")
        context.flush()
        do {
            guard try StartTLS.upgrade(channel: context.channel, framer: framer, connection: connection) else {
                return close(context, "-ERR Data after STLS.")
            }
        } catch {
            logger.error("STLS failed: \(error)")
            context.close(promise: nil)
            return
        }
        state = .authorization(user: nil)
        finish(context)
    }

    // MARK: Authentication

    private func auth(_ context: ChannelHandlerContext, mechanism name: String, initial: String?) {
        guard let mechanism = SASLMechanism(name: name), offeredMechanisms().contains(mechanism) else {
            if let m = SASLMechanism(name: name), m.sendsPassword { return reply(context, Self.plaintextRefusal) }
            return reply(context, "-ERR Unsupported authentication mechanism.")
        }
        var initialBytes: [UInt8]?
        if let initial {
            guard let decoded = Self.decodeBase64(initial) else { return reply(context, "-ERR Invalid base64.") }
            initialBytes = decoded
        }
        let exchange = SASLExchange(mechanism: mechanism, services: services)
        state = .sasl(exchange)
        let initialResponse = initialBytes
        run(context, { await exchange.start(initialResponse: initialResponse) }) { handler, context, step in
            handler.saslStep(context, step)
        }
    }

    private func saslResponse(_ context: ChannelHandlerContext, _ exchange: SASLExchange, _ line: [UInt8]) {
        // RFC 5034 §4: "*" cancels the exchange.
        if line == [UInt8(ascii: "*")] {
            state = .authorization(user: nil)
            return reply(context, "-ERR Authentication cancelled.")
        }
        guard let data = Self.decodeBase64(String(decoding: line, as: UTF8.self)) else {
            state = .authorization(user: nil)
            return reply(context, "-ERR Invalid base64.")
        }
        run(context, { await exchange.respond(data) }) { handler, context, step in
            handler.saslStep(context, step)
        }
    }

    private func saslStep(_ context: ChannelHandlerContext, _ step: SASLStep) {
        switch step {
        case .challenge(let bytes):
            reply(context, "+ " + Data(bytes).base64EncodedString())
        case .success(let account, let finalData?):
            state = .saslFinal(account)
            reply(context, "+ " + Data(finalData).base64EncodedString())
        case .success(let account, nil):
            authenticated(context, account)
        case .failure(let user):
            authFailed(context, user: user)
        case .malformed(let why):
            state = .authorization(user: nil)
            reply(context, "-ERR \(why)")
        }
    }

    private func authFailed(_ context: ChannelHandlerContext, user: String?) {
        state = .authorization(user: nil)
        services.metrics.authFailure("pop3")
        logger.notice("authentication failed", metadata: ["user": "\(user ?? "")"])
        let delay = services.authThrottle.recordFailure(ip: connection.remoteIP, user: user)
        let bound = NIOLoopBound((self, context), eventLoop: context.eventLoop)
        context.eventLoop.scheduleTask(in: .nanoseconds(delay.nanoseconds)) {
            let (handler, context) = bound.value
            handler.reply(context, "-ERR [AUTH] Authentication failed.")
        }
    }

    /// Locks the maildrop (RFC 2449 [IN-USE]) and takes its snapshot.
    private func authenticated(_ context: ChannelHandlerContext, _ account: Account) {
        services.authThrottle.recordSuccess(user: account.name)
        guard locks.acquire(account.id) else {
            state = .authorization(user: nil)
            return reply(context, "-ERR [IN-USE] The maildrop is locked by another POP3 session.")
        }
        lockedAccount = account.id
        connection.logger[metadataKey: "user"] = "\(account.name)"
        let store = services.store
        run(context, services.offload(on: context.eventLoop) {
                try store.read { tx -> Maildrop in
                    let inbox = try tx.requireMailbox(of: account.id, named: "INBOX")
                    var messages: [Maildrop.Message] = []
                    messages.reserveCapacity(inbox.messages)
                    try tx.forEachMessage(in: inbox.id) { r in
                        messages.append(Maildrop.Message(uid: r.uid, size: r.size, content: r.content))
                        return true
                    }
                    return Maildrop(account: account.id, mailbox: inbox.id, uidValidity: inbox.uidValidity, messages: messages)
                }
        }) { handler, context, result in
            switch result {
            case .success(let drop):
                handler.state = .transaction(drop)
                handler.logger.info("login")
                let s = drop.stat
                handler.reply(context, "+OK Logged in: \(s.count) messages (\(s.octets) octets).")
            case .failure(let error):
                handler.logger.error("maildrop: \(error)")
                handler.close(context, "-ERR [SYS/TEMP] Cannot open the maildrop.")
            }
        }
    }

    static func decodeBase64(_ text: String) -> [UInt8]? {
        if text == "=" { return [] }  // RFC 5034 §4: an empty initial response
        return Data(base64Encoded: text).map(Array.init)
    }

    // MARK: RETR and TOP

    private func retrieve(_ context: ChannelHandlerContext, _ n: Int, bodyLines: Int?) {
        let found = changeMaildrop { drop -> Bool in
            guard drop.message(n) != nil else { return false }
            drop.markRetrieved(n)
            return true
        }
        guard found == true else { return reply(context, Self.noSuchMessage) }
        if bodyLines == nil, let ready = readAhead.removeValue(forKey: n) {
            context.write(wrapOutboundOut(ready), promise: nil)
            return finish(context)
        }
        readAhead.removeAll()
        let wanted = bodyLines == nil ? readAheadNumbers(from: n) : [n]
        let messages = maildropMessages(wanted)
        let store = services.store
        let allocator = context.channel.allocator
        run(context, services.offload(on: context.eventLoop) {
            try store.read { tx in
                try messages.map { m in
                    var out = allocator.buffer(capacity: m.size + m.size / 64 + 64)
                    out.writeString(bodyLines == nil ? "+OK \(m.size) octets\r\n" : "+OK\r\n")
                    var writer = MessageWriter(bodyLines: bodyLines)
                    try tx.forEachPiece(of: m.content) { piece in
                        if !writer.done { _ = writer.append(piece, to: &out) }
                    }
                    writer.finish(&out)
                    return out
                }
            }
        }) { handler, context, result in
            switch result {
            case .success(let buffers):
                for (index, buffer) in zip(wanted, buffers).dropFirst() { handler.readAhead[index] = buffer }
                context.write(handler.wrapOutboundOut(buffers[0]), promise: nil)
                handler.finish(context)
            case .failure(let error):
                handler.logger.error("retrieve: \(error)")
                handler.reply(context, "-ERR [SYS/TEMP] Cannot read the message.")
            }
        }
    }

    /// RETR reads ahead: clients fetch messages in order, one after another or pipelined, so
    /// the next small messages come in the same store read and thread-pool hop.
    private func readAheadNumbers(from n: Int) -> [Int] {
        guard case .transaction(let drop) = state, let first = drop.message(n) else { return [n] }
        var wanted = [n]
        var bytes = first.size
        var next = n + 1
        while wanted.count < POP3Limits.readAheadMessages, let m = drop.message(next),
              bytes + m.size <= POP3Limits.readAheadBytes {
            wanted.append(next)
            bytes += m.size
            next += 1
        }
        return wanted
    }

    /// The maildrop's messages with these numbers (which exist).
    private func maildropMessages(_ numbers: [Int]) -> [Maildrop.Message] {
        guard case .transaction(let drop) = state else { return [] }
        return numbers.map { drop.messages[$0 - 1] }
    }

    /// DELE (RFC 1939 §5): marks the message; QUIT expunges it.
    private func delete(_ context: ChannelHandlerContext, _ n: Int) {
        guard changeMaildrop({ $0.delete(n) }) == true else { return reply(context, Self.noSuchMessage) }
        reply(context, "+OK Marked to be deleted.")
    }

    /// Changes the session's maildrop where it lies, in TRANSACTION state. `state` lets go of
    /// it while `change` runs, so its sets are referenced once and change in place: a copy of
    /// the RETR set per RETR made a 5,000-message session quadratic (a tenth of the server's
    /// time in the sequential RETR profile). Callers hold no copy of the maildrop meanwhile.
    private func changeMaildrop<T>(_ change: (inout Maildrop) -> T) -> T? {
        guard case .transaction(var drop) = state else { return nil }
        state = .closed
        let result = change(&drop)
        state = .transaction(drop)
        return result
    }

    // MARK: UPDATE (RFC 1939 §6)

    /// Expunges the messages marked deleted and marks retrieved ones `\Seen`, in one
    /// transaction; only then says +OK.
    private func quit(_ context: ChannelHandlerContext, _ drop: Maildrop) {
        let (expunge, seen) = drop.updates
        guard !expunge.isEmpty || !seen.isEmpty else { return close(context, "+OK Logging out.") }
        state = .closed
        let store = services.store
        let mailbox = drop.mailbox
        run(context, {
            try await store.write { tx in
                if !seen.isEmpty { _ = try tx.store(in: mailbox, uids: seen, FlagChange(.add, flags: .seen)) }
                return try tx.expunge(in: mailbox, uids: expunge).count
            }
        }) { handler, context, result in
            switch result {
            case .success(let count):
                handler.close(context, "+OK Logging out, \(count) messages deleted.")
            case .failure(let error):
                handler.logger.error("update: \(error)")
                handler.close(context, "-ERR [SYS/TEMP] Some deleted messages were not removed.")
            }
        }
    }

    // MARK: Output

    /// Runs `work` off the event loop, then `then` back on it, for this connection.
    private func run<T: Sendable>(_ context: ChannelHandlerContext, _ work: @escaping @Sendable () async throws -> T,
                                  then: @escaping (POP3Handler, ChannelHandlerContext, Result<T, any Error>) -> Void) {
        run(context, context.eventLoop.makeFutureWithTask(work), then: then)
    }

    /// Calls `then` on the event loop when `future` completes, if the connection is still open.
    private func run<T: Sendable>(_ context: ChannelHandlerContext, _ future: EventLoopFuture<T>,
                                  then: @escaping (POP3Handler, ChannelHandlerContext, Result<T, any Error>) -> Void) {
        context.onCompletion(of: future, handler: self, then: then)
    }

    private func run<T: Sendable>(_ context: ChannelHandlerContext, _ work: @escaping @Sendable () async -> T,
                                  then: @escaping (POP3Handler, ChannelHandlerContext, T) -> Void) {
        run(context, { () async throws -> T in await work() }) { handler, context, result in
            if case .success(let value) = result { then(handler, context, value) }
        }
    }

    private func send(_ context: ChannelHandlerContext, _ text: String) { context.writeLine(text) }

    /// Answers the current command and lets the next one through.
    private func reply(_ context: ChannelHandlerContext, _ text: String) {
        send(context, text)
        finish(context)
    }

    /// Records the command and lets the framer deliver the next line (it flushes).
    private func finish(_ context: ChannelHandlerContext) {
        services.metrics.command("pop3", commandName, nanoseconds: (ContinuousClock.now - commandStart).nanoseconds)
        framer.resume()
    }

    private func close(_ context: ChannelHandlerContext, _ text: String) {
        state = .closed
        // Unlock before the client can see the connection end, so it can log in again at once.
        releaseMaildrop()
        context.writeLastLine(text)
    }
}

/// Which accounts have a POP3 session in TRANSACTION state, in this process.
final class MaildropLocks: Sendable {
    private let held = NIOLockedValueBox(Set<AccountID>())

    func acquire(_ account: AccountID) -> Bool { held.withLockedValue { $0.insert(account).inserted } }
    func release(_ account: AccountID) { _ = held.withLockedValue { $0.remove(account) } }
}
