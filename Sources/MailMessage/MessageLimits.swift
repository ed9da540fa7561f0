/// Named limits that keep parsing bounded in time and memory on hostile input.
public enum MessageLimits {
    /// Deepest MIME nesting (multipart and message/rfc822 levels) that is parsed.
    ///
    /// Deeper composite parts are kept as opaque `application/octet-stream` leaves.
    public static let maxMIMEDepth = 100

    /// Most MIME parts in one message; later delimiters are treated as body content of the last part.
    public static let maxParts = 100_000

    /// Most addresses kept from one address header field.
    public static let maxAddresses = 10_000

    /// Most RFC 2231 sections joined into one parameter value. RFC 2231 §3.
    public static let maxParameterSections = 1_000

    /// PREVIEW length in characters. RFC 8970 §3: at most 256 characters.
    public static let previewLength = 256

    /// Encoded bytes of a text/plain part examined to build the preview.
    public static let previewTextSourceBytes = 8 * 1024

    /// Encoded bytes of a text/html part examined to build the preview (style sheets come first).
    public static let previewHTMLSourceBytes = 64 * 1024

    /// Most decoded text kept for the search index from one text part.
    public static let maxIndexedTextBytes = 4 * 1024 * 1024

    /// Longest charset name passed to iconv.
    public static let maxCharsetNameLength = 64

    /// Deepest part nesting accepted when decoding a serialized message.
    public static let maxSerializedDepth = 2 * maxMIMEDepth + 4
}
