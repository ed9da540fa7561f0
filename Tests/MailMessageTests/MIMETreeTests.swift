import Testing
@testable import MailMessage

@Suite struct MIMETreeTests {
    @Test func typicalMultipartTree() throws {
        let raw = Gen.typicalMultipart(attachmentSize: 1000)
        let m = ParsedMessage.parse(raw)
        #expect(m.root.contentType.type == "multipart")
        #expect(m.root.contentType.parameter("boundary") == "mix-0")
        let parts = m.root.subparts
        try #require(parts.count == 2)
        #expect(parts[0].contentType.subtype == "alternative")
        #expect(parts[0].subparts.map(\.contentType.subtype) == ["plain", "html"])
        let text = parts[0].subparts[0]
        #expect(text.transferEncoding == "quoted-printable")
        #expect(text.lineCount == 2)
        #expect(text.contentType.parameter("charset") == "utf-8")
        let pdf = parts[1]
        #expect(pdf.disposition == ContentDisposition(type: "attachment", parameters: [MIMEParameter(name: "filename", value: "report.pdf")]))
        #expect(pdf.fileName == "report.pdf")
        #expect(pdf.lineCount == 0)
        #expect(TransferDecoding.base64(raw[pdf.bodyRange]).count == 1000)
    }

    @Test func defaultsForMissingAndBrokenContentType() {
        for header in [[], ["Content-Type: garbage"], ["Content-Type: /"], ["Content-Type: multipart/mixed"]] {
            let m = ParsedMessage.parse(Gen.message(header, body: "x\r\n"))
            #expect(m.root.contentType == .textPlainDefault)
            #expect(m.root.body == .single)
            #expect(m.root.transferEncoding == "7bit")
        }
    }

