import Logging
import MailStore
import NIOCore
import ServerSupport

/// One LMTP or SMTP connection: a session driven by lines (and BDAT chunks) from the framer.
/// Recipient checks and deliveries run off the event loop; answers go out in command order.
///
///     C: LHLO mta.example.org        S: 250-mail.example.org ... 250 CHUNKING
///     C: MAIL FROM:<bob@example.org> S: 250 2.1.0 Sender OK
///     C: RCPT TO:<alice@example.org> S: 250 2.1.5 Recipient OK
///     C: DATA                        S: 354 Start mail input; end with <CRLF>.<CRLF>
///     C: ... .                       S: 250 2.0.0 <alice@example.org> Delivered
final class SMTPHandler: ChannelInboundHandler {
    typealias InboundIn = FramedInput
    typealias OutboundOut = ByteBuffer

    /// What the next input is.
    private enum Mode {
        case command
        /// Message lines up to the lone ".", after DATA.
        case data
        /// `remaining` octets of a BDAT chunk; `refusal` is the answer when the chunk is refused
        /// (it is read anyway, RFC 3030 §2).
        case chunk(size: Int, remaining: Int, last: Bool, refusal: String?)
        case closed
    }

    private let dialect: SMTPDialect
    private let connection: Connection
    private let framer: LineFramer
    private var mode = Mode.command
    /// The verb and name of the last HELO/EHLO/LHLO.
    private var hello: (verb: HelloVerb, name: String)?
    private var envelope: SMTPEnvelope?
    private var deliveries = 0
    private var commandStart: ContinuousClock.Instant = .now
    private var commandName = ""

    init(dialect: SMTPDialect, connection: Connection, framer: LineFramer) {
        self.dialect = dialect
        self.connection = connection
        self.framer = framer
    }

    private var services: ServerServices { connection.services }
    private var logger: Logger { connection.logger }

    /// This host's name, for the greeting and `Received`.
    static let hostName = TraceHeaders.localHostName

    // MARK: Channel events

    func channelActive(context: ChannelHandlerContext) {
        // RFC 5321 §4.2: greeting = "220 " domain [SP textstring]
        send(context, "220 \(Self.hostName) \(dialect.banner) mstore ready")
        context.flush()
    }

    func channelInactive(context: ChannelHandlerContext) {
        mode = .closed
        logger.info("disconnect")
        context.fireChannelInactive()
    }

    func userInboundEventTriggered(context: ChannelHandlerContext, event: Any) {
        if event is IdleStateHandler.IdleStateEvent {
            logger.info("idle timeout")
            close(context, "421 4.4.2 \(Self.hostName) Idle timeout, closing connection")
            return
        }
        context.fireUserInboundEventTriggered(event)
    }

    func errorCaught(context: ChannelHandlerContext, error: any Error) {
        logger.debug("connection error: \(error)")
        context.close(promise: nil)
    }

    func channelRead(context: ChannelHandlerContext, data: NIOAny) {
        switch (unwrapInboundIn(data), mode) {
        case (_, .closed):
            return
        case (.lineTooLong, _):
            // RFC 5321 §4.5.3.1.6; the framer has stopped, so the session ends here.
            close(context, "500 5.5.2 Line too long")
        case (.lines(let block), .data):
            dataLines(context, block)
        case (.lines, _):
            framer.resume()
        case (.line(let line), _):
            commandStart = .now
            guard line.readableBytes <= SMTPLimits.maxCommandLineLength else {
                commandName = "LONG"
                return reply(context, "500 5.5.2 Line too long")
            }
            switch SMTPParser.parse(line.readableBytesView) {
            case .failure(let error):
                commandName = "BAD"
                reply(context, error.reply)
            case .success(let command):
                commandName = command.keyword
                execute(context, command)
            }
        case (.bytes(let piece), .chunk(let size, let remaining, let last, let refusal)):
            if refusal == nil { envelope?.append(piece.readableBytesView, lineEnd: false) }
            let left = remaining - piece.readableBytes
            mode = .chunk(size: size, remaining: left, last: last, refusal: refusal)
            if left == 0 { chunkComplete(context) } else { framer.resume() }
        case (.bytes, _):
            framer.resume()
        }
    }

    // MARK: Commands

