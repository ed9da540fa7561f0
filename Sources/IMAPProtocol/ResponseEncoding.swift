import MailMessage
import NIOCore

/// Choices and constants of the response string forms, RFC 9051 §4.3.
///
/// Every string a response carries is written in the cheapest form that is legal for it: an atom
/// where the grammar allows `astring`, a quoted string when the text fits one, and a literal
/// otherwise. One pass over the bytes, through a 256-entry table, decides.
enum ResponseEncoding {
    /// Longest text sent as a quoted string; longer text goes in a literal. RFC 9051 sets no limit,
    /// but clients read responses line by line, and a literal spares them from parsing a long line.
    /// 1000 octets covers every RFC 5322 header line (§2.1.1: at most 998).
    static let maxQuotedLength = 1000

    /// What one pass over the bytes of a string found.
    struct Traits: OptionSet {
        let rawValue: UInt8
        /// A byte that is not ASTRING-CHAR, so the text cannot be an atom.
        static let notAtom = Traits(rawValue: 1)
        /// NUL, CR or LF: not TEXT-CHAR, so only a literal can carry it.
        static let needsLiteral = Traits(rawValue: 2)
        /// `"` or `\`: quoted-specials, escaped in a quoted string.
        static let needsEscape = Traits(rawValue: 4)
        /// A byte of 0x80 or above.
        static let eightBit = Traits(rawValue: 8)
    }

    // RFC 9051 §9: ASTRING-CHAR  = ATOM-CHAR / resp-specials
    //              ATOM-CHAR     = <any CHAR except atom-specials>
    //              atom-specials = "(" / ")" / "{" / SP / CTL / list-wildcards / quoted-specials / resp-specials
    //              TEXT-CHAR     = <any CHAR except CR and LF>;  QUOTED-CHAR excludes NUL too (CHAR is %x01-7F)
    /// The traits of each byte value.
    static let byteTraits: [UInt8] = (0...255).map { (b: Int) -> UInt8 in
        var t: Traits = []
        switch b {
        case 0, 10, 13: t = [.notAtom, .needsLiteral]
        case 0x01...0x1F, 0x7F, 0x20: t = .notAtom
        case 0x22, 0x5C: t = [.notAtom, .needsEscape]  // " \
        case 0x28, 0x29, 0x7B, 0x25, 0x2A: t = .notAtom  // ( ) { % *
        case 0x80...0xFF: t = [.notAtom, .eightBit]
        default: t = []
        }
        return t.rawValue
    }

    /// The combined traits of all bytes.
    @inline(__always)
    static func traits(_ bytes: UnsafeRawBufferPointer) -> Traits {
        var all: UInt8 = 0
        byteTraits.withUnsafeBufferPointer { table in
            for b in bytes { all |= table[Int(b)] }
        }
        return Traits(rawValue: all)
    }

    /// Whether `bytes` is well-formed UTF-8 (needed before 8-bit text goes in a quoted string).
    static func isValidUTF8(_ bytes: UnsafeRawBufferPointer) -> Bool {
        var iterator = bytes.makeIterator()
        var decoder = UTF8()
        while true {
            switch decoder.decode(&iterator) {
            case .scalarValue: continue
            case .emptyInput: return true
            case .error: return false
            }
        }
    }

    /// Whether text with `traits` fits in a quoted string. RFC 9051 §4.3: quoted strings hold
    /// 7-bit text, and UTF-8 only once the client can take it (IMAP4rev2, or UTF8=ACCEPT per
    /// RFC 6855 §3).
    @inline(__always)
    static func isQuotable(_ bytes: UnsafeRawBufferPointer, _ traits: Traits, utf8: Bool, knownValidUTF8: Bool) -> Bool {
        if traits.contains(.needsLiteral) || bytes.count > maxQuotedLength { return false }
        if traits.contains(.eightBit) { return utf8 && (knownValidUTF8 || isValidUTF8(bytes)) }
        return true
    }

    /// Whether a string with these bytes and `traits` is the atom NIL, which `astring` must quote.
    @inline(__always)
    static func isNIL(_ bytes: UnsafeRawBufferPointer) -> Bool {
        bytes.count == 3 && bytes[0] | 0x20 == UInt8(ascii: "n") && bytes[1] | 0x20 == UInt8(ascii: "i")
            && bytes[2] | 0x20 == UInt8(ascii: "l")
    }
}

