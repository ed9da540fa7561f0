import Testing
@testable import MailMessage

@Suite struct SectionTests {
    /// A message whose sections are known because it was built from them.
    struct Built {
        let header = "From: a@x\r\nSubject: sections\r\nX-Multi: one\r\n two\r\nContent-Type: multipart/mixed; boundary=B\r\n\r\n"
        let part1Header = "Content-Type: text/plain\r\n\r\n"
        let part1Body = "first body\r\nline two"
        let part2Header = "Content-Type: message/rfc822\r\n\r\n"
        let innerHeader = "Subject: inner\r\nContent-Type: multipart/mixed; boundary=C\r\n\r\n"
        let innerPart1 = "\r\ninner one"
        let innerPart2 = "Content-Type: text/html\r\n\r\n<b>inner two</b>"
        var innerBody: String { Gen.multipart(boundary: "C", parts: [innerPart1, innerPart2]) }
        var part2Body: String { innerHeader + innerBody }
        var body: String { Gen.multipart(boundary: "B", parts: [part1Header + part1Body, part2Header + part2Body]) }
        var raw: [UInt8] { Array((header + body).utf8) }
    }

    @Test func sectionsReproduceNaiveSplit() throws {
        let b = Built()
        let raw = b.raw
        let m = ParsedMessage.parse(raw)
        func text(_ part: [Int], _ kind: SectionSpec.Kind?) -> String? {
            m.sectionBytes(SectionSpec(part: part, kind: kind), in: raw).map { String(decoding: $0, as: UTF8.self) }
        }
        #expect(text([], nil) == b.header + b.body)
        #expect(text([], .header) == b.header)
        #expect(text([], .text) == b.body)
        #expect(text([1], nil) == b.part1Body)
        #expect(text([1], .mime) == b.part1Header)
        #expect(text([2], nil) == b.part2Body)
        #expect(text([2], .mime) == b.part2Header)
        #expect(text([2], .header) == b.innerHeader)
        #expect(text([2], .text) == b.innerBody)
        #expect(text([2, 1], nil) == "inner one")
        #expect(text([2, 2], nil) == "<b>inner two</b>")
        #expect(text([2, 2], .mime) == "Content-Type: text/html\r\n\r\n")
        #expect(text([1], .header) == nil)
        #expect(text([3], nil) == nil)
        #expect(text([0], nil) == nil)
        #expect(text([], .mime) == nil)
        #expect(text([], .headerFields(["SUBJECT", "x-multi"])) == "Subject: sections\r\nX-Multi: one\r\n two\r\n\r\n")
        #expect(text([], .headerFieldsNot(["subject", "x-multi", "content-type"])) == "From: a@x\r\n\r\n")
        #expect(text([2], .headerFields(["subject"])) == "Subject: inner\r\n\r\n")
        #expect(text([], .headerFields(["nothing"])) == "\r\n")
    }

    @Test func singlePartNumbering() {
        let raw = Gen.message(["Subject: s"], body: "only body")
        let m = ParsedMessage.parse(raw)
        #expect(m.sectionBytes(SectionSpec(part: [1]), in: raw) == Array("only body".utf8))
        #expect(m.sectionBytes(SectionSpec(part: [1], kind: .mime), in: raw) == Array("Subject: s\r\n\r\n".utf8))
        #expect(m.sectionBytes(SectionSpec(part: [2]), in: raw) == nil)
        #expect(m.sectionBytes(SectionSpec(part: [1, 1]), in: raw) == nil)
    }

    @Test func topLevelMessageRFC822() {
        let raw = Gen.message(["Content-Type: message/rfc822"], body: "Subject: in\r\n\r\ninner body")
        let m = ParsedMessage.parse(raw)
        #expect(m.sectionBytes(SectionSpec(part: [1]), in: raw) == Array("Subject: in\r\n\r\ninner body".utf8))
        #expect(m.sectionBytes(SectionSpec(part: [1], kind: .header), in: raw) == Array("Subject: in\r\n\r\n".utf8))
        #expect(m.sectionBytes(SectionSpec(part: [1, 1]), in: raw) == Array("inner body".utf8))
    }

    static let partials: [(Int, Int, String)] = [(0, 3, "abc"), (2, 100, "cdef"), (6, 1, ""), (100, 5, ""), (1, 0, ""), (-5, 2, "ab"), (1, Int.max, "bcdef")]

    @Test(arguments: partials) func partialRanges(_ start: Int, _ length: Int, _ expected: String) {
        #expect(Array(ParsedMessage.partial(Array("abcdef".utf8), start: start, length: length)) == Array(expected.utf8))
    }

    @Test func everyGeneratedPartRoundTrips() {
        // Parts with random sizes and line endings: each body slice must equal what was written.
        var rng = Gen.Random(state: 7)
        for _ in 0..<50 {
            let n = Int(rng.next() % 6) + 1
            let bodies = (0..<n).map { i in
                String(repeating: "line \(i)\r\n", count: Int(rng.next() % 5)) + (rng.next() % 2 == 0 ? "tail" : "")
            }
            let raw = Gen.message(["Content-Type: multipart/mixed; boundary=\"=_gen\""],
                body: Gen.multipart(boundary: "=_gen", parts: bodies.map { "Content-Type: text/plain\r\n\r\n" + $0 }))
            let m = ParsedMessage.parse(raw)
            for (i, body) in bodies.enumerated() {
                #expect(m.sectionBytes(SectionSpec(part: [i + 1]), in: raw) == Array(body.utf8))
                let lines = body.utf8.filter { $0 == 10 }.count + (body.hasSuffix("tail") ? 1 : 0)
                #expect(m.part(at: [i + 1])?.lineCount == lines)
            }
        }
    }
}