    private func execute(_ context: ChannelHandlerContext, _ command: SMTPCommand) {
        switch command {
        case .hello(let verb, let name):
            helloCommand(context, verb, name)
        case .mail(let from, let parameters):
            mail(context, from: from, parameters)
        case .rcpt(let to):
            recipient(context, to)
        case .data:
            // RFC 2033 §4.2: DATA with no accepted recipient fails with 503.
            guard let envelope else { return reply(context, "503 5.5.1 Send MAIL FROM first") }
            guard !envelope.recipients.isEmpty else { return reply(context, "503 5.5.1 No valid recipients") }
            guard !envelope.chunked else { return reply(context, "503 5.5.1 DATA cannot follow BDAT") }
            mode = .data
            framer.readLines()
            reply(context, "354 Start mail input; end with <CRLF>.<CRLF>")
        case .bdat(let size, let last):
            chunk(context, size: size, last: last)
        case .rset:
            // RFC 5321 §4.1.1.5
            envelope = nil
            reply(context, "250 2.0.0 OK")
        case .noop:
            reply(context, "250 2.0.0 OK")
        case .quit:
            close(context, "221 2.0.0 \(Self.hostName) closing connection")
        case .vrfy:
            // RFC 5321 §3.5.3: no user listing.
            reply(context, "252 2.5.0 Cannot VRFY user, but will accept message and attempt delivery")
        case .help:
            reply(context, "214 2.0.0 See RFC 5321 and RFC 2033")
        case .startTLS:
            startTLS(context)
        }
    }

    private func helloCommand(_ context: ChannelHandlerContext, _ verb: HelloVerb, _ name: String) {
        // RFC 2033 §4.1: LMTP has LHLO instead of HELO and EHLO.
        guard (verb == .lhlo) == (dialect == .lmtp) else {
            return reply(context, "500 5.5.1 \(verb.rawValue) is not \(dialect.banner)")
        }
        // RFC 5321 §4.1.4: a greeting ends any transaction.
        envelope = nil
        hello = (verb, name)
        guard verb != .helo else { return reply(context, "250 \(Self.hostName)") }
        var lines = [Self.hostName, "PIPELINING", "8BITMIME", "SIZE \(SMTPLimits.maxMessageSize)",
                     "ENHANCEDSTATUSCODES", "CHUNKING", "SMTPUTF8"]
        if connection.canStartTLS { lines.append("STARTTLS") }
        reply(context, lines.enumerated().map { i, l in (i == lines.count - 1 ? "250 " : "250-") + l }.joined(separator: "\r\n"))
    }

    /// RFC 5321 §4.1.1.2, RFC 1870 §6, RFC 6152, RFC 6531 §3.4.
    private func mail(_ context: ChannelHandlerContext, from: String, _ parameters: MailParameters) {
        guard hello != nil else { return reply(context, "503 5.5.1 Send \(dialect == .lmtp ? "LHLO" : "EHLO") first") }
        guard envelope == nil else { return reply(context, "503 5.5.1 Nested MAIL command") }
        if let size = parameters.size, size > SMTPLimits.maxMessageSize {
            return reply(context, "552 5.3.4 Message size exceeds fixed maximum message size")
        }
        guard parameters.smtpUTF8 || from.utf8.allSatisfy({ $0 < 0x80 }) else {
            return reply(context, "553 5.6.7 Non-ASCII address needs SMTPUTF8")
        }
        envelope = SMTPEnvelope(sender: from, parameters: parameters,
                                hold: BufferHold(services.messageBuffers, for: connection.remoteIP))
        reply(context, "250 2.1.0 Sender OK")
    }

    /// RFC 5321 §4.1.1.3 with DESIGN.md §1's addressing.
    private func recipient(_ context: ChannelHandlerContext, _ to: String) {
        guard let current = envelope else { return reply(context, "503 5.5.1 Send MAIL FROM first") }
        guard current.recipients.count < SMTPLimits.maxRecipients else {
            return reply(context, "452 4.5.3 Too many recipients")
        }
        guard current.parameters.smtpUTF8 || to.utf8.allSatisfy({ $0 < 0x80 }) else {
            return reply(context, "553 5.6.7 Non-ASCII address needs SMTPUTF8")
        }
        guard let address = DeliveryAddress(to) else { return reply(context, "501 5.1.3 Invalid recipient address") }
        let relayCheck = dialect == .smtp
        let local = address.domain.map { services.config.localDomains.contains($0) } ?? true
        let size = current.parameters.size ?? 0
        let store = services.store
        run(context, services.offload(on: context.eventLoop) { () -> String? in
            try store.read { tx -> String? in
                // No open relay, ever: SMTP takes a recipient only in a local domain, or one
                // whose whole address is a user.
                if try relayCheck && !local && !tx.isUser(address.userAddress) { return "550 5.7.1 Relaying denied" }
                switch try tx.checkRecipient(address, size: size) {
                case .success: return nil
                case .failure(.unknownUser): return "550 5.1.1 <\(to)>: No such user"
                case .failure(.overQuota): return "452 4.2.2 <\(to)>: Mailbox full"
                }
            }
        }) { handler, context, result in
            switch result {
            case .success(nil):
                handler.envelope?.recipients.append(address)
                handler.reply(context, "250 2.1.5 Recipient OK")
            case .success(let refusal?):
                handler.reply(context, refusal)
            case .failure(let error):
                handler.logger.error("recipient lookup: \(error)")
                handler.reply(context, "451 4.3.0 Temporary lookup failure")
            }
        }
    }

