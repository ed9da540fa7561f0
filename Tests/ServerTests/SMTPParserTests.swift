@testable import MailStore
import Testing
@testable import SMTPServer

@Suite struct SMTPParserTests {
    @Test(arguments: [
        ("LHLO mta.example", SMTPCommand.hello(.lhlo, domain: "mta.example")),
        ("ehlo [127.0.0.1]", .hello(.ehlo, domain: "[127.0.0.1]")),
        ("HELO mta.example extra", .hello(.helo, domain: "mta.example")),
        ("MAIL FROM:<>", .mail(from: "", MailParameters())),
        ("mail from:<a@b.example>", .mail(from: "a@b.example", MailParameters())),
        ("MAIL FROM: <a@b.example>", .mail(from: "a@b.example", MailParameters())),
        ("MAIL FROM:<@relay.example:a@b.example>", .mail(from: "a@b.example", MailParameters())),
        ("MAIL FROM:<a@b.example> SIZE=1000 BODY=8BITMIME SMTPUTF8",
         .mail(from: "a@b.example", MailParameters(size: 1000, body: .eightBitMIME, smtpUTF8: true))),
        ("MAIL FROM:<a@b.example> size=99999999999999999999", .mail(from: "a@b.example", MailParameters(size: Int.max))),
        ("MAIL FROM:<\"odd >name\"@b.example>", .mail(from: "\"odd >name\"@b.example", MailParameters())),
        ("RCPT TO:<alice+lists@example.org>", .rcpt(to: "alice+lists@example.org")),
        ("RCPT TO:<Postmaster>", .rcpt(to: "Postmaster")),
        ("DATA", .data), ("BDAT 0 LAST", .bdat(size: 0, last: true)), ("bdat 4096", .bdat(size: 4096, last: false)),
        ("BDAT 12 last", .bdat(size: 12, last: true)), ("RSET", .rset), ("NOOP", .noop), ("NOOP hello", .noop),
        ("QUIT", .quit), ("VRFY alice", .vrfy("alice")), ("HELP", .help), ("STARTTLS", .startTLS),
    ])
    func parses(line: String, expected: SMTPCommand) throws {
        #expect(try SMTPParser.parse(Array(line.utf8)).get() == expected)
    }

    @Test(arguments: [
        ("", "500 5.5.1"), ("FROB", "500 5.5.1"), ("\u{0}\u{1}", "500 5.5.1"), ("EHLO", "501 5.5.4"),
        ("MAIL", "501 5.5.4"), ("MAIL FROM:a@b.example", "501 5.1.7"), ("MAIL FROM:<a@b.example", "501 5.1.7"),
        ("MAIL FROM:<a>", "501 5.1.7"), ("MAIL FROM:<@b.example>", "501 5.1.7"), ("MAIL FROM:<a b@c.example>", "501 5.1.7"),
        ("MAIL FROM:<a@b.example> SIZE=", "501 5.5.4"), ("MAIL FROM:<a@b.example> SIZE=-1", "501 5.5.4"),
        ("MAIL FROM:<a@b.example> BODY=9BIT", "501 5.5.4"), ("MAIL FROM:<a@b.example> SMTPUTF8=yes", "501 5.5.4"),
        ("MAIL FROM:<a@b.example> RET=HDRS", "555 5.5.4"), ("RCPT TO:<>", "501 5.1.3"), ("RCPT alice", "501 5.5.4"),
        ("RCPT TO:<a@b.example> NOTIFY=NEVER", "555 5.5.4"), ("DATA now", "501 5.5.4"), ("BDAT", "501 5.5.4"),
        ("BDAT -1", "501 5.5.4"), ("BDAT 1 FIRST", "501 5.5.4"), ("BDAT 9999999999999999999", "501 5.5.4"),
        ("VRFY", "501 5.5.4"), ("QUIT now", "501 5.5.4"),
    ])
    func rejects(line: String, code: String) {
        switch SMTPParser.parse(Array(line.utf8)) {
        case .success(let command): Issue.record("\(line.debugDescription) parsed as \(command)")
        case .failure(let error): #expect(error.reply.hasPrefix(code + " "), "\(line.debugDescription): \(error.reply)")
        }
    }

    @Test func neverCrashesOnJunk() {
        var generator = SystemRandomNumberGenerator()
        for _ in 0..<2000 {
            let prefix = ["MAIL FROM:<", "RCPT TO:<", "BDAT ", "EHLO ", ""].randomElement()!
            let junk = (0..<Int.random(in: 0...40)).map { _ in UInt8.random(in: 0...255, using: &generator) }
            _ = SMTPParser.parse(Array(prefix.utf8) + junk)
        }
    }

    @Test(arguments: [
        ("alice@example.org", "alice", nil as String?, "example.org" as String?),
        ("Alice+Lists@Example.ORG", "Alice", "Lists", "example.org"),
        ("bob+@x.example", "bob", nil, "x.example"),
        ("postmaster", "postmaster", nil, nil),
        ("\"a+b\"@x.example", "a", "b", "x.example"),
    ])
    func splitsDeliveryAddresses(address: String, local: String, detail: String?, domain: String?) throws {
        let a = try #require(DeliveryAddress(address))
        #expect(a.localPart == local && a.detail == detail && a.domain == domain)
    }

    @Test func rejectsEmptyAddressParts() {
        for bad in ["", "@x.example", "a@", "+detail@x.example"] { #expect(DeliveryAddress(bad) == nil, "\(bad)") }
    }

    @Test func traceHeaderDate() {
        #expect(TraceHeaders.rfc5322Date(0) == "Thu, 1 Jan 1970 00:00:00 +0000")
        #expect(TraceHeaders.rfc5322Date(1_795_959_686) == "Sun, 29 Nov 2026 13:41:26 +0000")
        let one = TraceHeaders(returnPath: "", recipients: ["a@x\r\nBcc: evil"], received: nil).bytes(date: 0)
        #expect(String(decoding: one, as: UTF8.self) == "Return-Path: <>\r\nDelivered-To: a@xBcc: evil\r\n",
                "client text cannot start a header line")
    }
}
