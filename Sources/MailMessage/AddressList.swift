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
    public static func parse(_ value: String) -> [Address] { parse(Array(value.utf8)) }

    /// Parses address-list bytes; see `parse(_:)`.
    static func parse(_ bytes: [UInt8]) -> [Address] {
        let tokens = tokenize(bytes)
        var result = [Address]()
        var phrase = [Token]()
        var inGroup = false
        var afterAngle = false
        var i = 0

        func emit(_ a: Address) {
            if result.count < MessageLimits.maxAddresses { result.append(a) }
        }
        func flushBare() {
            defer { phrase.removeAll() }
            guard !phrase.isEmpty, !afterAngle else { return }
            emit(addrSpec(phrase))
        }

        while i < tokens.count {
            let t = tokens[i]
            i += 1
            switch t.special {
            case UInt8(ascii: "<"):
                var inner = [Token]()
                while i < tokens.count, tokens[i].special != UInt8(ascii: ">") {
                    inner.append(tokens[i])
                    i += 1
                }
                i += 1
                var route: String?
                if let colon = inner.lastIndex(where: { $0.special == UInt8(ascii: ":") }) {
                    route = joinRaw(inner[..<colon])
                    inner.removeSubrange(...colon)
                }
                var a = addrSpec(inner)
                a.route = route
                let name = joinPhrase(phrase)
                a.name = name.isEmpty ? nil : name
                if !afterAngle { emit(a) }
                phrase.removeAll()
                afterAngle = true
            case UInt8(ascii: ":") where !inGroup && !phrase.contains(where: { $0.special == UInt8(ascii: "@") }):
                emit(.groupStart(joinPhrase(phrase)))
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
                if !afterAngle { phrase.append(t) }
            }
        }
        flushBare()
        if inGroup { emit(.groupEnd) }
        return result
    }

    /// One lexical token of an address list.
    struct Token {
        /// The special character, or 0 for words.
        var special: UInt8
        /// The token as written (quoted strings keep their quotes).
        var raw: [UInt8]
        /// The token's text (quoted strings unquoted and unescaped).
        var text: [UInt8]
    }

    private static let specials: Set<UInt8> = Set("<>:;,@".utf8)

    /// Splits address-list bytes into words, quoted strings, domain literals and specials; drops comments.
    static func tokenize(_ s: [UInt8]) -> [Token] {
        var tokens = [Token]()
        var i = 0
        while i < s.count {
            let b = s[i]
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
            } else if b == UInt8(ascii: "\"") {
                let start = i
                var text = [UInt8]()
                i += 1
                while i < s.count, s[i] != UInt8(ascii: "\"") {
                    if s[i] == UInt8(ascii: "\\"), i + 1 < s.count { i += 1 }
                    if s[i] != Bytes.cr, s[i] != Bytes.lf { text.append(s[i]) }
                    i += 1
                }
                i = min(i + 1, s.count)
                tokens.append(Token(special: 0, raw: Array(s[start..<i]), text: text))
            } else if b == UInt8(ascii: "[") {
                let start = i
                while i < s.count, s[i] != UInt8(ascii: "]") { i += 1 }
                i = min(i + 1, s.count)
                let raw = Array(s[start..<i])
                tokens.append(Token(special: 0, raw: raw, text: raw))
            } else if specials.contains(b) {
                tokens.append(Token(special: b, raw: [b], text: [b]))
                i += 1
            } else {
                let start = i
                while i < s.count, !Bytes.isSpace(s[i]), !specials.contains(s[i]),
                    s[i] != UInt8(ascii: "("), s[i] != UInt8(ascii: "\""), s[i] != UInt8(ascii: "[")
                {
                    i += 1
                }
                let raw = Array(s[start..<i])
                tokens.append(Token(special: 0, raw: raw, text: raw))
            }
        }
        return tokens
    }

    /// An address from addr-spec tokens, split at the last "@".
    private static func addrSpec(_ tokens: some Collection<Token>) -> Address {
        let list = Array(tokens)
        guard let at = list.lastIndex(where: { $0.special == UInt8(ascii: "@") }) else {
            return Address(mailbox: joinPhrase(list), host: "")
        }
        return Address(mailbox: joinRaw(list[..<at]), host: joinRaw(list[(at + 1)...]))
    }

    /// Tokens joined as written, without spaces (addr-spec and route form).
    private static func joinRaw(_ tokens: some Collection<Token>) -> String {
        var out = [UInt8]()
        for t in tokens { out += t.raw }
        return Bytes.string(out)
    }

    /// Tokens joined as a phrase: text of each word, one space between words.
    private static func joinPhrase(_ tokens: some Collection<Token>) -> String {
        var out = [UInt8]()
        for t in tokens {
            if !out.isEmpty { out.append(Bytes.space) }
            out += t.text
        }
        return Bytes.string(out)
    }
}