    // MARK: DATA (RFC 5321 §4.1.1.4, §4.5.2)

    /// A block of complete lines of the data. Lines go into the message with dot-stuffing undone
    /// and each ending in CRLF (a bare LF becomes CRLF), runs of ordinary lines in one copy. The
    /// line holding only a dot ends the data; what follows it in the block (pipelined commands)
    /// goes back to the framer.
    private func dataLines(_ context: ChannelHandlerContext, _ block: ByteBuffer) {
        let dot = UInt8(ascii: ".")
        let endOfData: Int? = block.withUnsafeReadableBytes { raw in
            // Lines from `run` to `start` go in as they are.
            var run = 0, start = 0
            func appendRun(to end: Int) {
                if end > run { envelope?.append(UnsafeRawBufferPointer(rebasing: raw[run..<end]), lineEnd: false) }
            }
            while start < raw.count {
                // The framer delivers complete lines only, so there is a line end.
                let lf = LineFramer.lineFeed(in: raw, from: start)!
                let crlf = lf > start && raw[lf - 1] == UInt8(ascii: "\r")
                if raw[start] == dot || !crlf {
                    appendRun(to: start)
                    let end = crlf ? lf - 1 : lf
                    if raw[start] == dot && end - start == 1 { return lf + 1 }
                    let from = raw[start] == dot ? start + 1 : start
                    envelope?.append(UnsafeRawBufferPointer(rebasing: raw[from..<end]), lineEnd: true)
                    run = lf + 1
                }
                start = lf + 1
            }
            appendRun(to: raw.count)
            return nil
        }
        guard let endOfData else {
            framer.readLines()
            return framer.resume()
        }
        framer.unread(block.getSlice(at: block.readerIndex + endOfData, length: block.readableBytes - endOfData)!)
        mode = .command
        commandStart = .now
        endOfMessage(context)
    }

    // MARK: BDAT (RFC 3030 §2)

    private func chunk(_ context: ChannelHandlerContext, size: Int, last: Bool) {
        var refusal: String?
        if envelope == nil {
            refusal = "503 5.5.1 Send MAIL FROM first"
        } else if envelope!.recipients.isEmpty {
            refusal = "503 5.5.1 No valid recipients"
        } else {
            envelope!.chunked = true
        }
        mode = .chunk(size: size, remaining: size, last: last, refusal: refusal)
        if size == 0 { return chunkComplete(context) }
        framer.readRaw(count: size)
        framer.resume()
    }

    private func chunkComplete(_ context: ChannelHandlerContext) {
        guard case .chunk(let size, _, let last, let refusal) = mode else { return }
        mode = .command
        if let refusal { return reply(context, refusal) }
        if last { return endOfMessage(context) }
        if let refusal = envelope?.dropped {
            // The transaction is over; the client should send RSET (RFC 3030 §4).
            envelope = nil
            return reply(context, refused(refusal))
        }
        reply(context, "250 2.0.0 \(size) octets received")
    }

    /// The answer to refused data; a refusal for want of buffer room is counted and logged.
    private func refused(_ refusal: SMTPEnvelope.DataRefusal) -> String {
        if refusal == .noRoom {
            services.metrics.messageBufferFull(dialect.protocolName)
            logger.notice("message buffer full: data refused")
        }
        return refusal.reply
    }

    // MARK: Delivery

    /// The data is complete: store it for every recipient in one durable write, then answer
    /// once per recipient (LMTP, RFC 2033 §4.2) or once (SMTP).
    private func endOfMessage(_ context: ChannelHandlerContext) {
        guard let envelope else { return reply(context, "503 5.5.1 No transaction") }
        self.envelope = nil
        let recipients = envelope.recipients
        if let refusal = envelope.dropped {
            let reply = refused(refusal)
            return answer(context, recipients) { _ in reply }
        }
        deliveries += 1
        let trace = TraceHeaders(
            returnPath: envelope.sender, recipients: recipients.map(\.address),
            received: TraceHeaders.Received(
                heloName: hello?.name ?? "unknown", remoteIP: connection.remoteIP, host: Self.hostName,
                protocolName: withProtocol(utf8: envelope.parameters.smtpUTF8), id: "\(connection.id).\(deliveries)"))
        let body = envelope.body
        let store = services.store
        let mode: DeliveryMode = dialect == .lmtp ? .perRecipient : .allOrNothing
        run(context, services.offload(on: context.eventLoop) { promise in
            store.deliver(PreparedMessage(trace.bytes() + body), to: recipients, mode: mode) { promise.completeWith($0) }
        }) { handler, context, result in
            switch result {
            case .success(let outcomes):
                let delivered = outcomes.filter { if case .success = $0 { true } else { false } }.count
                handler.services.metrics.delivered(handler.dialect.protocolName, count: delivered)
                handler.logger.info("delivered", metadata: ["recipients": "\(delivered)/\(recipients.count)",
                                                            "size": "\(body.count)"])
                handler.answer(context, recipients) { i in
                    switch outcomes[i] {
                    case .success: "250 2.0.0 <\(recipients[i].address)> Delivered"
                    case .failure(let refusal): Self.refusalReply(refusal, recipients[i])
                    }
                }
            case .failure(let refusal as DeliveryRefusal):
                handler.reply(context, Self.refusalReply(refusal, nil))
            case .failure(let error):
                // Nothing was written: the whole store write failed.
                handler.logger.error("delivery failed: \(error)")
                handler.answer(context, recipients) { _ in "451 4.3.0 Temporary storage failure, try again later" }
            }
        }
    }

