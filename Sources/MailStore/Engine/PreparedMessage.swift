import Crypto
import MailMessage

/// A message made ready for the store, outside any transaction: line endings normalised to
/// CRLF, its SHA-256 computed and its structure parsed. Doing this before `write` keeps the
/// single writer thread free for storage work.
public struct PreparedMessage: Sendable {
    /// The bytes to store: the CRLF form.
    public let bytes: [UInt8]
    let sha256: [UInt8]
    let structure: [UInt8]
    /// The words the full-text index keeps for it.
    let terms: IndexTerms
    /// Its `SortKeys`, encoded.
    let sortKeys: [UInt8]

    /// RFC822.SIZE.
    public var size: Int { bytes.count }

    public init(_ raw: [UInt8]) {
        let bytes = ParsedMessage.crlfNormalized(raw)
        self.bytes = bytes
        self.sha256 = Array(SHA256.hash(data: bytes))
        let parsed = ParsedMessage.parse(bytes)
        self.structure = parsed.serialized()
        self.terms = IndexTerms(SearchDocument(parsed, raw: bytes))
        self.sortKeys = SortKeys(parsed).encoded()
    }
}

extension PreparedMessage {
    /// The SHA-256 the store files `raw` under (that of its CRLF form), without parsing it:
    /// enough to tell whether the store holds that content already.
    public static func contentHash(of raw: [UInt8]) -> [UInt8] {
        Array(SHA256.hash(data: ParsedMessage.crlfNormalized(raw)))
    }
}
