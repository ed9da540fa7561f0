import IMAPProtocol
import MailMessage
import NIOCore
import Testing

/// ENVELOPE, BODY and BODYSTRUCTURE of messages shaped like real mail (modelled on the notmuch
/// corpus: a mailing-list denial with the post attached, an Exchange calendar invitation, a bare
/// PDF attachment, an LKML post with "unlisted-recipients:;").
@Suite struct BodyStructureTests {
    /// No Content-Type, encoded words in Subject and From, and group syntax in To and Cc.
    static let plainWithGroups = crlfMessage([
        "From: =?UTF-8?Q?Andr=C3=A9?= <andre@example.org>",
        "To: unlisted-recipients:; (no To-header on input)",
        "Cc: Friends: \"Bob B.\" <bob@example.com>, carol@example.net;, dave@example.org",
        "Subject: =?UTF-8?B?R3LDvMOfZQ==?= from =?ISO-8859-1?Q?Andr=E9?=",
        "Date: Sat, 05 Feb 2022 10:19:09 -0400",
        "Message-ID: <87k0e9o0pu.fsf@tethera.net>",
        "In-Reply-To: <parent@example.org>",
        "",
        "Hello,",
        "world",
        "",
    ])

    @Test func envelopeKeepsRawValuesAndGroups() {
        let message = ParsedMessage.parse(Self.plainWithGroups)
        let andre = #"(("=?UTF-8?Q?Andr=C3=A9?=" NIL "andre" "example.org"))"#
        let expected =
            #"("Sat, 05 Feb 2022 10:19:09 -0400" "=?UTF-8?B?R3LDvMOfZQ==?= from =?ISO-8859-1?Q?Andr=E9?=" "#
            + "\(andre) \(andre) \(andre) "
            + #"((NIL NIL "unlisted-recipients" NIL)(NIL NIL NIL NIL)) "#
            + #"((NIL NIL "Friends" NIL)("Bob B." NIL "bob" "example.com")(NIL NIL "carol" "example.net")(NIL NIL NIL NIL)(NIL NIL "dave" "example.org")) "#
            + #"NIL "<parent@example.org>" "<87k0e9o0pu.fsf@tethera.net>")"#
        #expect(rendered { $0.writeEnvelope(message.envelope) } == expected)
    }

    @Test func defaultTypeIsTextPlainUSASCII() {
        let message = ParsedMessage.parse(Self.plainWithGroups)
        #expect(
            rendered { $0.writeBodyStructure(message.root, extensible: true) }
                == #"("text" "plain" ("charset" "us-ascii") NIL NIL "7bit" 15 2 NIL NIL NIL NIL)"#)
        #expect(
            rendered { $0.writeBodyStructure(message.root, extensible: false) }
                == #"("text" "plain" ("charset" "us-ascii") NIL NIL "7bit" 15 2)"#)
    }

    @Test func envelopeOfMissingFieldsIsNIL() {
        let message = ParsedMessage.parse(crlfMessage(["X-Nothing: here", "", "body"]))
        #expect(rendered { $0.writeEnvelope(message.envelope) } == "(NIL NIL NIL NIL NIL NIL NIL NIL NIL NIL)")
    }

