import NIOCore
import Testing
@testable import POP3Server

@Suite struct POP3ParserTests {
    @Test(arguments: [
        ("USER alice", POP3Command.user("alice")),
        ("user alice", .user("alice")),
        ("PASS two words ", .pass("two words ")),
        ("AUTH", .auth(mechanism: nil, initialResponse: nil)),
        ("AUTH PLAIN", .auth(mechanism: "PLAIN", initialResponse: nil)),
        ("AUTH PLAIN AGFsaWNlAHNlY3JldA==", .auth(mechanism: "PLAIN", initialResponse: "AGFsaWNlAHNlY3JldA==")),
        ("STLS", .stls), ("capa", .capa), ("QUIT", .quit), ("STAT", .stat), ("NOOP", .noop), ("RSET", .rset),
        ("LIST", .list(nil)), ("LIST 3", .list(3)), ("UIDL", .uidl(nil)), ("UIDL 12", .uidl(12)),
        ("RETR 1", .retr(1)), ("DELE 2", .dele(2)), ("TOP 1 0", .top(1, lines: 0)),
        ("TOP 1 99999999", .top(1, lines: 99_999_999)), ("list  3", .list(3)),
    ])
    func parses(line: String, expected: POP3Command) throws {
        #expect(try POP3Parser.parse(Array(line.utf8)).get() == expected)
    }

    @Test(arguments: [
        "", "FOO", "RETR", "RETR x", "RETR -1", "RETR 1 2", "TOP 1", "DELE 99999999999", "STAT now", "USER",
        "PASS", "USER a b", "\u{0}\u{1}\u{2}", "RETRIEVE 1", "LIST 1 2", "AUTH a b c",
    ])
    func rejects(line: String) {
        #expect(throws: POP3ParseError.self) { try POP3Parser.parse(Array(line.utf8)).get() }
    }

    @Test func rejectsBinaryJunk() {
        var rng = SystemRandomNumberGenerator()
        for _ in 0..<500 {
            let junk = (0..<Int.random(in: 1...40, using: &rng)).map { _ in UInt8.random(in: 0...255, using: &rng) }
            _ = POP3Parser.parse(junk)  // never traps
        }
    }
}

@Suite struct MessageWriterTests {
    func write(_ message: String, bodyLines: Int?, split: Int? = nil) -> String {
        let bytes = Array(message.utf8)
        var out = ByteBufferAllocator().buffer(capacity: 64)
        var writer = MessageWriter(bodyLines: bodyLines)
        let pieces = split.map { [Array(bytes[..<min($0, bytes.count)]), Array(bytes[min($0, bytes.count)...])] } ?? [bytes]
        for piece in pieces { _ = piece.withUnsafeBytes { writer.append($0, to: &out) } }
        writer.finish(&out)
        return String(decoding: out.readableBytesView, as: UTF8.self)
    }

    @Test func dotStuffsAndTerminates() {
        let m = "Subject: x\r\n\r\n.hidden\r\nok\r\n..two\r\n"
        #expect(write(m, bodyLines: nil) == "Subject: x\r\n\r\n..hidden\r\nok\r\n...two\r\n.\r\n")
        #expect(write("Subject: x\r\n\r\nno newline", bodyLines: nil) == "Subject: x\r\n\r\nno newline\r\n.\r\n")
    }

    @Test func topStopsAfterTheBodyLines() {
        let m = "A: 1\r\nB: 2\r\n\r\nl1\r\nl2\r\nl3\r\n"
        #expect(write(m, bodyLines: 0) == "A: 1\r\nB: 2\r\n\r\n.\r\n")
        #expect(write(m, bodyLines: 2) == "A: 1\r\nB: 2\r\n\r\nl1\r\nl2\r\n.\r\n")
        #expect(write(m, bodyLines: 99_999_999) == m + ".\r\n")
    }

    @Test func sameOutputWhereverThePiecesSplit() {
        let m = "Subject: x\r\n\r\n.a\r\nb\r\n.\r\nc\r\n"
        let whole = write(m, bodyLines: nil)
        let top = write(m, bodyLines: 2)
        for cut in 0...m.utf8.count {
            #expect(write(m, bodyLines: nil, split: cut) == whole, "cut at \(cut)")
            #expect(write(m, bodyLines: 2, split: cut) == top, "TOP cut at \(cut)")
        }
    }
}
