/// Turns HTML into plain text for previews and the search index.
public enum HTMLText {
    /// Tags after which a line break is implied.
    private static let blockTags: Set<[UInt8]> = Set([
        "br", "p", "div", "li", "tr", "td", "th", "h1", "h2", "h3", "h4", "h5", "h6", "table", "ul", "ol",
        "blockquote", "pre", "hr", "title",
    ].map { Array($0.utf8) })

    /// Named character references decoded; others are left as written.
    private static let entities: [[UInt8]: Unicode.Scalar] = {
        let table: [String: Unicode.Scalar] = [
            "amp": "&", "lt": "<", "gt": ">", "quot": "\"", "apos": "'", "nbsp": " ", "copy": "©", "reg": "®",
            "hellip": "…", "mdash": "—", "ndash": "–", "lsquo": "‘", "rsquo": "’", "ldquo": "“", "rdquo": "”",
            "euro": "€", "laquo": "«", "raquo": "»", "middot": "·", "bull": "•", "zwnj": "\u{200C}",
        ]
        return Dictionary(uniqueKeysWithValues: table.map { (Array($0.key.utf8), $0.value) })
    }()

    /// The text of `html`: tags, comments, scripts and styles removed, common entities decoded.
    public static func strip(_ html: String) -> String {
        String(decoding: strip(Array(html.utf8)), as: UTF8.self)
    }

    /// `strip(_:)` on UTF-8 bytes. Markup is ASCII, so multibyte text passes through untouched.
    static func strip(_ s: [UInt8]) -> [UInt8] {
        var out = [UInt8]()
        out.reserveCapacity(s.count / 2)
        var i = 0
        while i < s.count {
            let c = s[i]
            if c == UInt8(ascii: "<") {
                if matches(s, i, "<!--") {
                    i = find(s, from: i + 4, "-->").map { $0 + 3 } ?? s.count
                    continue
                }
                var j = i + 1
                let closing = j < s.count && s[j] == UInt8(ascii: "/")
                if closing { j += 1 }
                let nameStart = j
                while j < s.count, isAlphanumeric(s[j]) { j += 1 }
                let name = Bytes.lowercased(s[nameStart..<j])
                guard !name.isEmpty || closing || (j < s.count && (s[j] == UInt8(ascii: "!") || s[j] == UInt8(ascii: "?")))
                else {
                    out.append(c)  // a lone "<" in text
                    i += 1
                    continue
                }
                i = skipTag(s, from: j)
                if !closing, name == Array("script".utf8) || name == Array("style".utf8) {
                    i = find(s, from: i, "</" + String(decoding: name, as: UTF8.self)).map { skipTag(s, from: $0) } ?? s.count
                }
                if blockTags.contains(name) { out.append(Bytes.lf) }
            } else if c == UInt8(ascii: "&") {
                var j = i + 1
                while j < s.count, j - i <= 10, s[j] != UInt8(ascii: ";"), !Bytes.isSpace(s[j]) { j += 1 }
                if j < s.count, s[j] == UInt8(ascii: ";"), let decoded = entity(s[(i + 1)..<j]) {
                    out.append(contentsOf: String(Character(decoded)).utf8)
                    i = j + 1
                } else {
                    out.append(c)
                    i += 1
                }
            } else {
                out.append(c)
                i += 1
            }
        }
        return out
    }

    @inline(__always)
    private static func isAlphanumeric(_ b: UInt8) -> Bool {
        let l = b | 0x20
        return (l >= 97 && l <= 122) || (b >= 48 && b <= 57)
    }

    /// The scalar of a character reference body ("amp", "#38", "#x26"), or nil.
    private static func entity(_ name: ArraySlice<UInt8>) -> Unicode.Scalar? {
        guard let first = name.first else { return nil }
        if first == UInt8(ascii: "#") {
            let digits = name.dropFirst()
            if let x = digits.first, x | 0x20 == UInt8(ascii: "x") {
                return UInt32(String(decoding: digits.dropFirst(), as: UTF8.self), radix: 16).flatMap(Unicode.Scalar.init)
            }
            return UInt32(String(decoding: digits, as: UTF8.self)).flatMap(Unicode.Scalar.init)
        }
        return entities[Bytes.lowercased(name)]
    }

    /// Index after the ">" that ends the tag whose name ends at `from`, honouring quoted attributes.
    private static func skipTag(_ s: [UInt8], from: Int) -> Int {
        var i = from
        var quote: UInt8 = 0
        while i < s.count {
            let c = s[i]
            if quote != 0 {
                if c == quote { quote = 0 }
            } else if c == UInt8(ascii: "\"") || c == UInt8(ascii: "'") {
                quote = c
            } else if c == UInt8(ascii: ">") {
                return i + 1
            }
            i += 1
        }
        return s.count
    }

    /// Whether ASCII `needle` (lowercase) occurs at `at`, ignoring case.
    private static func matches(_ s: [UInt8], _ at: Int, _ needle: String) -> Bool {
        var i = at
        for n in needle.utf8 {
            guard i < s.count, Bytes.lower(s[i]) == n else { return false }
            i += 1
        }
        return true
    }

    /// Index of the first case-insensitive occurrence of ASCII `needle` at or after `from`.
    private static func find(_ s: [UInt8], from: Int, _ needle: String) -> Int? {
        guard let first = needle.utf8.first else { return nil }
        var i = from
        while i < s.count {
            if Bytes.lower(s[i]) == first, matches(s, i, needle) { return i }
            i += 1
        }
        return nil
    }
}
