/// A tolerant parser for address-list header fields (From, To, Cc, …).
public enum AddressList {
    // RFC 5322 §3.4:
    //   address-list = (address *("," address)) / obs-addr-list
    //   address      = mailbox / group
    //   mailbox      = name-addr / addr-spec
    //   name-addr    = [display-name] angle-addr
    //   group        = display-name ":" [group-list] ";" [CFWS]
    // RFC 5322 §4.4:
    //   obs-angle-addr = [CFWS] "<" obs-route addr-spec ">" [CFWS]
    //   obs-route      = obs-domain-list ":"
    /// Parses an address list into envelope addresses, with group start and end markers.
    ///
    /// Comments are skipped, quotes are removed from display names, encoded words are kept raw.
    /// Garbage still yields something: text without "@" becomes a mailbox with an empty host.
    public static func parse(_ value: String) -> [Address] {
        var value = value
        return value.withUTF8(parse(_:))
    }

    /// Parses address-list bytes; see `parse(_:)`.
    static func parse(_ bytes: UnsafeBufferPointer<UInt8>) -> [Address] {
        let tokens = tokenize(bytes)
        let s = bytes
        var result = [Address]()
        // The tokens since the last address or separator; always a run of consecutive tokens.
        var phrase = tokens[0..<0]
        var inGroup = false
        var afterAngle = false
        var i = 0

        func emit(_ a: Address) {
            if result.count < MessageLimits.maxAddresses { result.append(a) }
        }
        func flushBare() {
            defer { phrase.removeAll() }
            guard !phrase.isEmpty, !afterAngle else { return }
            emit(addrSpec(s, phrase))
        }

        while i < tokens.count {
            let t = tokens[i]
            i += 1
            switch t.special {
            case UInt8(ascii: "<"):
                let innerStart = i
                while i < tokens.count, tokens[i].special != UInt8(ascii: ">") { i += 1 }
                var inner = tokens[innerStart..<i]
                i += 1
                var route: String?
                if let colon = inner.lastIndex(where: { $0.special == UInt8(ascii: ":") }) {
                    route = joinRaw(s, inner[..<colon])
                    inner = inner[(colon + 1)...]
                }
                var a = addrSpec(s, inner)
                a.route = route
                let name = joinPhrase(s, phrase)
                a.name = name.isEmpty ? nil : name
                if !afterAngle { emit(a) }
                phrase.removeAll()
                afterAngle = true
            case UInt8(ascii: ":") where !inGroup && !phrase.contains(where: { $0.special == UInt8(ascii: "@") }):
                emit(.groupStart(joinPhrase(s, phrase)))
                phrase.removeAll()
                inGroup = true
                afterAngle = false
            case UInt8(ascii: ";"):
                flushBare()
                if inGroup { emit(.groupEnd) }
                inGroup = false
                afterAngle = false
            case UInt8(ascii: ","):
                flushBare()
                afterAngle = false
            default:
                if !afterAngle { phrase = tokens[(phrase.isEmpty ? i - 1 : phrase.startIndex)..<i] }
            }
        }
        flushBare()
        if inGroup { emit(.groupEnd) }
        return result
    }

    /// One lexical token of an address list, as a range of the field value.
    struct Token {
        /// The special character, or 0 for words.
        var special: UInt8
        /// Where the token is written (quoted strings with their quotes).
        var range: Range<Int>
        /// Whether the token is a quoted string.
        var isQuoted: Bool
    }

    /// Whether `b` is one of the specials that structure an address list.
    @inline(__always)
    private static func isSpecial(_ b: UInt8) -> Bool {
        b == UInt8(ascii: "<") || b == UInt8(ascii: ">") || b == UInt8(ascii: ":") || b == UInt8(ascii: ";")
            || b == UInt8(ascii: ",") || b == UInt8(ascii: "@")
    }

