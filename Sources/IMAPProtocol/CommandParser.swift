/// A command the parser refused: the server answers `tag BAD message`, or an untagged
/// `* BAD message` when the tag could not be read. RFC 9051 §7.1.3.
public struct ParseError: Error, Sendable, Equatable {
    /// The command's tag, when it could be read.
    public var tag: String?
    /// A short human-readable reason, such as "Unknown command FOO".
    public var message: String

    public init(tag: String?, message: String) {
        self.tag = tag
        self.message = message
    }
}

/// Parses one complete client command into a `TaggedCommand`. RFC 9051 §9, plus the RFC 3501
/// forms IMAP4rev1 clients send and the extensions listed in `Command`.
///
/// The input is the command exactly as sent, without its final CRLF, with its literals inline
/// (`{3}\r\nabc`), as `CommandAssembler` builds it:
///
///     C: a1 LOGIN {3}\r\nbob "secret"   →  TaggedCommand(tag: "a1", command: .login(user: "bob", password: "secret"))
///
/// The parser is pure, takes hostile input, never traps, and does work linear in the input:
/// every loop consumes bytes, and recursion is bounded by `IMAPLimits.maxNestingDepth`.
public enum CommandParser {
    /// Parses `command`; a failure carries the tag when it could be read.
    public static func parse(_ command: [UInt8]) -> Result<TaggedCommand, ParseError> {
        command.withUnsafeBufferPointer { buf in
            var reader = Reader(buf)
            let tag: String
            do throws(ParseError) {
                tag = try reader.tag()
                // A tag runs up to the space; anything else there makes it unreadable.
                if let b = reader.peek, b != Char.space { throw reader.error("Invalid tag") }
            } catch {
                return .failure(error)
            }
            do throws(ParseError) {
                try reader.sp()
                let command = try reader.command()
                guard reader.isAtEnd else { throw reader.error("Unexpected characters at end of command") }
                return .success(TaggedCommand(tag: tag, command: command))
            } catch {
                return .failure(ParseError(tag: tag, message: error.message))
            }
        }
    }
}

extension CommandParser {
    /// A cursor over the command bytes. Each grammar rule is one mutating method that consumes
    /// its bytes or throws; callers that need to try an alternative save and restore `pos`.
    struct Reader {
        typealias Char = CommandParser.Char
        let buf: UnsafeBufferPointer<UInt8>
        var pos = 0
        /// Open parentheses (and SEARCH NOT/OR operators) around the current position.
        var depth = 0
        /// SEARCH operators and parentheses around the current position.
        var searchDepth = 0

        init(_ buf: UnsafeBufferPointer<UInt8>) {
            self.buf = buf
        }

        var isAtEnd: Bool { pos >= buf.count }

        /// The current byte, or nil at the end.
        var peek: UInt8? { pos < buf.count ? buf[pos] : nil }

        func error(_ message: String) -> ParseError {
            ParseError(tag: nil, message: message)
        }

        /// Consumes `byte` if it is next.
        mutating func skip(_ byte: UInt8) -> Bool {
            guard pos < buf.count, buf[pos] == byte else { return false }
            pos += 1
            return true
        }

        mutating func expect(_ byte: UInt8, _ message: @autoclosure () -> String) throws(ParseError) {
            guard skip(byte) else { throw error(message()) }
        }

        /// SP: exactly one space.
        mutating func sp() throws(ParseError) {
            guard skip(Char.space) else {
                throw error(isAtEnd ? "Missing argument" : "Expected a space")
            }
        }

        /// Enters a parenthesized level, enforcing `IMAPLimits.maxNestingDepth`.
        mutating func open() throws(ParseError) {
            try expect(Char.openParen, "Expected (")
            try enter()
        }

        mutating func close() throws(ParseError) {
            try expect(Char.closeParen, "Expected )")
            depth -= 1
        }

        mutating func enter() throws(ParseError) {
            depth += 1
            guard depth <= IMAPLimits.maxNestingDepth else { throw error("Nesting too deep") }
        }

        /// Parses a space-separated list in parentheses: `"(" [item *(SP item)] ")"`.
        mutating func list<T>(allowEmpty: Bool, _ item: (inout Reader) throws(ParseError) -> T) throws(ParseError) -> [T] {
            try open()
            var items: [T] = []
            if skip(Char.closeParen) {
                depth -= 1
                guard allowEmpty else { throw error("Empty list") }
                return items
            }
            repeat {
                items.append(try item(&self))
            } while skip(Char.space)
            try close()
            return items
        }

