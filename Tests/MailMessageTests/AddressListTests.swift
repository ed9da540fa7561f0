import Testing
@testable import MailMessage

@Suite struct AddressListTests {
    typealias A = Address

    static let fixtures: [(String, [Address])] = [
        ("alice@example.org", [A(mailbox: "alice", host: "example.org")]),
        ("Alice <alice@example.org>", [A(name: "Alice", mailbox: "alice", host: "example.org")]),
        ("\"Doe, John\" <john@x.org>, b@y", [A(name: "Doe, John", mailbox: "john", host: "x.org"), A(mailbox: "b", host: "y")]),
        ("\"a \\\"q\\\" b\" <q@x>", [A(name: "a \"q\" b", mailbox: "q", host: "x")]),
        ("John (comment) Doe <j@x>", [A(name: "John Doe", mailbox: "j", host: "x")]),
        ("j@x (John Doe)", [A(mailbox: "j", host: "x")]),
        ("=?utf-8?q?J=C3=B6rg?= <j@x>", [A(name: "=?utf-8?q?J=C3=B6rg?=", mailbox: "j", host: "x")]),
        ("<@r1,@r2:user@host>", [A(route: "@r1,@r2", mailbox: "user", host: "host")]),
        ("Team: a@x, B <b@y>;, c@z", [
            A.groupStart("Team"), A(mailbox: "a", host: "x"), A(name: "B", mailbox: "b", host: "y"), A.groupEnd,
            A(mailbox: "c", host: "z"),
        ]),
        ("undisclosed-recipients:;", [A.groupStart("undisclosed-recipients"), A.groupEnd]),
        ("Unclosed group: a@x", [A.groupStart("Unclosed group"), A(mailbox: "a", host: "x"), A.groupEnd]),
        ("\"john doe\"@x.org", [A(mailbox: "\"john doe\"", host: "x.org")]),
        ("user@[192.0.2.1]", [A(mailbox: "user", host: "[192.0.2.1]")]),
        ("just garbage", [A(mailbox: "just garbage", host: "")]),
        ("<>", [A(mailbox: "", host: "")]),
        (",,,", []),
        ("", []),
        ("a@x,, <b@y> trailing junk, c@z", [A(mailbox: "a", host: "x"), A(mailbox: "b", host: "y"), A(mailbox: "c", host: "z")]),
        ("Bad <unclosed@x", [A(name: "Bad", mailbox: "unclosed", host: "x")]),
        ("Dot.Name <d@x>", [A(name: "Dot.Name", mailbox: "d", host: "x")]),
    ]

    @Test(arguments: fixtures) func parses(_ input: String, _ expected: [Address]) {
        #expect(AddressList.parse(input) == expected)
    }

    @Test func groupMarkers() {
        #expect(Address.groupStart("g").isGroupStart)
        #expect(Address.groupEnd.isGroupEnd)
        #expect(!Address(mailbox: "a", host: "").isGroupStart)
        #expect(Address(name: "=?utf-8?q?J=C3=B6rg?=", mailbox: "j", host: "x").displayString == "Jörg <j@x>")
    }

    @Test func envelopeDefaultsSenderAndReplyTo() {
        let m = ParsedMessage.parse(Gen.message(["From: a@x", "Reply-To: r@x"], body: ""))
        #expect(m.envelope.sender == [Address(mailbox: "a", host: "x")])
        #expect(m.envelope.replyTo == [Address(mailbox: "r", host: "x")])
    }
}
