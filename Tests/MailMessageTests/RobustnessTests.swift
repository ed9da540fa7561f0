import Testing
@testable import MailMessage

@Suite struct RobustnessTests {
    @Test func tenThousandNestedMultiparts() throws {
        let depth = 10_000
        var raw = [UInt8]()
        raw.reserveCapacity(depth * 60)
        for i in 0..<depth {
            raw += Array("Content-Type: multipart/mixed; boundary=\"b\(i)\"\r\n\r\n--b\(i)\r\n".utf8)
        }
        raw += Array("Content-Type: text/plain\r\n\r\ndeep\r\n".utf8)
        let m = ParsedMessage.parse(raw)
        var level = 0
        var p = m.root
        while case .multipart(let children) = p.body, let first = children.first {
            p = first
            level += 1
        }
        #expect(level == MessageLimits.maxMIMEDepth)
        #expect(p.contentType.type == "application")
        #expect(try ParsedMessage(serialized: m.serialized()) == m)
    }

    @Test func deeplyNestedMessages() throws {
        var raw = Array("Content-Type: text/plain\r\n\r\nend".utf8)
        for _ in 0..<1000 { raw = Array("Content-Type: message/rfc822\r\n\r\n".utf8) + raw }
        let m = ParsedMessage.parse(raw)
        #expect(m.size == raw.count)
        #expect(try ParsedMessage(serialized: m.serialized()) == m)
    }

    @Test func oneMebibyteHeaderLine() {
        let long = String(repeating: "x", count: 1 << 20)
        let raw = Gen.message(["Subject: " + long, "X-Other: y"], body: "b")
        let m = ParsedMessage.parse(raw)
        #expect(m.envelope.subject?.utf8.count == 1 << 20)
        #expect(HeaderSection(raw).first("x-other") == "y")
    }

    @Test func hundredThousandHeaderFields() {
        let header = (0..<100_000).map { "X-Field-\($0): value \($0)" } + ["Subject: last"]
        let raw = Gen.message(header, body: "body")
        let m = ParsedMessage.parse(raw)
        #expect(m.envelope.subject == "last")
        let h = HeaderSection(raw)
        #expect(h.fields.count == 100_001)
        #expect(h.first("x-field-99999") == "value 99999")
        #expect(m.sectionBytes(SectionSpec(kind: .headerFields(["subject"])), in: raw) == Array("Subject: last\r\n\r\n".utf8))
    }

    @Test func fiveMebibyteBase64Attachment() throws {
        var rng = Gen.Random(state: 1)
        let payload = (0..<(5 << 20)).map { _ in UInt8(truncatingIfNeeded: rng.next()) }
        let raw = Gen.message(["Content-Type: multipart/mixed; boundary=z"], body: Gen.multipart(boundary: "z", parts: [
            "\r\ntext", "Content-Type: application/octet-stream\r\nContent-Transfer-Encoding: base64\r\n\r\n" + Gen.base64(payload),
        ]))
        let m = ParsedMessage.parse(raw)
        #expect(try m.binaryContent(at: [2], in: raw) == payload)
        #expect(m.preview == "text")
    }

    @Test func emptyAndNULInput() {
        let empty = ParsedMessage.parse([UInt8]())
        #expect(empty.size == 0)
        #expect(empty.root.contentType == .textPlainDefault)
        #expect(empty.root.headerRange == 0..<0)
        #expect(empty.preview == "")
        let nul: [UInt8] = Array("Subject: a\0b\r\n\r\n\0\0body\0".utf8)
        let m = ParsedMessage.parse(nul)
        #expect(m.envelope.subject == "a\0b")
        #expect(m.sectionBytes(SectionSpec(kind: .text), in: nul) == Array("\0\0body\0".utf8))
        let zeros = [UInt8](repeating: 0, count: 10_000)
        #expect(ParsedMessage.parse(zeros).size == 10_000)
    }

    @Test func randomBytesNeverCrash() {
        var rng = Gen.Random(state: 99)
        let alphabet = Array("-\r\n:;=\"<>@()[],?_ \tabcB0".utf8)
        let templates = [Gen.typicalMultipart(attachmentSize: 200), SectionTests.Built().raw]
        for round in 0..<300 {
            var raw = templates[round % 2]
            for _ in 0..<(1 + Int(rng.next() % 20)) {
                let at = Int(rng.next() % UInt64(raw.count))
                raw[at] = alphabet[Int(rng.next() % UInt64(alphabet.count))]
            }
            let m = ParsedMessage.parse(raw)
            #expect(m.root.fullRange.upperBound <= raw.count)
            _ = m.searchText(in: raw)
            #expect((try? ParsedMessage(serialized: m.serialized())) == m)
        }
    }
}