        // MARK: Words

        /// A keyword or attribute name: letters, digits, "." and "-", upper-cased.
        /// Returns "" when none is next. Long runs are cut off (no keyword is that long).
        mutating func word() -> String {
            let start = pos
            while pos < buf.count, Self.isWordChar(buf[pos]) { pos += 1 }
            return Self.uppercased(buf[start..<min(pos, start + 40)])
        }

        /// Consumes `keyword` (upper-case ASCII) when it is next, compared without case, and
        /// not followed by more word characters.
        mutating func keyword(_ keyword: String) -> Bool {
            let save = pos
            if word() == keyword { return true }
            pos = save
            return false
        }

        /// ASCII upper-casing of a short run of bytes.
        static func uppercased(_ bytes: some Collection<UInt8>) -> String {
            String(decoding: bytes.map { $0 >= 0x61 && $0 <= 0x7A ? $0 - 0x20 : $0 }, as: UTF8.self)
        }

        static func isWordChar(_ b: UInt8) -> Bool {
            (b >= 0x41 && b <= 0x5A) || (b >= 0x61 && b <= 0x7A) || (b >= 0x30 && b <= 0x39) || b == 0x2E || b == 0x2D
        }

        // MARK: Character classes (RFC 9051 §9)

        // atom-specials = "(" / ")" / "{" / SP / CTL / list-wildcards / quoted-specials / resp-specials
        // ATOM-CHAR     = <any CHAR except atom-specials>
        static func isAtomChar(_ b: UInt8) -> Bool {
            guard b > 0x20, b < 0x7F else { return false }
            switch b {
            case 0x28, 0x29, 0x7B, 0x25, 0x2A, 0x22, 0x5C, 0x5D: return false  // ( ) { % * " \ ]
            default: return true
            }
        }

        // ASTRING-CHAR = ATOM-CHAR / resp-specials
        static func isAstringChar(_ b: UInt8) -> Bool { isAtomChar(b) || b == 0x5D }

        // list-char = ATOM-CHAR / list-wildcards / resp-specials
        static func isListChar(_ b: UInt8) -> Bool { isAstringChar(b) || b == 0x25 || b == 0x2A }

        // MARK: Tag and atoms

        // tag = 1*<any ASTRING-CHAR except "+">
        mutating func tag() throws(ParseError) -> String {
            let start = pos
            while pos < buf.count, Self.isAstringChar(buf[pos]), buf[pos] != 0x2B { pos += 1 }
            guard pos > start, pos - start <= 256 else { throw error(pos == start ? "Missing or invalid tag" : "Tag too long") }
            return String(decoding: buf[start..<pos], as: UTF8.self)
        }

        /// Consumes a run of bytes matching `test`; returns its range (possibly empty).
        mutating func run(_ test: (UInt8) -> Bool) -> Range<Int> {
            let start = pos
            while pos < buf.count, test(buf[pos]) { pos += 1 }
            return start..<pos
        }

        // atom = 1*ATOM-CHAR
        mutating func atom(_ what: String = "atom") throws(ParseError) -> String {
            let r = run(Self.isAtomChar)
            guard !r.isEmpty else { throw error(isAtEnd ? "Missing \(what)" : "Invalid \(what)") }
            return String(decoding: buf[r], as: UTF8.self)
        }

        // MARK: Numbers

        /// 1*DIGIT no larger than `max`.
        mutating func digits(max: UInt64) throws(ParseError) -> UInt64 {
            let start = pos
            var value: UInt64 = 0
            var overflow = false
            while pos < buf.count, buf[pos] >= 0x30, buf[pos] <= 0x39 {
                if !overflow {
                    let (m, o1) = value.multipliedReportingOverflow(by: 10)
                    let (a, o2) = m.addingReportingOverflow(UInt64(buf[pos] - 0x30))
                    if o1 || o2 || a > max { overflow = true } else { value = a }
                }
                pos += 1
            }
            guard pos > start else { throw error(isAtEnd ? "Missing number" : "Expected a number") }
            guard !overflow else { throw error("Number too large") }
            return value
        }