/// Runs `body` on the UTF-8 bytes of `s`, without copying a native string.
@inline(__always)
func withUTF8Bytes<R>(_ s: String, _ body: (UnsafeRawBufferPointer) -> R) -> R {
    if let r = s.utf8.withContiguousStorageIfAvailable({ body(UnsafeRawBufferPointer($0)) }) { return r }
    return Array(s.utf8).withUnsafeBytes(body)
}

/// Runs `body` on the bytes of `bytes`, without copying contiguous storage.
@inline(__always)
func withBytes<R>(_ bytes: some Collection<UInt8>, _ body: (UnsafeRawBufferPointer) -> R) -> R {
    if let r = bytes.withContiguousStorageIfAvailable({ body(UnsafeRawBufferPointer($0)) }) { return r }
    return Array(bytes).withUnsafeBytes(body)
}

extension ByteBuffer {
    // MARK: Strings

    // RFC 9051 §9: string = quoted / literal
    /// Writes `s` as a quoted string when it fits one, else as a literal.
    ///
    ///     "Hello \"you\""        {12}\r\nline1\r\nline2
    ///
    /// `utf8` says whether the client takes UTF-8 in quoted strings (IMAP4rev2, or UTF8=ACCEPT
    /// enabled); without it, 8-bit text goes in a literal. Returns the number of bytes written.
    @discardableResult
    public mutating func writeIMAPString(_ s: String, utf8: Bool) -> Int {
        withUTF8Bytes(s) { writeIMAPString(raw: $0, utf8: utf8, knownValidUTF8: true, atomAllowed: false) }
    }

    /// Writes raw bytes (a header value as stored) as a quoted string or a literal; see
    /// `writeIMAPString(_:utf8:)`. 8-bit bytes that are not valid UTF-8 always go in a literal.
    @discardableResult
    public mutating func writeIMAPString(_ bytes: some Collection<UInt8>, utf8: Bool) -> Int {
        withBytes(bytes) { writeIMAPString(raw: $0, utf8: utf8, knownValidUTF8: false, atomAllowed: false) }
    }

    // RFC 9051 §9: nstring = string / nil
    /// Writes `s` as a string, or NIL when it is nil.
    ///
    ///     S: * 1 FETCH (ENVELOPE ("Wed, 17 Jul 1996 02:23:25 -0700 (PDT)" NIL ...
    @discardableResult
    public mutating func writeNString(_ s: String?, utf8: Bool) -> Int {
        guard let s else { return writeStaticString("NIL") }
        return writeIMAPString(s, utf8: utf8)
    }

    // RFC 9051 §9: astring = 1*ASTRING-CHAR / string
    /// Writes `s` as an atom when every byte is ASTRING-CHAR and it is not "NIL" (which a client
    /// could read as nil), else as a string.
    @discardableResult
    public mutating func writeAString(_ s: String, utf8: Bool) -> Int {
        withUTF8Bytes(s) { writeIMAPString(raw: $0, utf8: utf8, knownValidUTF8: true, atomAllowed: true) }
    }

    // RFC 9051 §9: quoted = DQUOTE *QUOTED-CHAR DQUOTE
    //              QUOTED-CHAR = <any TEXT-CHAR except quoted-specials> / "\" quoted-specials / UTF8-2 / UTF8-3 / UTF8-4
    /// Writes `s` as a quoted string whatever its length, escaping `"` and `\`.
    ///
    /// For text the server chooses (a hierarchy delimiter, a response code argument). A quoted
    /// string cannot hold NUL, CR or LF; each is written as a space.
    @discardableResult
    public mutating func writeIMAPQuoted(_ s: String) -> Int {
        withUTF8Bytes(s) { bytes in
            let traits = ResponseEncoding.traits(bytes)
            if traits.contains(.needsLiteral) {
                let start = writerIndex
                writeInteger(UInt8(ascii: "\""))
                for b in bytes {
                    switch b {
                    case 0, 10, 13: writeInteger(UInt8(ascii: " "))
                    case UInt8(ascii: "\""), UInt8(ascii: "\\"):
                        writeInteger(UInt8(ascii: "\\"))
                        writeInteger(b)
                    default: writeInteger(b)
                    }
                }
                writeInteger(UInt8(ascii: "\""))
                return writerIndex - start
            }
            return writeQuoted(raw: bytes, escape: traits.contains(.needsEscape))
        }
    }

