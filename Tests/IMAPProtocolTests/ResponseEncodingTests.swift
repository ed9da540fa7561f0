import IMAPProtocol
import MailMessage
import NIOCore
import Testing

@Suite struct ResponseEncodingTests {
    @Test(arguments: [
        ("hello", #""hello""#),
        ("", #""""#),
        ("NIL", #""NIL""#),
        (#"a "b" \c"#, #""a \"b\" \\c""#),
        (#"\"#, #""\\""#),
        ("tab\tok", "\"tab\tok\""),
        ("two\r\nlines", "{10}\r\ntwo\r\nlines"),
        ("bare\nlf", "{7}\r\nbare\nlf"),
        ("nul\0", "{4}\r\nnul\0"),
        ("Grüße", "{7}\r\nGrüße"),
    ])
    func writesStringsForASCIIClients(value: String, expected: String) {
        #expect(rendered { $0.writeIMAPString(value, utf8: false) } == expected)
    }

    @Test func writesUTF8QuotedWhenEnabled() {
        #expect(rendered { $0.writeIMAPString("Grüße \"x\"", utf8: true) } == #""Grüße \"x\"""#)
        #expect(rendered { $0.writeIMAPString("a\r\nb", utf8: true) } == "{4}\r\na\r\nb")
    }

    @Test func writesRawBytes() {
        // Latin-1 bytes are not UTF-8, so even a UTF-8 client gets them in a literal.
        let latin1: [UInt8] = [0x47, 0x72, 0xFC, 0xDF, 0x65]
        #expect(renderedBytes { $0.writeIMAPString(latin1, utf8: true) } == Array("{5}\r\n".utf8) + latin1)
        let utf8 = Array("Grüße".utf8)
        #expect(renderedBytes { $0.writeIMAPString(utf8, utf8: true) } == [0x22] + utf8 + [0x22])
        #expect(renderedBytes { $0.writeIMAPString(utf8[...], utf8: false) } == Array("{7}\r\n".utf8) + utf8)
    }

    @Test func sendsLongTextAsLiteral() {
        let fits = String(repeating: "x", count: 1000)
        let long = String(repeating: "x", count: 1001)
        #expect(rendered { $0.writeIMAPString(fits, utf8: false) } == "\"" + fits + "\"")
        #expect(rendered { $0.writeIMAPString(long, utf8: false) } == "{1001}\r\n" + long)
        #expect(rendered { $0.writeAString(long, utf8: false) } == "{1001}\r\n" + long)
    }

    @Test func writesNString() {
        #expect(rendered { $0.writeNString(nil, utf8: false) } == "NIL")
        #expect(rendered { $0.writeNString("NIL", utf8: false) } == #""NIL""#)
        #expect(rendered { $0.writeNString("", utf8: false) } == #""""#)
    }

    @Test(arguments: [
        ("INBOX", "INBOX"),
        ("a]b", "a]b"),  // resp-specials are ASTRING-CHARs
        ("Sent.2024", "Sent.2024"),
        ("\\Seen", #""\\Seen""#),
        ("NIL", #""NIL""#),
        ("nil", #""nil""#),
        ("NILS", "NILS"),
        ("", #""""#),
        ("a b", #""a b""#),
        ("a%", #""a%""#),
        ("a*", #""a*""#),
        ("(x)", #""(x)""#),
        ("{3}", #""{3}""#),
        ("Grüße", "{7}\r\nGrüße"),
    ])
    func writesAString(value: String, expected: String) {
        #expect(rendered { $0.writeAString(value, utf8: false) } == expected)
    }

    @Test func writesMailboxNames() {
        #expect(rendered { $0.writeMailboxName("INBOX", utf8Enabled: false) } == "INBOX")
        #expect(
            rendered { $0.writeMailboxName("~peter/mail/台北/日本語", utf8Enabled: false) }
                == "~peter/mail/&U,BTFw-/&ZeVnLIqe-")
        #expect(rendered { $0.writeMailboxName("~peter/mail/台北/日本語", utf8Enabled: true) } == "\"~peter/mail/台北/日本語\"")
        #expect(rendered { $0.writeMailboxName("Tom & Jerry", utf8Enabled: false) } == #""Tom &- Jerry""#)
        #expect(rendered { $0.writeMailboxName("Tom & Jerry", utf8Enabled: true) } == #""Tom & Jerry""#)
        #expect(rendered { $0.writeMailboxName("Entwürfe", utf8Enabled: false) } == "Entw&APw-rfe")
        #expect(rendered { $0.writeMailboxName("NIL", utf8Enabled: false) } == #""NIL""#)
    }

    @Test func writesQuotedWhatever() {
        #expect(rendered { $0.writeIMAPQuoted("/") } == #""/""#)
        #expect(rendered { $0.writeIMAPQuoted(#"\"#) } == #""\\""#)
        #expect(rendered { $0.writeIMAPQuoted("a\r\n\"b\0") } == #""a  \"b ""#)
    }

    @Test func writesLiterals() {
        #expect(rendered { $0.writeIMAPLiteral(Array("abc".utf8)) } == "{3}\r\nabc")
        #expect(rendered { $0.writeIMAPLiteral([UInt8]()) } == "{0}\r\n")
        #expect(renderedBytes { $0.writeIMAPLiteral8([0x61, 0, 0x62]) } == Array("~{3}\r\n".utf8) + [0x61, 0, 0x62])
        #expect(rendered { $0.writeLiteralHeader(count: 44827, binary: false) } == "{44827}\r\n")
        #expect(rendered { $0.writeLiteralHeader(count: 5, binary: true) } == "~{5}\r\n")
    }

    @Test func writesBinaryContent() {
        // RFC 3516 §4.2: literal8 only for content with NUL.
        #expect(renderedBytes { $0.writeBinaryContent([0x61, 0x62, 0, 0x63, 0x64]) } == Array("~{5}\r\nab".utf8) + [0, 0x63, 0x64])
        #expect(rendered { $0.writeBinaryContent(Array("plain".utf8)) } == #""plain""#)
        #expect(rendered { $0.writeBinaryContent(Array("a\r\nb".utf8)) } == "{4}\r\na\r\nb")
        #expect(renderedBytes { $0.writeBinaryContent([0xFF]) } == Array("{1}\r\n".utf8) + [0xFF])
    }

    @Test func writesDecimals() {
        #expect(rendered { $0.writeDecimal(0) } == "0")
        #expect(rendered { $0.writeDecimal(7) } == "7")
        #expect(rendered { $0.writeDecimal(10) } == "10")
        #expect(rendered { $0.writeDecimal(4_827_313) } == "4827313")
        #expect(rendered { $0.writeDecimal(UInt32.max) } == "4294967295")
        #expect(rendered { $0.writeDecimal(UInt64.max) } == "18446744073709551615")
        #expect(rendered { $0.writeDecimal(Int64.min) } == "-9223372036854775808")
        #expect(rendered { $0.writeDecimal(Int8(-42)) } == "-42")
        for n in [1, 9, 99, 100, 12345, 999_999_999, 1_000_000_000] {
            #expect(rendered { $0.writeDecimal(n) } == String(n))
        }
        var buffer = ByteBuffer()
        #expect(buffer.writeDecimal(123) == 3)
        #expect(buffer.writeDecimal(-5) == 2)
    }

    @Test func writesFlags() {
        #expect(rendered { $0.writeFlags([]) } == "()")
        #expect(rendered { $0.writeFlags(["\\Seen"]) } == "(\\Seen)")
        #expect(rendered { $0.writeFlags(["\\Seen", "$Forwarded"]) } == "(\\Seen $Forwarded)")
    }

    @Test(arguments: [
        (SectionSpec(), "[]"),
        (SectionSpec(part: [1, 2]), "[1.2]"),
        (SectionSpec(kind: .header), "[HEADER]"),
        (SectionSpec(part: [3], kind: .mime), "[3.MIME]"),
        (SectionSpec(part: [2], kind: .text), "[2.TEXT]"),
        (SectionSpec(kind: .headerFields(["subject", "from"])), "[HEADER.FIELDS (SUBJECT FROM)]"),
        (SectionSpec(part: [1, 2], kind: .headerFieldsNot(["x-spam"])), "[1.2.HEADER.FIELDS.NOT (X-SPAM)]"),
    ])
    func writesSections(section: SectionSpec, expected: String) {
        #expect(rendered { $0.writeSection(section) } == expected)
    }

    @Test func returnedLengthsMatchWhatWasWritten() {
        var buffer = ByteBuffer()
        let pieces: [(inout ByteBuffer) -> Int] = [
            { $0.writeIMAPString("a\"b", utf8: false) },
            { $0.writeIMAPString("x\r\ny", utf8: false) },
            { $0.writeAString("INBOX", utf8: false) },
            { $0.writeNString(nil, utf8: false) },
            { $0.writeMailboxName("台北", utf8Enabled: false) },
            { $0.writeFlags(["\\Seen", "\\Draft"]) },
            { $0.writeIMAPQuoted("a\rb") },
            { $0.writeSection(SectionSpec(part: [1], kind: .headerFields(["to"]))) },
        ]
        for piece in pieces {
            let before = buffer.writerIndex
            let n = piece(&buffer)
            #expect(n == buffer.writerIndex - before)
        }
    }
}