        // number = 1*DIGIT   ; unsigned 32-bit
        mutating func number() throws(ParseError) -> UInt32 {
            UInt32(try digits(max: UInt64(UInt32.max)))
        }

        // nz-number = digit-nz *DIGIT   ; non-zero unsigned 32-bit
        mutating func nzNumber() throws(ParseError) -> UInt32 {
            let n = try number()
            guard n > 0 else { throw error("Number must not be zero") }
            return n
        }

        // number64 = 1*DIGIT   ; unsigned 63-bit
        mutating func number64() throws(ParseError) -> UInt64 {
            try digits(max: UInt64(Int64.max))
        }

        // nz-number64 = digit-nz *DIGIT
        mutating func nzNumber64() throws(ParseError) -> UInt64 {
            let n = try number64()
            guard n > 0 else { throw error("Number must not be zero") }
            return n
        }

        // mod-sequence-value = 1*DIGIT   ; RFC 7162 §7: positive unsigned 63-bit
        // mod-sequence-valzer = "0" / mod-sequence-value
        mutating func modSequenceValzer() throws(ParseError) -> UInt64 {
            try number64()
        }

        mutating func modSequenceValue() throws(ParseError) -> UInt64 {
            try nzNumber64()
        }

        // MARK: Strings

        // string = quoted / literal
        /// The bytes of a quoted string or literal, or nil when neither is next.
        mutating func stringBytes() throws(ParseError) -> [UInt8]? {
            switch peek {
            case Char.quote?: return try quoted()
            case Char.openBrace?: return try literal()
            case Char.tilde? where pos + 1 < buf.count && buf[pos + 1] == Char.openBrace:
                throw error("literal8 is only allowed in APPEND")
            default: return nil
            }
        }

        // quoted      = DQUOTE *QUOTED-CHAR DQUOTE
        // QUOTED-CHAR = <any TEXT-CHAR except quoted-specials> / "\" quoted-specials / UTF8-2 / UTF8-3 / UTF8-4
        mutating func quoted() throws(ParseError) -> [UInt8] {
            try expect(Char.quote, "Expected \"")
            var out = [UInt8]()
            while pos < buf.count {
                let b = buf[pos]
                pos += 1
                switch b {
                case Char.quote:
                    return out
                case Char.backslash:
                    guard pos < buf.count, buf[pos] == Char.quote || buf[pos] == Char.backslash else {
                        throw error("Invalid escape in quoted string")
                    }
                    out.append(buf[pos])
                    pos += 1
                case 0, Char.cr, Char.lf:
                    throw error("Invalid character in quoted string")
                default:
                    out.append(b)
                }
            }
            throw error("Unterminated quoted string")
        }

        /// The `{N}`, `{N+}` or `~{N}` prefix and its CRLF; returns N and whether it was literal8.
        // literal  = "{" number64 ["+"] "}" CRLF *CHAR8
        // literal8 = "~{" number64 ["+"] "}" CRLF *OCTET      ; RFC 3516, RFC 7888
        mutating func literalHeader(binaryAllowed: Bool) throws(ParseError) -> (count: Int, binary: Bool) {
            let binary = skip(Char.tilde)
            if binary && !binaryAllowed { throw error("literal8 is only allowed in APPEND") }
            try expect(Char.openBrace, "Expected {")
            let n = try number64()
            _ = skip(Char.plus)
            try expect(Char.closeBrace, "Invalid literal")
            guard skip(Char.cr), skip(Char.lf) else { throw error("Literal must be followed by CRLF") }
            guard n <= UInt64(buf.count - pos) else { throw error("Literal is shorter than announced") }
            return (Int(n), binary)
        }

        mutating func literal() throws(ParseError) -> [UInt8] {
            let (count, _) = try literalHeader(binaryAllowed: false)
            let r = pos..<(pos + count)
            pos += count
            // CHAR8 = %x01-ff
            guard !buf[r].contains(0) else { throw error("NUL in literal") }
            return Array(buf[r])
        }

        // astring = 1*ASTRING-CHAR / string
        mutating func astringBytes(_ what: String) throws(ParseError) -> [UInt8] {
            if let s = try stringBytes() { return s }
            let r = run(Self.isAstringChar)
            guard !r.isEmpty else { throw error(isAtEnd ? "Missing \(what)" : "Invalid \(what)") }
            return Array(buf[r])
        }