    // RFC 9051 §9: literal = "{" number64 ["+"] "}" CRLF *CHAR8
    /// Writes `bytes` as a literal: `{n}` CRLF and the bytes.
    @discardableResult
    public mutating func writeIMAPLiteral(_ bytes: some Collection<UInt8>) -> Int {
        withBytes(bytes) { raw in
            writeLiteralHeader(count: raw.count, binary: false) + writeBytes(raw)
        }
    }

    // RFC 3516 §4.2 / RFC 9051 §9: literal8 = "~{" number64 "}" CRLF *OCTET
    /// Writes `bytes` as a literal8: `~{n}` CRLF and the bytes, which may include NUL.
    @discardableResult
    public mutating func writeIMAPLiteral8(_ bytes: some Collection<UInt8>) -> Int {
        withBytes(bytes) { raw in
            writeLiteralHeader(count: raw.count, binary: true) + writeBytes(raw)
        }
    }

    /// Writes the start of a literal of `count` bytes, `{n}` CRLF or, when `binary`, `~{n}` CRLF,
    /// for a caller that sends the content itself (a message body from the store, unbuffered).
    @discardableResult
    public mutating func writeLiteralHeader(count: Int, binary: Bool) -> Int {
        var n = binary ? writeStaticString("~{") : writeStaticString("{")
        n += writeDecimal(count)
        n += writeStaticString("}\r\n")
        return n
    }

    /// Writes decoded BINARY[section] content: a literal8 when it holds NUL, else a string.
    ///
    ///     S: * 1 FETCH (BINARY[2] ~{5}\r\nab\0cd)
    ///
    /// RFC 3516 §4.2: literal8 only when needed, since only a client that asked for BINARY reads it.
    @discardableResult
    public mutating func writeBinaryContent(_ bytes: some Collection<UInt8>) -> Int {
        withBytes(bytes) { raw in
            if raw.contains(0) { return writeLiteralHeader(count: raw.count, binary: true) + writeBytes(raw) }
            return writeIMAPString(raw: raw, utf8: false, knownValidUTF8: false, atomAllowed: false)
        }
    }

    /// The one writer behind the string forms: atom, quoted or literal, as `raw` allows.
    mutating func writeIMAPString(raw: UnsafeRawBufferPointer, utf8: Bool, knownValidUTF8: Bool, atomAllowed: Bool) -> Int {
        let traits = ResponseEncoding.traits(raw)
        if atomAllowed, !traits.contains(.notAtom), raw.count > 0, raw.count <= ResponseEncoding.maxQuotedLength,
            !ResponseEncoding.isNIL(raw)
        {
            return writeBytes(raw)
        }
        if ResponseEncoding.isQuotable(raw, traits, utf8: utf8, knownValidUTF8: knownValidUTF8) {
            return writeQuoted(raw: raw, escape: traits.contains(.needsEscape))
        }
        return writeLiteralHeader(count: raw.count, binary: false) + writeBytes(raw)
    }

    /// Writes `raw` in double quotes, escaping `"` and `\` when `escape` says there are some.
    mutating func writeQuoted(raw: UnsafeRawBufferPointer, escape: Bool) -> Int {
        let start = writerIndex
        writeInteger(UInt8(ascii: "\""))
        if escape {
            var runStart = 0
            for (i, b) in raw.enumerated() where b == UInt8(ascii: "\"") || b == UInt8(ascii: "\\") {
                writeBytes(UnsafeRawBufferPointer(rebasing: raw[runStart..<i]))
                writeInteger(UInt8(ascii: "\\"))
                runStart = i
            }
            writeBytes(UnsafeRawBufferPointer(rebasing: raw[runStart...]))
        } else {
            writeBytes(raw)
        }
        writeInteger(UInt8(ascii: "\""))
        return writerIndex - start
    }

    // MARK: Mailbox names

    // RFC 9051 §9: mailbox = "INBOX" / astring
    /// Writes a mailbox name: as UTF-8 when the client enabled it (RFC 9051 §6.3.1, RFC 6855 §3),
    /// else in modified UTF-7 (RFC 3501 §5.1.3); an atom when it can be, else a string.
    ///
    ///     S: * LIST () "/" "~peter/mail/&U,BTFw-/&ZeVnLIqe-"
    @discardableResult
    public mutating func writeMailboxName(_ name: String, utf8Enabled: Bool) -> Int {
        if utf8Enabled || ModifiedUTF7.isPlainASCII(name) { return writeAString(name, utf8: utf8Enabled) }
        return writeAString(ModifiedUTF7.encode(name), utf8: false)
    }

