import Testing
@testable import MailMessage

@Suite struct SerializationTests {
    static var samples: [[UInt8]] {
        [
            Gen.typicalMultipart(attachmentSize: 3000),
            SectionTests.Built().raw,
            Gen.message(["From: Team: a@x, <@r:b@y>;", "Date: Tue, 1 Jul 2003 10:52:37 -0700", "Sender: s@x",
                "Content-Type: text/plain; name*=utf-8''%C3%A9", "Content-Language: en", "Content-Location: here",
                "Content-Disposition: inline; filename=x"], body: "hello\r\n"),
            [], [0, 0, 0], Array("no header at all".utf8),
        ]
    }

    @Test(arguments: samples) func roundTrip(_ raw: [UInt8]) throws {
        let m = ParsedMessage.parse(raw)
        let bytes = m.serialized()
        #expect(bytes.first == ParsedMessage.serializationVersion)
        #expect(try ParsedMessage(serialized: bytes) == m)
    }

    @Test func compactness() {
        let raw = Gen.typicalMultipart(attachmentSize: 20_000)
        let bytes = ParsedMessage.parse(raw).serialized()
        #expect(bytes.count < 700)
    }

    @Test func rejectsBadInput() throws {
        let good = ParsedMessage.parse(Gen.typicalMultipart(attachmentSize: 100)).serialized()
        #expect(throws: MailMessageError.malformedSerialization) { try ParsedMessage(serialized: [UInt8]()) }
        #expect(throws: MailMessageError.malformedSerialization) { try ParsedMessage(serialized: [99] + good.dropFirst()) }
        #expect(throws: MailMessageError.malformedSerialization) { try ParsedMessage(serialized: good + [0]) }
        // Every truncation and many single-byte corruptions must throw or decode, never crash.
        for n in 0..<good.count { _ = try? ParsedMessage(serialized: good[..<n]) }
        var rng = Gen.Random(state: 3)
        for _ in 0..<2000 {
            var bad = good
            bad[Int(rng.next() % UInt64(bad.count))] = UInt8(truncatingIfNeeded: rng.next())
            _ = try? ParsedMessage(serialized: bad)
        }
    }
}