        mutating func astring(_ what: String) throws(ParseError) -> String {
            try utf8(try astringBytes(what))
        }

        /// `bytes` as a String; they must be valid UTF-8 (RFC 9051 §9 utf8-quoted, RFC 6855).
        func utf8(_ bytes: [UInt8]) throws(ParseError) -> String {
            let s = String(decoding: bytes, as: UTF8.self)
            if bytes.contains(where: { $0 >= 0x80 }), !s.utf8.elementsEqual(bytes) {
                throw error("Invalid UTF-8")
            }
            return s
        }

        // nstring = string / nil
        mutating func nstring() throws(ParseError) -> String? {
            if let s = try stringBytes() { return try utf8(s) }
            guard keyword("NIL") else { throw error("Expected a string or NIL") }
            return nil
        }

        // mailbox = "INBOX" / astring   ; kept as sent, the session normalizes INBOX
        mutating func mailbox() throws(ParseError) -> String {
            try astring("mailbox name")
        }

        // list-mailbox = 1*list-char / string
        mutating func listMailbox() throws(ParseError) -> String {
            if let s = try stringBytes() { return try utf8(s) }
            let r = run(Self.isListChar)
            guard !r.isEmpty else { throw error(isAtEnd ? "Missing mailbox pattern" : "Invalid mailbox pattern") }
            return String(decoding: buf[r], as: UTF8.self)
        }

        // MARK: Flags

        // flag = "\Answered" / "\Flagged" / "\Deleted" / "\Seen" / "\Draft" / flag-keyword / flag-extension
        // flag-extension = "\" atom ; flag-keyword = "$MDNSent" / "$Forwarded" / ... / atom
        /// A flag as sent.
        mutating func flag() throws(ParseError) -> String {
            let start = pos
            _ = skip(Char.backslash)
            let r = run(Self.isAtomChar)
            guard !r.isEmpty else { throw error(isAtEnd ? "Missing flag" : "Invalid flag") }
            return String(decoding: buf[start..<pos], as: UTF8.self)
        }

        // flag-list = "(" [flag *(SP flag)] ")"
        mutating func flagList() throws(ParseError) -> [String] {
            try list(allowEmpty: true) { (r: inout Reader) throws(ParseError) in try r.flag() }
        }

        // MARK: Sequence sets

        // sequence-set = (seq-number / seq-range) ["," sequence-set]
        // sequence-set =/ seq-last-command   ; "$", RFC 5182
        // seq-range    = seq-number ":" seq-number
        mutating func sequenceSet() throws(ParseError) -> SequenceSet {
            if skip(Char.dollar) { return .savedResult }
            guard let p = peek, p == Char.star || (p >= 0x30 && p <= 0x39) else {
                throw error(isAtEnd ? "Missing sequence set" : "Invalid sequence set")
            }
            var ranges: [SequenceRange] = []
            repeat {
                guard ranges.count < IMAPLimits.maxSequenceRanges else { throw error("Too many ranges in sequence set") }
                let first = try seqNumber()
                let last = skip(Char.colon) ? try seqNumber() : first
                ranges.append(SequenceRange(first, last))
            } while skip(Char.comma)
            return SequenceSet(ranges)
        }

        // seq-number = nz-number / "*"
        mutating func seqNumber() throws(ParseError) -> SequenceNumber {
            if skip(Char.star) { return .last }
            return .number(try nzNumber())
        }

        /// Whether a sequence set starts here (used by SEARCH to tell a set from a key).
        var atSequenceSet: Bool {
            guard let p = peek else { return false }
            return p == Char.star || p == Char.dollar || (p >= 0x30 && p <= 0x39)
        }

        // MARK: Dates

            static let months = ["JAN", "FEB", "MAR", "APR", "MAY", "JUN", "JUL", "AUG", "SEP", "OCT", "NOV", "DEC"]

        // date-month = "Jan" / "Feb" / ... / "Dec"
        mutating func month() throws(ParseError) -> Int {
            let r = run { ($0 >= 0x41 && $0 <= 0x5A) || ($0 >= 0x61 && $0 <= 0x7A) }
            let name = String(decoding: buf[r].map { $0 & ~0x20 }, as: UTF8.self)
            guard let i = Self.months.firstIndex(of: name) else { throw error("Invalid month") }
            return i + 1
        }

