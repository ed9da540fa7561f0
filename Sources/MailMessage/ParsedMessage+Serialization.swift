extension ParsedMessage {
    /// The current serialization format; the first byte of `serialized()`.
    public static let serializationVersion: UInt8 = 1

    /// A compact binary form of the parse result for the store: varints and length-prefixed strings.
    public func serialized() -> [UInt8] {
        var w = ByteWriter()
        w.bytes.reserveCapacity(256)
        w.bytes.append(Self.serializationVersion)
        w.varint(size)
        w.varint(isCRLFNormalized ? 1 : 0)
        Self.write(envelope, &w)
        w.string(threading.baseSubject)
        w.varint(threading.isReplyOrForward ? 1 : 0)
        w.optionalString(threading.messageID)
        Self.write(threading.inReplyTo, &w)
        Self.write(threading.references, &w)
        if let d = sentDate {
            w.varint(1)
            w.signed(d.secondsSince1970)
            w.signed(Int64(d.zoneOffsetMinutes))
        } else {
            w.varint(0)
        }
        w.string(preview)
        Self.write(root, &w)
        return w.bytes
    }

    /// Reads the output of `serialized()`; throws `MailMessageError.malformedSerialization` on bad input.
    public init(serialized: some Collection<UInt8>) throws {
        var r = ByteReader(Array(serialized))
        guard try r.byte() == Self.serializationVersion else { throw MailMessageError.malformedSerialization }
        let size = try r.count(max: Int.max)
        let crlf = try r.varint() != 0
        let envelope = try Self.readEnvelope(&r)
        let threading = ThreadingKeys(
            baseSubject: try r.string(), isReplyOrForward: try r.varint() != 0, messageID: try r.optionalString(),
            inReplyTo: try Self.readStrings(&r), references: try Self.readStrings(&r))
        var date: MessageDate?
        if try r.varint() != 0 {
            let seconds = try r.signed()
            let zone = try r.signed()
            guard abs(zone) < 100 * 60 else { throw MailMessageError.malformedSerialization }
            date = MessageDate(secondsSince1970: seconds, zoneOffsetMinutes: Int(zone))
        }
        let preview = try r.string()
        let root = try Self.readPart(&r, depth: 0)
        guard r.isAtEnd else { throw MailMessageError.malformedSerialization }
        self.init(
            size: size, isCRLFNormalized: crlf, root: root, envelope: envelope, threading: threading,
            sentDate: date, preview: preview)
    }

    private static func write(_ list: [String], _ w: inout ByteWriter) {
        w.varint(list.count)
        for s in list { w.string(s) }
    }

    private static func readStrings(_ r: inout ByteReader) throws -> [String] {
        let n = try r.count(max: r.remaining)
        var out = [String]()
        out.reserveCapacity(n)
        for _ in 0..<n { out.append(try r.string()) }
        return out
    }

    private static func write(_ params: [MIMEParameter], _ w: inout ByteWriter) {
        w.varint(params.count)
        for p in params {
            w.string(p.name)
            w.string(p.value)
        }
    }

    private static func readParameters(_ r: inout ByteReader) throws -> [MIMEParameter] {
        let n = try r.count(max: r.remaining / 2)
        var out = [MIMEParameter]()
        out.reserveCapacity(n)
        for _ in 0..<n { out.append(MIMEParameter(name: try r.string(), value: try r.string())) }
        return out
    }

    private static func write(_ list: [Address], _ w: inout ByteWriter) {
        w.varint(list.count)
        for a in list {
            w.optionalString(a.name)
            w.optionalString(a.route)
            w.optionalString(a.mailbox)
            w.optionalString(a.host)
        }
    }

    private static func readAddresses(_ r: inout ByteReader) throws -> [Address] {
        let n = try r.count(max: r.remaining / 4)
        var out = [Address]()
        out.reserveCapacity(n)
        for _ in 0..<n {
            out.append(
                Address(
                    name: try r.optionalString(), route: try r.optionalString(), mailbox: try r.optionalString(),
                    host: try r.optionalString()))
        }
        return out
    }

    private static func write(_ e: Envelope, _ w: inout ByteWriter) {
        w.optionalString(e.date)
        w.optionalString(e.subject)
        // Sender and Reply-To equal From in most mail; a flag saves writing them twice.
        let senderIsFrom = e.sender == e.from
        let replyToIsFrom = e.replyTo == e.from
        w.varint((senderIsFrom ? 1 : 0) | (replyToIsFrom ? 2 : 0))
        write(e.from, &w)
        if !senderIsFrom { write(e.sender, &w) }
        if !replyToIsFrom { write(e.replyTo, &w) }
        write(e.to, &w)
        write(e.cc, &w)
        write(e.bcc, &w)
        w.optionalString(e.inReplyTo)
        w.optionalString(e.messageID)
    }

    private static func readEnvelope(_ r: inout ByteReader) throws -> Envelope {
        let date = try r.optionalString()
        let subject = try r.optionalString()
        let flags = try r.count(max: 3)
        let from = try readAddresses(&r)
        let sender = flags & 1 != 0 ? from : try readAddresses(&r)
        let replyTo = flags & 2 != 0 ? from : try readAddresses(&r)
        return Envelope(
            date: date, subject: subject, from: from, sender: sender, replyTo: replyTo, to: try readAddresses(&r),
            cc: try readAddresses(&r), bcc: try readAddresses(&r), inReplyTo: try r.optionalString(),
            messageID: try r.optionalString())
    }

    private static func write(_ p: MessagePart, _ w: inout ByteWriter) {
        w.range(p.headerRange)
        w.range(p.bodyRange)
        w.string(p.contentType.type)
        w.string(p.contentType.subtype)
        write(p.contentType.parameters, &w)
        w.optionalString(p.contentID)
        w.optionalString(p.contentDescription)
        w.string(p.transferEncoding)
        w.optionalString(p.contentMD5)
        if let d = p.disposition {
            w.varint(1)
            w.string(d.type)
            write(d.parameters, &w)
        } else {
            w.varint(0)
        }
        write(p.language, &w)
        w.optionalString(p.location)
        w.varint(p.lineCount)
        switch p.body {
        case .single:
            w.varint(0)
        case .multipart(let children):
            w.varint(1)
            w.varint(children.count)
            for c in children { write(c, &w) }
        case .message(let env, let inner):
            w.varint(2)
            write(env, &w)
            write(inner, &w)
        }
    }

    private static func readPart(_ r: inout ByteReader, depth: Int) throws -> MessagePart {
        guard depth <= MessageLimits.maxSerializedDepth else { throw MailMessageError.malformedSerialization }
        var p = MessagePart(
            headerRange: try r.range(), bodyRange: try r.range(),
            contentType: ContentType(type: try r.string(), subtype: try r.string(), parameters: try readParameters(&r)),
            contentID: try r.optionalString(), contentDescription: try r.optionalString(),
            transferEncoding: try r.string(), contentMD5: try r.optionalString(), disposition: nil, language: [],
            location: nil, lineCount: 0, body: .single)
        if try r.varint() != 0 {
            p.disposition = ContentDisposition(type: try r.string(), parameters: try readParameters(&r))
        }
        p.language = try readStrings(&r)
        p.location = try r.optionalString()
        p.lineCount = try r.count(max: Int.max)
        switch try r.varint() {
        case 0:
            break
        case 1:
            let n = try r.count(max: r.remaining)
            guard n > 0 else { throw MailMessageError.malformedSerialization }
            var children = [MessagePart]()
            children.reserveCapacity(n)
            for _ in 0..<n { children.append(try readPart(&r, depth: depth + 1)) }
            p.body = .multipart(children)
        case 2:
            let env = try readEnvelope(&r)
            p.body = .message(env, try readPart(&r, depth: depth + 1))
        default:
            throw MailMessageError.malformedSerialization
        }
        return p
    }
}
