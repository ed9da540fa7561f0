import Testing
@testable import MailMessage

@Suite struct ThreadingTests {
    static let subjects: [(String, String, Bool)] = [
        ("Re: hello", "hello", true),
        ("RE: Re: re:hello", "hello", true),
        ("Fwd: hello", "hello", true),
        ("fw: hello", "hello", true),
        ("Re[2]: hello", "hello", true),
        ("[list] Re: hello", "hello", true),
        ("[list] hello", "hello", false),
        ("hello (fwd)", "hello", true),
        ("[Fwd: hello]", "hello", true),
        ("Re: [Fwd: Re: hello (fwd)]", "hello", true),
        ("  many   spaces  ", "many spaces", false),
        ("[only-blob]", "[only-blob]", false),
        ("Reply to this", "Reply to this", false),
        ("", "", false),
    ]

    @Test(arguments: subjects) func baseSubject(_ subject: String, _ base: String, _ marked: Bool) {
        let r = ThreadingKeys.baseSubject(subject)
        #expect(r.base == base)
        #expect(r.isReplyOrForward == marked)
    }

    static let ids: [(String, [String])] = [
        ("<a@b>", ["a@b"]), ("<a@b> <c@d>\r\n <e@f>", ["a@b", "c@d", "e@f"]), ("phrase <a@b> (comment)", ["a@b"]),
        ("a@b", ["a@b"]), ("garbage", []), ("<>", []), ("< a@b >", ["a@b"]),
    ]

    @Test(arguments: ids) func messageIDs(_ value: String, _ expected: [String]) {
        #expect(ThreadingKeys.messageIDs(in: value) == expected)
    }

    @Test func keysFromMessage() {
        let m = ParsedMessage.parse(Gen.message([
            "Subject: =?utf-8?q?Re=3A_caf=C3=A9?=", "Message-ID: <m@x>", "In-Reply-To: <p@x>",
            "References: <r@x>\r\n <p@x>",
        ], body: ""))
        #expect(m.threading == ThreadingKeys(baseSubject: "café", isReplyOrForward: true, messageID: "m@x", inReplyTo: ["p@x"], references: ["r@x", "p@x"]))
        #expect(m.envelope.messageID == "<m@x>")
        #expect(m.envelope.inReplyTo == "<p@x>")
    }
}
