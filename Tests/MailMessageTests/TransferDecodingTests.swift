import Testing
@testable import MailMessage

@Suite struct TransferDecodingTests {
    static let base64Cases: [(String, [UInt8])] = [
        ("aGVsbG8=", Array("hello".utf8)), ("aGVsbG8", Array("hello".utf8)), ("aGVs\r\nbG8=", Array("hello".utf8)),
        ("a GV*sb!G8==", Array("hello".utf8)), ("aGVsbA==", Array("hell".utf8)), ("aGVsbA", Array("hell".utf8)),
        ("", []), ("====", []), ("aGk=junk", Array("hi".utf8)), ("Zm9v-_8", [102, 111, 111, 0xFB, 0xFF]),
    ]

    @Test(arguments: base64Cases) func base64(_ input: String, _ expected: [UInt8]) {
        #expect(TransferDecoding.base64(Array(input.utf8)) == expected)
    }

    static let qpCases: [(String, String)] = [
        ("caf=C3=A9", "café"), ("caf=c3=a9", "café"), ("soft=\r\nbreak", "softbreak"), ("soft=  \r\nbreak", "softbreak"),
        ("soft=\nlf", "softlf"), ("trailing   \r\nspace", "trailing\r\nspace"), ("bad=ZZ", "bad=ZZ"), ("end=", "end"),
        ("a = b", "a = b"), ("tab\tinside", "tab\tinside"), ("x_y", "x_y"),
    ]

    @Test(arguments: qpCases) func quotedPrintable(_ input: String, _ expected: String) {
        #expect(TransferDecoding.quotedPrintable(Array(input.utf8)) == Array(expected.utf8))
    }

    @Test func identityAndUnknown() {
        #expect(TransferDecoding.decode([1, 2, 0], encoding: "8BIT") == [1, 2, 0])
        #expect(TransferDecoding.decode([1], encoding: "binary") == [1])
        #expect(TransferDecoding.decode([1], encoding: "x-uuencode") == nil)
    }

    @Test func binaryContentAndSize() throws {
        let raw = Gen.message(["Content-Type: multipart/mixed; boundary=b"], body: Gen.multipart(boundary: "b", parts: [
            "Content-Transfer-Encoding: base64\r\n\r\naGVsbG8=",
            "Content-Transfer-Encoding: quoted-printable\r\n\r\na=3Db",
            "Content-Transfer-Encoding: x-strange\r\n\r\n???",
        ]))
        let m = ParsedMessage.parse(raw)
        #expect(try m.binaryContent(at: [1], in: raw) == Array("hello".utf8))
        #expect(try m.binarySize(at: [1], in: raw) == 5)
        #expect(try m.binaryContent(at: [2], in: raw) == Array("a=b".utf8))
        #expect(throws: MailMessageError.unknownTransferEncoding("x-strange")) { try m.binaryContent(at: [3], in: raw) }
        #expect(throws: MailMessageError.noSuchPart) { try m.binaryContent(at: [4], in: raw) }
    }
}