    // MARK: Numbers and flags

    /// Writes `n` in decimal, with no intermediate String. `n` must fit in 64 bits.
    ///
    ///     S: * 12 FETCH (UID 4827313 RFC822.SIZE 44827)
    @inlinable
    @discardableResult
    public mutating func writeDecimal(_ n: some BinaryInteger) -> Int {
        if n < 0 {
            return writeInteger(UInt8(ascii: "-")) + writeDecimal(unsigned: UInt64(n.magnitude))
        }
        return writeDecimal(unsigned: UInt64(n))
    }

    /// Writes an unsigned number in decimal: digits backwards into the buffer, then reversed.
    @usableFromInline
    mutating func writeDecimal(unsigned n: UInt64) -> Int {
        if n < 10 { return writeInteger(UInt8(truncatingIfNeeded: 48 &+ n)) }
        return writeWithUnsafeMutableBytes(minimumWritableBytes: 20) { raw in
            let p = raw.baseAddress!.assumingMemoryBound(to: UInt8.self)
            var v = n
            var count = 0
            while v > 0 {
                let (q, r) = v.quotientAndRemainder(dividingBy: 10)
                p[count] = UInt8(truncatingIfNeeded: 48 &+ r)
                count += 1
                v = q
            }
            var lo = 0, hi = count - 1
            while lo < hi {
                let t = p[lo]
                p[lo] = p[hi]
                p[hi] = t
                lo += 1
                hi -= 1
            }
            return count
        }
    }

    // RFC 9051 §9: flag-list = "(" [flag *(SP flag)] ")"
    /// Writes a flag list; each flag (`\Seen`, a keyword) is written as given, since flags are atoms.
    ///
    ///     S: * 1 FETCH (FLAGS (\Seen $Forwarded))
    @discardableResult
    public mutating func writeFlags(_ flags: [String]) -> Int {
        var n = writeInteger(UInt8(ascii: "("))
        var first = true
        for flag in flags {
            if !first { n += writeInteger(UInt8(ascii: " ")) }
            first = false
            n += writeString(flag)
        }
        return n + writeInteger(UInt8(ascii: ")"))
    }

    // MARK: Sections

    // RFC 9051 §9: section        = "[" [section-spec] "]"
    //              section-spec   = section-msgtext / (section-part ["." section-text])
    //              header-list    = "(" header-fld-name *(SP header-fld-name) ")"
    /// Writes a section as a FETCH response names it, brackets included.
    ///
    ///     S: * 1 FETCH (BODY[1.2.HEADER.FIELDS (SUBJECT FROM)] {42}
    ///
    /// Header field names are upper-cased, as Dovecot and Cyrus answer them.
    @discardableResult
    public mutating func writeSection(_ section: SectionSpec) -> Int {
        let start = writerIndex
        writeInteger(UInt8(ascii: "["))
        for (i, n) in section.part.enumerated() {
            if i > 0 { writeInteger(UInt8(ascii: ".")) }
            writeDecimal(n)
        }
        if let kind = section.kind {
            if !section.part.isEmpty { writeInteger(UInt8(ascii: ".")) }
            switch kind {
            case .header: writeStaticString("HEADER")
            case .text: writeStaticString("TEXT")
            case .mime: writeStaticString("MIME")
            case .headerFields(let names):
                writeStaticString("HEADER.FIELDS ")
                writeHeaderList(names)
            case .headerFieldsNot(let names):
                writeStaticString("HEADER.FIELDS.NOT ")
                writeHeaderList(names)
            }
        }
        writeInteger(UInt8(ascii: "]"))
        return writerIndex - start
    }

    /// Writes `(NAME NAME …)`, each name upper-cased and as an astring.
    private mutating func writeHeaderList(_ names: [String]) {
        writeInteger(UInt8(ascii: "("))
        for (i, name) in names.enumerated() {
            if i > 0 { writeInteger(UInt8(ascii: " ")) }
            writeAString(name.uppercased(), utf8: false)
        }
        writeInteger(UInt8(ascii: ")"))
    }
}
