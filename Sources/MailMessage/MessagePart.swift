/// One MIME part with its header fields, extension data and byte offsets into the raw message.
///
/// Offsets are relative to the bytes given to `ParsedMessage.parse`, which should be the
/// CRLF-normalised message (see `ParsedMessage`). The IMAP renderer needs everything in
/// RFC 9051 §7.5.2 BODYSTRUCTURE from here; `lineCount` matters for text/* and message/rfc822.
public struct MessagePart: Sendable, Equatable {
    /// The header fields of the part, without the blank line that ends them.
    public var headerRange: Range<Int>
    /// The body: after the blank line, up to the line break before the next boundary delimiter.
    public var bodyRange: Range<Int>
    /// The media type; defaults applied (RFC 2045 §5.2, RFC 2046 §5.1.5).
    public var contentType: ContentType
    /// The raw Content-ID value, or nil.
    public var contentID: String?
    /// The raw Content-Description value, or nil.
    public var contentDescription: String?
    /// The Content-Transfer-Encoding, lowercased; "7bit" when absent (RFC 2045 §6.1).
    public var transferEncoding: String
    /// The raw Content-MD5 value, or nil.
    public var contentMD5: String?
    /// The Content-Disposition, or nil.
    public var disposition: ContentDisposition?
    /// The Content-Language tags, in order. RFC 3282.
    public var language: [String]
    /// The raw Content-Location value, or nil. RFC 2557.
    public var location: String?
    /// Lines in the body; counted for text/* and encapsulated messages, 0 for other types.
    public var lineCount: Int
    /// What the body holds: nothing parsed, subparts, or an encapsulated message.
    public var body: PartBody

    /// The body size in octets, as BODYSTRUCTURE reports it.
    public var bodyOctets: Int { bodyRange.count }

    /// The header fields together with the blank line after them (the IMAP MIME or HEADER section).
    public var headerSectionRange: Range<Int> { headerRange.lowerBound..<max(headerRange.upperBound, bodyRange.lowerBound) }

    /// The whole part: header, blank line and body.
    public var fullRange: Range<Int> { headerRange.lowerBound..<max(headerRange.lowerBound, bodyRange.upperBound) }

    /// The Content-Description with RFC 2047 encoded words decoded.
    public var decodedDescription: String? { contentDescription.map(EncodedWords.decode) }

    /// The file name from Content-Disposition filename or Content-Type name, encoded words decoded.
    public var fileName: String? {
        (disposition?.parameter("filename") ?? contentType.parameter("name")).map(EncodedWords.decode)
    }

    /// The subparts of a multipart, or an empty array.
    public var subparts: [MessagePart] {
        if case .multipart(let parts) = body { return parts }
        return []
    }
}

/// The parsed content of a part's body.
public enum PartBody: Sendable, Equatable {
    /// A leaf: text, an attachment, or a composite part kept opaque.
    case single
    /// A multipart's subparts, in order; never empty.
    case multipart([MessagePart])
    /// An encapsulated message (message/rfc822 or message/global): its envelope and its root part.
    indirect case message(Envelope, MessagePart)
}
