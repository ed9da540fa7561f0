#if canImport(Glibc)
import Glibc
#elseif canImport(Darwin)
import Darwin
#endif

/// A message parsed once: MIME tree, envelope, threading keys and preview, ready to store.
///
/// Contract with the store: normalise the message with `crlfNormalized(_:)`, store those bytes,
/// and parse them. Every offset in the result (`MessagePart.headerRange`, `bodyRange`, the
/// section ranges) refers to the bytes that were parsed, so BODY[section] is then a slice of the
/// stored bytes and never a reparse. Parsing bytes with bare LFs still works; `isCRLFNormalized`
/// is then false and `size` still reports the CRLF size that RFC822.SIZE needs.
public struct ParsedMessage: Sendable, Equatable {
    /// The size of the CRLF form of the message in octets: RFC822.SIZE.
    public var size: Int
    /// Whether the parsed bytes had no bare LF, so offsets are offsets into the CRLF form.
    public var isCRLFNormalized: Bool
    /// The top-level part: the message header and its body.
    public var root: MessagePart
    /// The top-level ENVELOPE.
    public var envelope: Envelope
    /// The threading keys of the top-level header.
    public var threading: ThreadingKeys
    /// The Date header parsed, or nil when it is absent or invalid.
    public var sentDate: MessageDate?
    /// The PREVIEW text, RFC 8970: at most 256 characters from the first text part, HTML removed.
    public var preview: String

    public init(
        size: Int, isCRLFNormalized: Bool, root: MessagePart, envelope: Envelope, threading: ThreadingKeys,
        sentDate: MessageDate?, preview: String
    ) {
        self.size = size
        self.isCRLFNormalized = isCRLFNormalized
        self.root = root
        self.envelope = envelope
        self.threading = threading
        self.sentDate = sentDate
        self.preview = preview
    }

    /// Parses a whole message (header, blank line, body). Never fails: broken input gets defaults.
    public static func parse(_ bytes: some Collection<UInt8>) -> ParsedMessage {
        if let m = bytes.withContiguousStorageIfAvailable({ parse(buffer: $0) }) { return m }
        return Array(bytes).withUnsafeBufferPointer { parse(buffer: $0) }
    }

    /// Parses a whole message held in raw memory; see `parse(_:)`.
    public static func parse(_ bytes: UnsafeRawBufferPointer) -> ParsedMessage {
        parse(buffer: bytes.bindMemory(to: UInt8.self))
    }

    /// Parses a message held in a typed buffer.
    static func parse(buffer: UnsafeBufferPointer<UInt8>) -> ParsedMessage {
        var parser = MIMEParser(buffer)
        let (root, fields) = parser.parsePart(0..<buffer.count, depth: 0, defaultType: .textPlainDefault)
        let envelope = parser.envelope(fields)
        let bareLF = bareLineFeeds(buffer)
        return ParsedMessage(
            size: buffer.count + bareLF, isCRLFNormalized: bareLF == 0, root: root, envelope: envelope,
            threading: parser.threadingKeys(fields, envelope: envelope),
            sentDate: envelope.date.flatMap(MessageDate.init(parsing:)),
            preview: TextExtractor(buffer).preview(of: root))
    }

    /// The number of LFs not preceded by CR.
    static func bareLineFeeds(_ buf: UnsafeBufferPointer<UInt8>) -> Int { Bytes.bareLineFeedCount(buf) }

    /// `crlfNormalized` of an array: the array itself, not a copy, when it has no bare LF (as
    /// mail over LMTP, SMTP and IMAP has), so a large message is not copied on its way in.
    public static func crlfNormalized(_ bytes: [UInt8]) -> [UInt8] {
        bytes.withUnsafeBufferPointer { buf in
            let bare = bareLineFeeds(buf)
            return bare == 0 ? nil : addingCRs(buf, bareLineFeeds: bare)
        } ?? bytes
    }

    /// `bytes` with every bare LF turned into CRLF; lone CRs and existing CRLFs are kept.
    ///
    /// RFC 5322 §2.3 and RFC 9051 §2.3.1: the protocol view of a message uses CRLF line endings.
    public static func crlfNormalized(_ bytes: some Collection<UInt8>) -> [UInt8] {
        let work = { (buf: UnsafeBufferPointer<UInt8>) -> [UInt8] in
            let bare = bareLineFeeds(buf)
            return bare == 0 ? Array(buf) : addingCRs(buf, bareLineFeeds: bare)
        }
        return bytes.withContiguousStorageIfAvailable(work) ?? crlfNormalized(Array(bytes))
    }

    /// `buf`, which has `bareLineFeeds` LFs not preceded by CR, with a CR put before each.
    private static func addingCRs(_ buf: UnsafeBufferPointer<UInt8>, bareLineFeeds bare: Int) -> [UInt8] {
        var out = [UInt8]()
        out.reserveCapacity(buf.count + bare)
        var pos = 0
        while let nl = Bytes.find(Bytes.lf, in: buf, from: pos, to: buf.count) {
            out.append(contentsOf: buf[pos..<nl])
            if nl == 0 || buf[nl - 1] != Bytes.cr { out.append(Bytes.cr) }
            out.append(Bytes.lf)
            pos = nl + 1
        }
        out.append(contentsOf: buf[pos...])
        return out
    }
}