    @Test func extensionFields() {
        let m = ParsedMessage.parse(Gen.message([
            "Content-Type: Text/HTML; Charset=\"UTF-8\" (comment); format=flowed",
            "Content-Transfer-Encoding: BASE64",
            "Content-ID: <id@x>", "Content-Description: =?utf-8?q?caf=C3=A9?=", "Content-MD5: Q2hlY2sgSW50ZWdyaXR5IQ==",
            "Content-Disposition: inline; filename=a.html; size=10", "Content-Language: en, de-CH",
            "Content-Location: http://example.org/a",
        ], body: "PGI+aGk8L2I+\r\n"))
        let p = m.root
        #expect(p.contentType == ContentType(type: "text", subtype: "html", parameters: [
            MIMEParameter(name: "charset", value: "UTF-8"), MIMEParameter(name: "format", value: "flowed"),
        ]))
        #expect(p.transferEncoding == "base64")
        #expect(p.contentID == "<id@x>")
        #expect(p.contentDescription == "=?utf-8?q?caf=C3=A9?=")
        #expect(p.decodedDescription == "café")
        #expect(p.contentMD5 == "Q2hlY2sgSW50ZWdyaXR5IQ==")
        #expect(p.disposition?.type == "inline")
        #expect(p.disposition?.parameter("size") == "10")
        #expect(p.language == ["en", "de-CH"])
        #expect(p.location == "http://example.org/a")
        #expect(m.preview == "hi")
    }

    static let rfc2231: [(String, String, String)] = [
        ("name*=utf-8''caf%C3%A9.txt", "name", "café.txt"),
        ("name*0=\"long \"; name*1=\"file\"; name*2=name.txt", "name", "long filename.txt"),
        ("name*1=\"b\"; name*0=\"a\"", "name", "ab"),
        ("name*0*=iso-8859-1'fr'caf%E9; name*1=\".txt\"", "name", "café.txt"),
        ("name*=unknown-cs-x''abc%20d", "name", "abc d"),
        ("name=plain; name*=utf-8''%C3%A9", "name", "é"),
        ("name=\"quoted \\\"x\\\"\"", "name", "quoted \"x\""),
        ("name=unquoted value", "name", "unquoted value"),
    ]

    @Test(arguments: rfc2231) func parameterContinuations(_ params: String, _ name: String, _ value: String) {
        let m = ParsedMessage.parse(Gen.message(["Content-Type: application/octet-stream; " + params], body: ""))
        #expect(m.root.contentType.parameter(name) == value)
    }

    @Test func boundaryThatIsPrefixOfAnother() throws {
        let inner = Gen.multipart(boundary: "abcdef", parts: ["\r\ninner one", "\r\ninner two"])
        let body = Gen.multipart(boundary: "abc", parts: ["Content-Type: multipart/mixed; boundary=abcdef\r\n\r\n" + inner, "\r\nouter two"])
        let raw = Gen.message(["Content-Type: multipart/mixed; boundary=abc"], body: body)
        let m = ParsedMessage.parse(raw)
        try #require(m.root.subparts.count == 2)
        #expect(m.root.subparts[0].subparts.map { Gen.text(raw, $0.bodyRange) } == ["inner one", "inner two"])
        #expect(Gen.text(raw, m.root.subparts[1].bodyRange) == "outer two")
    }

    @Test func missingFinalBoundaryAndPreambleEpilogue() throws {
        let raw = Gen.message(["Content-Type: multipart/mixed; boundary=b"],
            body: "preamble --b not a delimiter\r\n--b\r\n\r\none\r\n--b  \r\n\r\ntwo\r\n--bb\r\nstill two")
        let m = ParsedMessage.parse(raw)
        #expect(m.root.subparts.map { Gen.text(raw, $0.bodyRange) } == ["one", "two\r\n--bb\r\nstill two"])
        let closed = Gen.message(["Content-Type: multipart/mixed; boundary=b"],
            body: Gen.multipart(boundary: "b", parts: ["\r\nx"], preamble: "pre", epilogue: "--b\r\nepilogue"))
        let c = ParsedMessage.parse(closed)
        #expect(c.root.subparts.map { Gen.text(closed, $0.bodyRange) } == ["x"])
    }

    @Test func multipartWithoutDelimiterGetsOnePart() {
        let raw = Gen.message(["Content-Type: multipart/mixed; boundary=zz"], body: "no delimiters here\r\n")
        let m = ParsedMessage.parse(raw)
        #expect(m.root.subparts.count == 1)
        #expect(m.root.subparts[0].contentType == .textPlainDefault)
        #expect(m.root.subparts[0].bodyRange == m.root.bodyRange)
    }

    @Test func nestedMessageAndDigest() throws {
        let innerMessage = "From: Inner <in@x>\r\nSubject: inner subject\r\nContent-Type: multipart/alternative; boundary=q\r\n\r\n"
            + Gen.multipart(boundary: "q", parts: ["\r\nplain", "Content-Type: text/html\r\n\r\n<p>html</p>"])
        let digest = Gen.multipart(boundary: "d", parts: ["\r\nSubject: d1\r\n\r\nfirst", "Content-Type: text/plain\r\n\r\nnot a message"])
        let body = Gen.multipart(boundary: "o", parts: [
            "Content-Type: message/rfc822\r\n\r\n" + innerMessage,
            "Content-Type: multipart/digest; boundary=d\r\n\r\n" + digest,
        ])
        let raw = Gen.message(["Subject: outer", "Content-Type: multipart/mixed; boundary=o"], body: body)
        let m = ParsedMessage.parse(raw)
        let parts = m.root.subparts
        try #require(parts.count == 2)
        guard case .message(let env, let inner) = parts[0].body else {
            Issue.record("not a message")
            return
        }
        #expect(env.subject == "inner subject")
        #expect(env.from == [Address(name: "Inner", mailbox: "in", host: "x")])
        #expect(inner.subparts.count == 2)
        #expect(parts[0].lineCount == 12)
        let digestParts = parts[1].subparts
        #expect(digestParts.map(\.contentType.subtype) == ["rfc822", "plain"])
        if case .message(let e, _) = digestParts[0].body { #expect(e.subject == "d1") } else { Issue.record("digest default") }
    }

    @Test func encodedMessageRFC822StaysOpaque() {
        let raw = Gen.message(["Content-Type: message/rfc822", "Content-Transfer-Encoding: base64"], body: "U3ViamVjdDogeA0KDQp5\r\n")
        let m = ParsedMessage.parse(raw)
        #expect(m.root.body == .single)
        #expect(m.root.contentType.isEncapsulatedMessage)
    }
}