    /// Splits address-list bytes into words, quoted strings, domain literals and specials; drops comments.
    static func tokenize(_ s: UnsafeBufferPointer<UInt8>) -> [Token] {
        var tokens = [Token]()
        tokens.reserveCapacity(s.count / 4)  // roughly one token in four bytes of a typical list
        var i = 0
        while i < s.count {
            let b = s[i]
            let start = i
            if Bytes.isSpace(b) {
                i += 1
            } else if b == UInt8(ascii: "(") {
                var depth = 0
                while i < s.count {
                    if s[i] == UInt8(ascii: "\\") { i += 2; continue }
                    if s[i] == UInt8(ascii: "(") { depth += 1 }
                    if s[i] == UInt8(ascii: ")") { depth -= 1; if depth == 0 { i += 1; break } }
                    i += 1
                }
                i = min(i, s.count)
            } else if b == UInt8(ascii: "\"") {
                i += 1
                while i < s.count, s[i] != UInt8(ascii: "\"") { i += s[i] == UInt8(ascii: "\\") ? 2 : 1 }
                i = min(i + 1, s.count)
                tokens.append(Token(special: 0, range: start..<i, isQuoted: true))
            } else if b == UInt8(ascii: "[") {
                while i < s.count, s[i] != UInt8(ascii: "]") { i += 1 }
                i = min(i + 1, s.count)
                tokens.append(Token(special: 0, range: start..<i, isQuoted: false))
            } else if isSpecial(b) {
                i += 1
                tokens.append(Token(special: b, range: start..<i, isQuoted: false))
            } else {
                while i < s.count, !Bytes.isSpace(s[i]), !isSpecial(s[i]),
                    s[i] != UInt8(ascii: "("), s[i] != UInt8(ascii: "\""), s[i] != UInt8(ascii: "[")
                {
                    i += 1
                }
                tokens.append(Token(special: 0, range: start..<i, isQuoted: false))
            }
        }
        return tokens
    }

    /// An address from addr-spec tokens, split at the last "@".
    private static func addrSpec(_ s: UnsafeBufferPointer<UInt8>, _ tokens: ArraySlice<Token>) -> Address {
        guard let at = tokens.lastIndex(where: { $0.special == UInt8(ascii: "@") }) else {
            return Address(mailbox: joinPhrase(s, tokens), host: "")
        }
        return Address(mailbox: joinRaw(s, tokens[..<at]), host: joinRaw(s, tokens[(at + 1)...]))
    }

    /// Tokens joined as written, without spaces (addr-spec and route form).
    private static func joinRaw(_ s: UnsafeBufferPointer<UInt8>, _ tokens: ArraySlice<Token>) -> String {
        // Tokens written side by side, as in most addr-specs, are one slice of the value.
        if let first = tokens.first, let last = tokens.last,
            last.range.upperBound - first.range.lowerBound == tokens.reduce(0, { $0 + $1.range.count })
        {
            return Bytes.string(s, first.range.lowerBound..<last.range.upperBound)
        }
        var out = [UInt8]()
        for t in tokens { out += s[t.range] }
        return Bytes.string(out)
    }

    /// Where the phrase of `tokens` is written as it would be joined, or nil: words one space apart,
    /// or one quoted string without escapes or line breaks (the usual display names).
    private static func phraseSlice(_ s: UnsafeBufferPointer<UInt8>, _ tokens: ArraySlice<Token>) -> Range<Int>? {
        guard let first = tokens.first, let last = tokens.last else { return nil }
        if first.isQuoted {
            guard tokens.count == 1 else { return nil }
            let r = first.range
            let end = r.upperBound - (r.count > 1 && s[r.upperBound - 1] == UInt8(ascii: "\"") ? 1 : 0)
            let inner = (r.lowerBound + 1)..<end
            for i in inner where s[i] == UInt8(ascii: "\\") || s[i] == Bytes.cr || s[i] == Bytes.lf { return nil }
            return inner
        }
        var previous = first
        for t in tokens.dropFirst() {
            guard !t.isQuoted, t.range.lowerBound == previous.range.upperBound + 1, s[previous.range.upperBound] == Bytes.space
            else { return nil }
            previous = t
        }
        return first.range.lowerBound..<last.range.upperBound
    }

    /// Tokens joined as a phrase: each word's text, quotes removed, one space between words.
    private static func joinPhrase(_ s: UnsafeBufferPointer<UInt8>, _ tokens: ArraySlice<Token>) -> String {
        if let slice = phraseSlice(s, tokens) { return Bytes.string(s, slice) }
        var out = [UInt8]()
        for t in tokens {
            if !out.isEmpty { out.append(Bytes.space) }
            guard t.isQuoted else {
                out += s[t.range]
                continue
            }
            var i = t.range.lowerBound + 1
            let end = t.range.upperBound - (t.range.count > 1 && s[t.range.upperBound - 1] == UInt8(ascii: "\"") ? 1 : 0)
            while i < end {
                if s[i] == UInt8(ascii: "\\"), i + 1 < end { i += 1 }
                if s[i] != Bytes.cr, s[i] != Bytes.lf { out.append(s[i]) }
                i += 1
            }
        }
        return Bytes.string(out)
    }
}