    static func refusalReply(_ refusal: DeliveryRefusal, _ recipient: DeliveryAddress?) -> String {
        let who = recipient.map { "<\($0.address)>: " } ?? ""
        switch refusal {
        case .unknownUser: return "550 5.1.1 \(who)No such user"
        case .overQuota: return "452 4.2.2 \(who)Mailbox full"
        }
    }

    /// LMTP answers once per recipient, in RCPT order; SMTP answers once with the first answer.
    private func answer(_ context: ChannelHandlerContext, _ recipients: [DeliveryAddress], _ line: (Int) -> String) {
        switch dialect {
        case .lmtp:
            reply(context, recipients.indices.map(line).joined(separator: "\r\n"))
        case .smtp:
            reply(context, recipients.isEmpty ? "250 2.0.0 OK" : line(0).replacingRecipient())
        }
    }

    /// The `with` keyword of `Received` (RFC 3848, RFC 6531 §4.3).
    private func withProtocol(utf8: Bool) -> String {
        var name = dialect == .lmtp ? "LMTP" : (hello?.verb == .helo ? "SMTP" : "ESMTP")
        if connection.isTLS { name += "S" }
        return utf8 && hello?.verb != .helo ? "UTF8" + name : name
    }

    // MARK: STARTTLS (RFC 3207 §4)

    private func startTLS(_ context: ChannelHandlerContext) {
        guard !connection.isTLS else { return reply(context, "503 5.5.1 TLS already active") }
        guard connection.canStartTLS else { return reply(context, "502 5.5.1 TLS not available") }
        // Bytes pipelined after STARTTLS must not be read as if they came over TLS.
        guard framer.bufferedBytes == 0 else {
            logger.notice("STARTTLS with pipelined data: closing")
            return close(context, "501 5.5.2 Data after STARTTLS")
        }
        send(context, "220 2.0.0 Ready to start TLS")
        context.flush()
        do {
            guard try StartTLS.upgrade(channel: context.channel, framer: framer, connection: connection) else {
                return close(context, "501 5.5.2 Data after STARTTLS")
            }
        } catch {
            logger.error("STARTTLS failed: \(error)")
            context.close(promise: nil)
            return
        }
        // RFC 3207 §4.2: the client starts over with a greeting.
        hello = nil
        envelope = nil
        finish(context)
    }

    // MARK: Output

    /// Calls `then` on the event loop when `future` completes, if the connection is still open.
    private func run<T: Sendable>(_ context: ChannelHandlerContext, _ future: EventLoopFuture<T>,
                                  then: @escaping (SMTPHandler, ChannelHandlerContext, Result<T, any Error>) -> Void) {
        context.onCompletion(of: future, handler: self, then: then)
    }

    private func send(_ context: ChannelHandlerContext, _ text: String) { context.writeLine(text) }

    /// Answers the current command and lets the next one through.
    private func reply(_ context: ChannelHandlerContext, _ text: String) {
        send(context, text)
        finish(context)
    }

    /// Records the command and lets the framer deliver the next line. The framer flushes once
    /// no command is in flight, so a pipelined group's answers go out together (RFC 2920 §3).
    private func finish(_ context: ChannelHandlerContext) {
        services.metrics.command(dialect.protocolName, commandName,
                                 nanoseconds: (ContinuousClock.now - commandStart).nanoseconds)
        framer.resume()
    }

    private func close(_ context: ChannelHandlerContext, _ text: String) {
        mode = .closed
        context.writeLastLine(text)
    }
}

private extension String {
    /// SMTP's single answer does not name a recipient: "250 2.0.0 <a@b> Delivered" → "250 2.0.0 Delivered".
    func replacingRecipient() -> String {
        guard let open = firstIndex(of: "<"), let close = self[open...].firstIndex(of: ">") else { return self }
        var rest = self[index(after: close)...]
        if rest.first == ":" { rest = rest.dropFirst() }
        return String(self[..<open]) + String(rest.drop { $0 == " " })
    }
}
