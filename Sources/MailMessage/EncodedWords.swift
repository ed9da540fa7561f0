/// Decoding of RFC 2047 encoded words in header text.
public enum EncodedWords {
    // RFC 2047 §2: encoded-word = "=?" charset "?" encoding "?" encoded-text "?="
    // RFC 2231 §5: charset may carry "*" language, which is ignored here.
    /// Decodes every encoded word in `text`; B and Q encodings, any charset `Charset` knows.
    ///
    /// Whitespace between adjacent encoded words is dropped (RFC 2047 §6.2), and adjacent words in
    /// the same charset are joined before charset conversion so split multibyte characters survive.
    /// A word in an unknown charset, or malformed, is left as it was written.
    public static func decode(_ text: String) -> String {
        guard mayHoldEncodedWords(text) else { return text }
        return decode(Array(text.utf8))
    }

    /// Whether `text` has an encoded word's opening `=?` and room for the rest: a cheap test
    /// that spares most header text a decode (a whole header section holds `=` in its
    /// DKIM signatures, but rarely `=?`).
    static func mayHoldEncodedWords(_ text: String) -> Bool {
        guard text.utf8.count >= 8 else { return false }
        return text.utf8.withContiguousStorageIfAvailable { RareBytes.contains(opening, in: $0) } ?? true
    }

    private static let opening: [UInt8] = [UInt8(ascii: "="), UInt8(ascii: "?")]

    /// Decodes the encoded words in header bytes; see `decode(_:)`.
    static func decode(_ s: [UInt8]) -> String {
        var out = ""
        var literalStart = 0
        var pendingCharset: String?
        var pendingBytes = [UInt8]()
        var i = 0

        func flushPending() {
            if let cs = pendingCharset {
                out += Charset.decode(pendingBytes, charset: cs) ?? Bytes.string(pendingBytes)
            }
            pendingCharset = nil
            pendingBytes.removeAll(keepingCapacity: true)
        }

        while i + 1 < s.count {
            guard s[i] == UInt8(ascii: "="), s[i + 1] == UInt8(ascii: "?"),
                let word = parseWord(s, at: i)
            else {
                i += 1
                continue
            }
            let gap = s[literalStart..<i]
            let gapIsSpace = gap.allSatisfy(Bytes.isSpace)
            guard let charsetName = Charset.canonicalName(word.charset), Charset.isSupported(word.charset) else {
                i = word.end
                continue
            }
            if pendingCharset != nil, gapIsSpace {
                // RFC 2047 §6.2: whitespace between adjacent encoded words is not displayed.
                if pendingCharset != charsetName {
                    flushPending()
                    pendingCharset = charsetName
                }
            } else {
                flushPending()
                out += Bytes.string(gap)
                pendingCharset = charsetName
            }
            pendingBytes += word.decoded
            i = word.end
            literalStart = i
        }
        flushPending()
        out += Bytes.string(s[literalStart...])
        return out
    }

    /// One encoded word found in the text.
    struct Word {
        var charset: String
        var decoded: [UInt8]
        var end: Int
    }

    /// Parses the encoded word that starts at `start` ("=?"), or returns nil.
    static func parseWord(_ s: [UInt8], at start: Int) -> Word? {
        var i = start + 2
        let csStart = i
        while i < s.count, s[i] != UInt8(ascii: "?") {
            if Bytes.isSpace(s[i]) || i - csStart > MessageLimits.maxCharsetNameLength { return nil }
            i += 1
        }
        guard i + 2 < s.count, s[i + 2] == UInt8(ascii: "?") else { return nil }
        var charset = Bytes.string(s[csStart..<i])
        if let star = charset.firstIndex(of: "*") { charset = String(charset[..<star]) }
        let encoding = Bytes.lower(s[i + 1])
        let textStart = i + 3
        var j = textStart
        while j + 1 < s.count, !(s[j] == UInt8(ascii: "?") && s[j + 1] == UInt8(ascii: "=")) {
            if Bytes.isSpace(s[j]) { return nil }
            j += 1
        }
        guard j + 1 < s.count else { return nil }
        let text = s[textStart..<j]
        let decoded: [UInt8]
        switch encoding {
        case UInt8(ascii: "b"): decoded = TransferDecoding.base64(text)
        case UInt8(ascii: "q"): decoded = TransferDecoding.quotedPrintable(text, underscoreIsSpace: true)
        default: return nil
        }
        return Word(charset: charset, decoded: decoded, end: j + 2)
    }
}
