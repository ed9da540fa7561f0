import Testing
@testable import MailMessage

@Suite struct HeaderTests {
    @Test func unfoldingAndDuplicatesInOrder() {
        let h = HeaderSection(Gen.lines([
            "Received: from a", "\tby b", "X-Test: one", "received: from c", "Subject: folded", "  subject line",
        ]) + [13, 10] + Array("Body: not a header\r\n".utf8))
        #expect(h.fields.count == 4)
        #expect(h.values("RECEIVED") == ["from a\tby b", "from c"])
        #expect(h.first("subject") == "folded  subject line")
        #expect(h.first("body") == nil)
    }

    @Test func headerWithoutBlankLine() {
        let raw = Array("Subject: only header\r\nFrom: a@b".utf8)
        let m = ParsedMessage.parse(raw)
        #expect(m.root.headerRange == 0..<raw.count)
        #expect(m.root.bodyRange.isEmpty)
        #expect(m.envelope.subject == "only header")
        #expect(m.envelope.from == [Address(mailbox: "a", host: "b")])
    }

    @Test func rawUTF8AndLatin1() {
        let utf8 = HeaderSection(Array("Subject: caf\u{e9} \u{65e5}\u{672c}\r\n".utf8))
        #expect(utf8.first("subject") == "caf\u{e9} \u{65e5}\u{672c}")
        let latin1 = HeaderSection([UInt8]("Subject: caf".utf8) + [0xE9] + [13, 10])
        #expect(latin1.first("subject") == "caf\u{e9}")
    }

    @Test func obsoleteWhitespaceBeforeColonAndLFOnly() {
        let h = HeaderSection(Array("Subject : spaced\nX-A: 1\n\nbody".utf8))
        #expect(h.fields.map(\.name) == ["Subject", "X-A"])
        #expect(h.first("subject") == "spaced")
        let m = ParsedMessage.parse(Array("Subject: lf\n\nbody\n".utf8))
        #expect(!m.isCRLFNormalized)
        #expect(m.size == 21)
        #expect(m.root.bodyRange == 13..<18)
    }

    @Test func fieldRangesCoverWholeFoldedField() {
        let raw = Gen.lines(["A: 1", " 2", "B: 3"])
        let h = HeaderSection(raw)
        #expect(h.fields.map(\.range) == [0..<10, 10..<16])
        #expect(h.fields[0].rawValue == Array(" 1\r\n 2".utf8))
    }

    @Test func crlfNormalization() {
        let cases: [(String, String)] = [
            ("a\nb\n", "a\r\nb\r\n"), ("a\r\nb\n", "a\r\nb\r\n"), ("", ""), ("\n", "\r\n"), ("a\rb", "a\rb"),
            ("a\r\n", "a\r\n"),
        ]
        for (input, expected) in cases {
            #expect(ParsedMessage.crlfNormalized(Array(input.utf8)) == Array(expected.utf8))
            #expect(ParsedMessage.crlfNormalized(input.utf8) == Array(expected.utf8))
            #expect(ParsedMessage.parse(Array(input.utf8)).size == expected.utf8.count)
        }
    }
}