    @Test func senderAndReplyToDefaultToFrom() {
        let from = [Address(name: "Terry Gray", mailbox: "gray", host: "cac.washington.edu")]
        let replyTo = [Address(mailbox: "list", host: "example.org")]
        let envelope = Envelope(subject: "x", from: from, replyTo: replyTo)
        #expect(
            rendered { $0.writeEnvelope(envelope) }
                == #"(NIL "x" (("Terry Gray" NIL "gray" "cac.washington.edu")) (("Terry Gray" NIL "gray" "cac.washington.edu")) ((NIL NIL "list" "example.org")) NIL NIL NIL NIL NIL)"#
        )
    }

    @Test func envelopeAddressWithRouteAndQuotes() {
        let envelope = Envelope(
            from: [Address(name: #"Doe, "JD""#, route: "@relay.example", mailbox: "jd", host: "example.com")],
            to: [Address(mailbox: "undisclosed", host: "")])
        let expected =
            #"(NIL NIL (("Doe, \"JD\"" "@relay.example" "jd" "example.com")) (("Doe, \"JD\"" "@relay.example" "jd" "example.com")) "#
            + #"(("Doe, \"JD\"" "@relay.example" "jd" "example.com")) ((NIL NIL "undisclosed" "")) NIL NIL NIL NIL)"#
        #expect(rendered { $0.writeEnvelope(envelope) } == expected)
    }

    @Test func envelopeWith8BitHeaders() {
        // RFC 6532 raw UTF-8 in a header: a literal for a client without UTF-8, quoted with it.
        let message = ParsedMessage.parse(crlfMessage(["Subject: Grüße", "", "x"]))
        #expect(rendered { $0.writeEnvelope(message.envelope) } == "(NIL {7}\r\nGrüße NIL NIL NIL NIL NIL NIL NIL NIL)")
        #expect(rendered { $0.writeEnvelope(message.envelope, utf8: true) } == "(NIL \"Grüße\" NIL NIL NIL NIL NIL NIL NIL NIL)")
    }

    /// A calendar invitation from Exchange: multipart/alternative with a language on the multipart.
    static let alternative = crlfMessage([
        "From: David Bremner <bremner@example.com>",
        "To: \"david@tethera.net\" <david@tethera.net>",
        "Subject: test",
        "Date: Thu, 01 Jan 1970 00:00:10 +0000",
        "Message-ID: <YT3PR01MB10572@example.com>",
        "Content-Language: en-CA",
        "Content-Type: multipart/alternative;",
        "\tboundary=\"_000_YT3PR01_\"",
        "MIME-Version: 1.0",
        "",
        "--_000_YT3PR01_",
        "Content-Type: text/plain; charset=\"iso-8859-1\"",
        "Content-Transfer-Encoding: quoted-printable",
        "",
        "This meeting will could have been an email",
        "",
        "",
        "--_000_YT3PR01_",
        "Content-Type: text/calendar; charset=\"utf-8\"; method=REQUEST",
        "Content-Transfer-Encoding: base64",
        "",
        "QkVHSU46VkNBTEVOREFSDQpNRVRIT0Q6UkVRVUVTVA0K",
        "",
        "--_000_YT3PR01_--",
        "",
    ])

    @Test func multipartAlternative() {
        let message = ParsedMessage.parse(Self.alternative)
        let plain = #"("text" "plain" ("charset" "iso-8859-1") NIL NIL "quoted-printable" 46 2"#
        let calendar = #"("text" "calendar" ("charset" "utf-8" "method" "REQUEST") NIL NIL "base64" 46 1"#
        #expect(
            rendered { $0.writeBodyStructure(message.root, extensible: true) }
                == "(" + plain + " NIL NIL NIL NIL)" + calendar + " NIL NIL NIL NIL)"
                + #" "alternative" ("boundary" "_000_YT3PR01_") NIL "en-CA" NIL)"#)
        #expect(rendered { $0.writeBodyStructure(message.root, extensible: false) } == "(" + plain + ")" + calendar + #") "alternative")"#)
        #expect(
            rendered { $0.writeEnvelope(message.envelope) }
                == #"("Thu, 01 Jan 1970 00:00:10 +0000" "test" (("David Bremner" NIL "bremner" "example.com")) "#
                + #"(("David Bremner" NIL "bremner" "example.com")) (("David Bremner" NIL "bremner" "example.com")) "#
                + #"(("david@tethera.net" NIL "david" "tethera.net")) NIL NIL NIL "<YT3PR01MB10572@example.com>")"#)
    }

    /// A lone PDF: a single-part message whose only part is an attachment.
    static let pdf = crlfMessage([
        "From: David Bremner <david@tethera.net>",
        "To: example@example.com",
        "Subject: attachment content type",
        "Date: Thu, 05 Jan 2023 08:02:36 -0400",
        "Message-ID: <871qo9p4tf.fsf@tethera.net>",
        "MIME-Version: 1.0",
        "Content-Type: application/pdf",
        "Content-Disposition: attachment; filename=fake.pdf",
        "Content-Transfer-Encoding: base64",
        "",
        "dGhpcyBpcyBub3QgcmVhbGx5IFBERgo=",
        "",
    ])

    @Test func attachmentWithFilename() {
        let message = ParsedMessage.parse(Self.pdf)
        #expect(
            rendered { $0.writeBodyStructure(message.root, extensible: true) }
                == #"("application" "pdf" NIL NIL NIL "base64" 34 NIL ("attachment" ("filename" "fake.pdf")) NIL NIL)"#)
        #expect(
            rendered { $0.writeBodyStructure(message.root, extensible: false) }
                == #"("application" "pdf" NIL NIL NIL "base64" 34)"#)
    }

    /// A list manager's denial with the post attached as message/rfc822, and an attachment with
    /// every optional field: an RFC 2231 file name, ID, description, MD5, languages, location.
    static let denial = crlfMessage([
        "From: freebsd-hackers+owner@FreeBSD.org",
        "To: stepnem@smrk.net",
        "Subject: Post denied",
        "Date: Tue, 23 Jun 2026 05:47:52 +0000",
        "Message-ID: <1782193672-98446-mlmmj@FreeBSD.org>",
        "Reply-To: freebsd-hackers+subrelease@FreeBSD.org",
        "MIME-Version: 1.0",
        "Content-Type: multipart/mixed; boundary=\"=_1ed8_=\"",
        "",
        "--=_1ed8_=",
        "Content-Type: text/plain; charset=utf-8",
        "Content-Transfer-Encoding: 8bit",
        "",
        "(The denied message is below.)",
        "",
        "--=_1ed8_=",
        "Content-Type: message/rfc822",
        "Content-Transfer-Encoding: 8bit",
        "Content-Disposition: inline; filename=\"message.eml\"",
        "",
        "From: =?utf-8?Q?=C5=A0t=C4=9Bp=C3=A1n?= <stepnem@smrk.net>",
        "To: freebsd-hackers@FreeBSD.org",
        "Subject: Re: rcd(8) - new service manager daemon",
        "Date: Tue, 23 Jun 2026 07:47:40 +0200",
        "Message-ID: <87o6jaw1s3.fsf@smrk.net>",
        "",
        "Inner text.",
        "",
        "--=_1ed8_=",
        "Content-Type: application/pdf; name=\"=?utf-8?q?r=C3=A9sum=C3=A9.pdf?=\"",
        "Content-Disposition: attachment; filename*=utf-8''r%C3%A9sum%C3%A9.pdf",
        "Content-Transfer-Encoding: base64",
        "Content-ID: <part3@example.org>",
        "Content-Description: CV",
        "Content-MD5: Q2hlY2sgSW50ZWdyaXR5IQ==",
        "Content-Language: en, fr",
        "Content-Location: http://example.org/cv.pdf",
        "",
        "JVBERi0K",
        "",
        "--=_1ed8_=--",
        "",
    ])

    static let denialText = #"("text" "plain" ("charset" "utf-8") NIL NIL "8bit" 32 1"#
    static let innerEnvelope =
        #"("Tue, 23 Jun 2026 07:47:40 +0200" "Re: rcd(8) - new service manager daemon" "#
        + #"(("=?utf-8?Q?=C5=A0t=C4=9Bp=C3=A1n?=" NIL "stepnem" "smrk.net")) "#
        + #"(("=?utf-8?Q?=C5=A0t=C4=9Bp=C3=A1n?=" NIL "stepnem" "smrk.net")) "#
        + #"(("=?utf-8?Q?=C5=A0t=C4=9Bp=C3=A1n?=" NIL "stepnem" "smrk.net")) "#
        + #"((NIL NIL "freebsd-hackers" "FreeBSD.org")) NIL NIL NIL "<87o6jaw1s3.fsf@smrk.net>")"#
    static let innerBody = #"("text" "plain" ("charset" "us-ascii") NIL NIL "7bit" 13 1"#
    static let pdfHead =
        #"("application" "pdf" ("name" "=?utf-8?q?r=C3=A9sum=C3=A9.pdf?=") "<part3@example.org>" "CV" "base64" 10"#
    static let pdfTail = #" "Q2hlY2sgSW50ZWdyaXR5IQ==" ("attachment" (FILENAME)) ("en" "fr") "http://example.org/cv.pdf")"#

    @Test func encapsulatedMessageAndFullAttachment() {
        let message = ParsedMessage.parse(Self.denial)
        let attached =
            #"("message" "rfc822" NIL NIL NIL "8bit" 236 "# + Self.innerEnvelope + " " + Self.innerBody
            + #" NIL NIL NIL NIL) 7 NIL ("inline" ("filename" "message.eml")) NIL NIL)"#
        let multipartTail = #" "mixed" ("boundary" "=_1ed8_=") NIL NIL NIL)"#
        let rfc2231 = Self.pdfTail.filling(#""filename*" "utf-8''r%C3%A9sum%C3%A9.pdf""#)
        #expect(
            rendered { $0.writeBodyStructure(message.root, extensible: true) }
                == "(" + Self.denialText + " NIL NIL NIL NIL)" + attached + Self.pdfHead + rfc2231 + multipartTail)

        // A UTF-8 client gets the decoded file name as it is.
        let utf8 = Self.pdfTail.filling(#""filename" "résumé.pdf""#)
        #expect(
            rendered { $0.writeBodyStructure(message.root, extensible: true, utf8: true) }
                == "(" + Self.denialText + " NIL NIL NIL NIL)" + attached + Self.pdfHead + utf8 + multipartTail)

        // BODY: no extension data at any level, the encapsulated message's included.
        let plainAttached = #"("message" "rfc822" NIL NIL NIL "8bit" 236 "# + Self.innerEnvelope + " " + Self.innerBody + ") 7)"
        #expect(
            rendered { $0.writeBodyStructure(message.root, extensible: false) }
                == "(" + Self.denialText + ")" + plainAttached + Self.pdfHead + #") "mixed")"#)
    }

    @Test func messageRFC822InBase64IsOpaque() {
        // RFC 2046 §5.2.1 forbids it; the parser keeps the body opaque, so it goes out as
        // application/octet-stream rather than a "message" "rfc822" with no envelope.
        let message = ParsedMessage.parse(crlfMessage([
            "Content-Type: multipart/mixed; boundary=b",
            "",
            "--b",
            "Content-Type: message/rfc822",
            "Content-Transfer-Encoding: base64",
            "",
            "U3ViamVjdDogeA0KDQp5DQo=",
            "--b--",
            "",
        ]))
        #expect(
            rendered { $0.writeBodyStructure(message.root, extensible: true) }
                == #"(("application" "octet-stream" NIL NIL NIL "base64" 24 NIL NIL NIL NIL) "mixed" ("boundary" "b") NIL NIL NIL)"#)
    }

    @Test func textWithoutCharsetGetsUSASCII() {
        let message = ParsedMessage.parse(crlfMessage([
            "Content-Type: text/plain; format=flowed; delsp=yes",
            "Content-Language: de",
            "",
            "a",
        ]))
        #expect(
            rendered { $0.writeBodyStructure(message.root, extensible: true) }
                == #"("text" "plain" ("charset" "us-ascii" "format" "flowed" "delsp" "yes") NIL NIL "7bit" 1 1 NIL NIL "de" NIL)"#)
    }

    @Test func nestedMultipartInsideMultipart() {
        let message = ParsedMessage.parse(crlfMessage([
            "Content-Type: multipart/mixed; boundary=outer",
            "",
            "--outer",
            "Content-Type: multipart/related; boundary=inner; type=\"text/html\"",
            "",
            "--inner",
            "Content-Type: text/html; charset=utf-8",
            "",
            "<p>x</p>",
            "--inner",
            "Content-Type: image/png",
            "Content-ID: <img1>",
            "Content-Disposition: inline",
            "",
            "iVBORw0K",
            "--inner--",
            "--outer--",
        ]))
        #expect(
            rendered { $0.writeBodyStructure(message.root, extensible: true) }
                == #"((("text" "html" ("charset" "utf-8") NIL NIL "7bit" 8 1 NIL NIL NIL NIL)"#
                + #"("image" "png" NIL "<img1>" NIL "7bit" 8 NIL ("inline" NIL) NIL NIL)"#
                + #" "related" ("boundary" "inner" "type" "text/html") NIL NIL NIL)"#
                + #" "mixed" ("boundary" "outer") NIL NIL NIL)"#)
    }
}

extension String {
    /// This string with the placeholder FILENAME filled in.
    fileprivate func filling(_ replacement: String) -> String {
        var out = ""
        var rest = self[...]
        while let r = rest.firstRange(of: "FILENAME") {
            out += rest[..<r.lowerBound] + replacement
            rest = rest[r.upperBound...]
        }
        return out + rest
    }
}
