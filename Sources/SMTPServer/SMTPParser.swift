/// Turns one command line (without CRLF) into an `SMTPCommand`. Pure: no state, no I/O.
public enum SMTPParser {
    /// The most digits taken in a SIZE or BDAT number; longer numbers count as "too large".
    static let maxDigits = 18

    /// command = verb [SP arguments]; verbs are case-insensitive (RFC 5321 §2.4).
    public static func parse<C: Collection<UInt8>>(_ line: C) -> Result<SMTPCommand, SMTPParseError> {
        let bytes = Array(line)
        let space = bytes.firstIndex(of: UInt8(ascii: " ")) ?? bytes.count
        let verbBytes = bytes[..<space]
        guard !verbBytes.isEmpty, verbBytes.count <= 8, verbBytes.allSatisfy(isAlpha) else { return .failure(.unrecognized) }
        let verb = String(decoding: verbBytes, as: UTF8.self).uppercased()
        let rest = space < bytes.count ? String(decoding: bytes[(space + 1)...], as: UTF8.self) : ""
        // Trimmed as bytes: Character-wise trimming showed up in delivery profiles.
        var first = min(space + 1, bytes.count), end = bytes.count
        while first < end && isBlank(bytes[first]) { first += 1 }
        while end > first && isBlank(bytes[end - 1]) { end -= 1 }
        let argument = String(decoding: bytes[first..<end], as: UTF8.self)

        func none(_ command: SMTPCommand) -> Result<SMTPCommand, SMTPParseError> {
            argument.isEmpty ? .success(command) : .failure(.arguments("\(verb) takes no arguments"))
        }

        switch verb {
        case "HELO", "EHLO", "LHLO":
            // RFC 5321 §4.1.1.1: ehlo = "EHLO" SP ( Domain / address-literal ) CRLF
            guard !argument.isEmpty, !argument.contains(" ") || verb == "HELO" else {
                return .failure(.arguments("\(verb) needs a domain"))
            }
            let domain = String(argument.split(separator: " ").first ?? "")
            return .success(.hello(HelloVerb(rawValue: verb)!, domain: domain))
        case "MAIL":
            // mail = "MAIL FROM:" Reverse-path [SP Mail-parameters] CRLF
            return parsePathCommand(rest, prefix: "FROM:", sender: true).flatMap { path, params in
                parseMailParameters(params).map { .mail(from: path, $0) }
            }
        case "RCPT":
            // rcpt = "RCPT TO:" ( "<Postmaster@" Domain ">" / "<Postmaster>" / Forward-path )
            //        [SP Rcpt-parameters] CRLF
            return parsePathCommand(rest, prefix: "TO:", sender: false).flatMap { path, params in
                if let first = params.first { return .failure(.parameter(parameterName(first))) }
                guard !path.isEmpty else { return .failure(.address("Empty recipient", sender: false)) }
                return .success(.rcpt(to: path))
            }
        case "DATA": return none(.data)
        case "BDAT":
            // bdat-cmd = "BDAT" SP chunk-size [ SP end-marker ] CRLF (RFC 3030 §2)
            let parts = argument.split(separator: " ")
            guard (1...2).contains(parts.count), let size = number(parts[0]) else {
                return .failure(.arguments("BDAT needs a chunk size"))
            }
            if parts.count == 2 && parts[1].uppercased() != "LAST" { return .failure(.arguments("BDAT takes only LAST")) }
            return .success(.bdat(size: size, last: parts.count == 2))
        case "RSET": return none(.rset)
        // RFC 5321 §4.1.1.9: NOOP may carry a string, which is ignored.
        case "NOOP": return .success(.noop)
        case "QUIT": return none(.quit)
        case "HELP": return .success(.help)
        case "VRFY":
            guard !argument.isEmpty else { return .failure(.arguments("VRFY needs an argument")) }
            return .success(.vrfy(argument))
        case "STARTTLS": return none(.startTLS)
        default:
            return .failure(.unrecognized)
        }
    }