        /// Exactly `count` digits.
        mutating func fixedDigits(_ count: Int) throws(ParseError) -> Int {
            var v = 0
            for _ in 0..<count {
                guard let b = peek, b >= 0x30, b <= 0x39 else { throw error("Invalid date") }
                v = v * 10 + Int(b - 0x30)
                pos += 1
            }
            return v
        }

        /// One or two digits.
        mutating func dayDigits() throws(ParseError) -> Int {
            let d = try fixedDigits(1)
            if let b = peek, b >= 0x30, b <= 0x39 { return d * 10 + (try fixedDigits(1)) }
            return d
        }

        // date      = date-text / DQUOTE date-text DQUOTE
        // date-text = date-day "-" date-month "-" date-year
        mutating func date() throws(ParseError) -> IMAPDate {
            let isQuoted = skip(Char.quote)
            let day = try dayDigits()
            try expect(Char.dash, "Invalid date")
            let month = try month()
            try expect(Char.dash, "Invalid date")
            let year = try fixedDigits(4)
            if isQuoted { try expect(Char.quote, "Invalid date") }
            guard day >= 1, day <= 31 else { throw error("Invalid date") }
            return IMAPDate(year: year, month: month, day: day)
        }

        // date-time      = DQUOTE date-day-fixed "-" date-month "-" date-year SP time SP zone DQUOTE
        // date-day-fixed = (SP DIGIT) / 2DIGIT
        // time           = 2DIGIT ":" 2DIGIT ":" 2DIGIT
        // zone           = ("+" / "-") 4DIGIT
        /// Also takes a one-digit day without the leading space, as some clients send.
        mutating func dateTime() throws(ParseError) -> IMAPDateTime {
            try expect(Char.quote, "Expected date-time")
            _ = skip(Char.space)
            let day = try dayDigits()
            try expect(Char.dash, "Invalid date-time")
            let month = try month()
            try expect(Char.dash, "Invalid date-time")
            let year = try fixedDigits(4)
            try expect(Char.space, "Invalid date-time")
            let hour = try fixedDigits(2)
            try expect(Char.colon, "Invalid date-time")
            let minute = try fixedDigits(2)
            try expect(Char.colon, "Invalid date-time")
            let second = try fixedDigits(2)
            try expect(Char.space, "Invalid date-time")
            let sign: Int
            if skip(Char.plus) { sign = 1 } else if skip(Char.dash) { sign = -1 } else { throw error("Invalid time zone") }
            let zh = try fixedDigits(2), zm = try fixedDigits(2)
            try expect(Char.quote, "Invalid date-time")
            guard day >= 1, day <= 31, hour <= 23, minute <= 59, second <= 60, zh <= 23, zm <= 59 else {
                throw error("Invalid date-time")
            }
            return IMAPDateTime(year: year, month: month, day: day, hour: hour, minute: minute, second: second,
                                zoneMinutes: sign * (zh * 60 + zm))
        }
    }
}

extension CommandParser {
    /// The ASCII bytes the grammar names.
    enum Char {
        static let space: UInt8 = 0x20
        static let cr: UInt8 = 0x0D
        static let lf: UInt8 = 0x0A
        static let quote: UInt8 = 0x22
        static let backslash: UInt8 = 0x5C
        static let openParen: UInt8 = 0x28
        static let closeParen: UInt8 = 0x29
        static let openBrace: UInt8 = 0x7B
        static let closeBrace: UInt8 = 0x7D
        static let openBracket: UInt8 = 0x5B
        static let closeBracket: UInt8 = 0x5D
        static let lessThan: UInt8 = 0x3C
        static let greaterThan: UInt8 = 0x3E
        static let tilde: UInt8 = 0x7E
        static let plus: UInt8 = 0x2B
        static let dash: UInt8 = 0x2D
        static let dot: UInt8 = 0x2E
        static let colon: UInt8 = 0x3A
        static let comma: UInt8 = 0x2C
        static let star: UInt8 = 0x2A
        static let dollar: UInt8 = 0x24
        static let equals: UInt8 = 0x3D
    }
}
