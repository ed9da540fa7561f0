/// Turns HTML into plain text for previews and the search index.
public enum HTMLText {
    /// Tags after which a line break is implied.
    private static let blockTags: Set<String> = [
        "br", "p", "div", "li", "tr", "td", "th", "h1", "h2", "h3", "h4", "h5", "h6", "table", "ul", "ol",
        "blockquote", "pre", "hr", "title",
    ]

    /// Named character references decoded; others are left as written.
    private static let entities: [String: Unicode.Scalar] = [
        "amp": "&", "lt": "<", "gt": ">", "quot": "\"", "apos": "'", "nbsp": " ", "copy": "©", "reg": "®",
        "hellip": "…", "mdash": "—", "ndash": "–", "lsquo": "‘", "rsquo": "’", "ldquo": "“", "rdquo": "”",
        "euro": "€", "laquo": "«", "raquo": "»", "middot": "·", "bull": "•", "zwnj": "\u{200C}",
    ]

    /// The text of `html`: tags, comments, scripts and styles removed, common entities decoded.
    public static func strip(_ html: String) -> String {
        let s = Array(html.unicodeScalars)
        var out = String.UnicodeScalarView()
        var i = 0
        while i < s.count {
            let c = s[i]
            if c == "<" {
                if matches(s, i, "<!--") {
                    i = find(s, from: i + 4, "-->").map { $0 + 3 } ?? s.count
                    continue
                }
                var j = i + 1
                let closing = j < s.count && s[j] == "/"
                if closing { j += 1 }
                var name = ""
                while j < s.count, s[j].properties.isAlphabetic || ("0"..."9").contains(s[j]) {
                    name.unicodeScalars.append(s[j])
                    j += 1
                }
                guard !name.isEmpty || closing || (j < s.count && (s[j] == "!" || s[j] == "?")) else {
                    out.append(c)  // a lone "<" in text
                    i += 1
                    continue
                }
                name = name.lowercased()
                i = skipTag(s, from: j)
                if !closing, name == "script" || name == "style" {
                    i = find(s, from: i, "</" + name).map { skipTag(s, from: $0) } ?? s.count
                }
                if blockTags.contains(name) { out.append("\n") }
            } else if c == "&" {
                var j = i + 1
                var name = ""
                while j < s.count, j - i <= 10, s[j] != ";", !s[j].properties.isWhitespace {
                    name.unicodeScalars.append(s[j])
                    j += 1
                }
                if j < s.count, s[j] == ";", let decoded = entity(name) {
                    out.append(decoded)
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
        return String(out)
    }

    /// The scalar of a character reference body ("amp", "#38", "#x26"), or nil.
    private static func entity(_ name: String) -> Unicode.Scalar? {
        if name.hasPrefix("#x") || name.hasPrefix("#X") {
            return UInt32(name.dropFirst(2), radix: 16).flatMap(Unicode.Scalar.init)
        }
        if name.hasPrefix("#") { return UInt32(name.dropFirst(1)).flatMap(Unicode.Scalar.init) }
        return entities[name.lowercased()]
    }

    /// Index after the ">" that ends the tag whose name ends at `from`, honouring quoted attributes.
    private static func skipTag(_ s: [Unicode.Scalar], from: Int) -> Int {
        var i = from
        var quote: Unicode.Scalar?
        while i < s.count {
            let c = s[i]
            if let q = quote {
                if c == q { quote = nil }
            } else if c == "\"" || c == "'" {
                quote = c
            } else if c == ">" {
                return i + 1
            }
            i += 1
        }
        return s.count
    }

    @inline(__always)
    private static func lowerASCII(_ c: Unicode.Scalar) -> Unicode.Scalar {
        guard c.value >= 65, c.value <= 90, let l = Unicode.Scalar(c.value | 0x20) else { return c }
        return l
    }

    private static func matches(_ s: [Unicode.Scalar], _ at: Int, _ needle: String) -> Bool {
        var i = at
        for n in needle.unicodeScalars {
            guard i < s.count, lowerASCII(s[i]) == n else { return false }
            i += 1
        }
        return true
    }

    /// Index of the first case-insensitive occurrence of ASCII `needle` at or after `from`.
    private static func find(_ s: [Unicode.Scalar], from: Int, _ needle: String) -> Int? {
        guard let first = needle.unicodeScalars.first else { return nil }
        var i = from
        while i < s.count {
            if lowerASCII(s[i]) == first, matches(s, i, needle) { return i }
            i += 1
        }
        return nil
    }
}