    /// `FROM:<path> params` or `TO:<path> params`: the path (without angle brackets or a
    /// source route) and the parameter words. A space after the colon is tolerated.
    static func parsePathCommand(_ rest: String, prefix: String, sender: Bool)
        -> Result<(String, [Substring]), SMTPParseError> {
        guard rest.uppercased().hasPrefix(prefix) else {
            return .failure(.arguments("Syntax: \(sender ? "MAIL FROM:<address>" : "RCPT TO:<address>")"))
        }
        let afterColon = rest.dropFirst(prefix.count).drop { $0 == " " }
        guard afterColon.first == "<" else { return .failure(.address("Address must be in angle brackets", sender: sender)) }
        // Path = "<" [ A-d-l ":" ] Mailbox ">"; the ">" may sit inside a quoted local part.
        var inQuote = false, escaped = false
        var close: Substring.Index?
        for i in afterColon.indices.dropFirst() {
            let c = afterColon[i]
            if escaped { escaped = false; continue }
            if c == "\\" && inQuote { escaped = true } else if c == "\"" { inQuote.toggle() } else if c == ">" && !inQuote {
                close = i
                break
            }
        }
        guard let close else { return .failure(.address("Unterminated address", sender: sender)) }
        var path = afterColon[afterColon.index(after: afterColon.startIndex)..<close]
        // A-d-l (a source route) is accepted and ignored (RFC 5321 §4.1.1.3, Appendix C).
        if path.first == "@", let colon = path.firstIndex(of: ":") { path = path[path.index(after: colon)...] }
        guard path.unicodeScalars.allSatisfy({ $0.value > 32 && $0.value != 127 } ) || path.first == "\"" else {
            return .failure(.address("Invalid address", sender: sender))
        }
        if !path.isEmpty {
            // Mailbox = Local-part "@" ( Domain / address-literal ); RCPT may name Postmaster alone.
            let at = path.lastIndex(of: "@")
            if let at {
                guard at != path.startIndex, path.index(after: at) != path.endIndex else {
                    return .failure(.address("Invalid address", sender: sender))
                }
            } else if sender {
                return .failure(.address("Sender address needs a domain", sender: sender))
            }
        }
        let params = afterColon[afterColon.index(after: close)...].split(separator: " ")
        return .success((String(path), params))
    }

    /// Mail-parameters = esmtp-param *(SP esmtp-param); esmtp-param = esmtp-keyword ["=" esmtp-value]
    static func parseMailParameters(_ words: [Substring]) -> Result<MailParameters, SMTPParseError> {
        var result = MailParameters()
        for word in words {
            let name = parameterName(word).uppercased()
            let value = word.firstIndex(of: "=").map { word[word.index(after: $0)...] }
            switch name {
            case "SIZE":
                // size-value = 1*20DIGIT (RFC 1870 §3)
                guard let value, !value.isEmpty, value.count <= 20, value.allSatisfy(\.isASCIIDigit) else {
                    return .failure(.arguments("SIZE needs a number"))
                }
                result.size = number(value) ?? Int.max
            case "BODY":
                guard let value, let body = BodyType(rawValue: value.uppercased()) else {
                    return .failure(.arguments("BODY is 7BIT, 8BITMIME or BINARYMIME"))
                }
                result.body = body
            case "SMTPUTF8":
                guard value == nil else { return .failure(.arguments("SMTPUTF8 takes no value")) }
                result.smtpUTF8 = true
            default:
                return .failure(.parameter(name))
            }
        }
        return .success(result)
    }

    static func parameterName(_ word: Substring) -> String { String(word.prefix { $0 != "=" }) }

    /// A decimal number of at most `maxDigits` digits.
    static func number(_ s: Substring) -> Int? {
        guard !s.isEmpty, s.count <= maxDigits, s.allSatisfy(\.isASCIIDigit) else { return nil }
        return Int(s)
    }

    static func isBlank(_ c: UInt8) -> Bool { c == UInt8(ascii: " ") || c == UInt8(ascii: "\t") }

    static func isAlpha(_ c: UInt8) -> Bool { (0x41...0x5A).contains(c) || (0x61...0x7A).contains(c) }
}

extension Character {
    var isASCIIDigit: Bool { ("0"..."9").contains(self) }
}
