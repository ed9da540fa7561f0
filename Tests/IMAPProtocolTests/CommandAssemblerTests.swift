import IMAPProtocol
import MailMessage
import Testing

/// A tiny stand-in for the NIO line framer: splits lines at CRLF, and hands counted literal
/// bytes to the assembler when it asks for them. Records what the server would see or send.
struct TestFramer {
    enum Event: Equatable {
        case command([UInt8])
        case reject(tag: String?, message: String, closeConnection: Bool)
        case continuation
    }

    var assembler: CommandAssembler
    var pending: [UInt8] = []
    var events: [Event] = []
    var closed = false

    init(_ assembler: CommandAssembler = CommandAssembler()) {
        self.assembler = assembler
    }

    mutating func feed(_ chunk: some Collection<UInt8>) {
        guard !closed else { return }
        pending += chunk
        while !closed {
            if assembler.pendingLiteralBytes > 0 {
                guard !pending.isEmpty else { return }
                let n = min(pending.count, assembler.pendingLiteralBytes)
                if let step = assembler.literal(pending[..<n]) { record(step) }
                pending.removeFirst(n)
                continue
            }
            guard let end = crlf() else { return }
            let line = pending[..<end]
            let step = assembler.line(line)
            pending.removeFirst(end + 2)
            record(step)
        }
    }

    private func crlf() -> Int? {
        guard pending.count >= 2 else { return nil }
        for i in 0..<(pending.count - 1) where pending[i] == 0x0D && pending[i + 1] == 0x0A { return i }
        return nil
    }

    private mutating func record(_ step: CommandAssembler.Step) {
        switch step {
        case .complete(let c): events.append(.command(c))
        case .literal(_, let sync): if sync { events.append(.continuation) }
        case .reject(let tag, let message, let close):
            events.append(.reject(tag: tag, message: message, closeConnection: close))
            if close { closed = true }
        }
    }
}

let pipelined: [UInt8] = {
    var s = bytes("a1 LOGIN {3}\r\nbob {6+}\r\nsecret\r\n")
    s += bytes("a2 SELECT \"INBOX\"\r\n")
    s += bytes("a3 APPEND INBOX (\\Seen) {19}\r\nSubject: hi\r\n\r\nbody\r\n")
    s += bytes("a4 APPEND x {1+}\r\nA ~{3}\r\nB") + [0, 0x0D] + bytes("\r\n")
    s += bytes("a5 SEARCH SUBJECT \"{5}\" TEXT {5}\r\nhe}lo\r\n")
    s += bytes("a6 LOGIN x \"ab{1}\r\n")
    s += bytes("a7 FETCH 1 (BODY[HEADER.FIELDS (SUBJECT)])\r\n")
    s += bytes("a8 LOGIN {99999999999}\r\n")
    s += bytes("a9 LOGIN {0}\r\n {0+}\r\n\r\n")
    s += bytes("a10 NOOP\r\n")
    return s
}()

@Suite struct CommandAssemblerTests {
    func run(_ chunks: [ArraySlice<UInt8>]) -> [TestFramer.Event] {
        var framer = TestFramer()
        for c in chunks { framer.feed(c) }
        return framer.events
    }

    @Test func pipelinedCommandsParse() {
        let events = run([pipelined[...]])
        let commands: [Result<TaggedCommand, ParseError>] = events.compactMap {
            if case .command(let c) = $0 { return CommandParser.parse(c) }
            return nil
        }
        let expected: [Result<TaggedCommand, ParseError>] = [
            .success(TaggedCommand(tag: "a1", command: .login(user: "bob", password: "secret"))),
            .success(TaggedCommand(tag: "a2", command: .select(mailbox: "INBOX", readOnly: false, parameters: SelectParameters()))),
            .success(TaggedCommand(tag: "a3", command: .append(mailbox: "INBOX", messages: [AppendMessage(flags: ["\\Seen"], data: msg)]))),
            .success(TaggedCommand(tag: "a4", command: .append(mailbox: "x", messages: [
                AppendMessage(data: [0x41]), AppendMessage(data: [0x42, 0, 0x0D], isBinary: true)]))),
            .success(TaggedCommand(tag: "a5", command: .search(SearchCommand(key: .and([.subject("{5}"), .text("he}lo")])), uid: false))),
            .failure(ParseError(tag: "a6", message: "Unterminated quoted string")),
            .success(TaggedCommand(tag: "a7", command: .fetch(SequenceSet([SequenceRange(.number(1))]), [
                .bodySection(SectionSpec(kind: .headerFields(["subject"])), partial: nil, peek: false)], modifiers: FetchModifiers(), uid: false))),
            .success(TaggedCommand(tag: "a9", command: .login(user: "", password: ""))),
            .success(TaggedCommand(tag: "a10", command: .noop)),
        ]
        #expect(commands == expected)
        #expect(events.contains(.reject(tag: "a8", message: "[TOOBIG] Literal too large", closeConnection: false)))
        // Continuations: a1's {3}, a3's {19}, a4's ~{3}, a5's {5}, a9's {0}.
        #expect(events.filter { $0 == .continuation }.count == 5)
    }

    /// The stream cut in two at every byte, and fed byte by byte, gives the same events.
    @Test func splitAtEveryPosition() {
        let whole = run([pipelined[...]])
        #expect(whole.count > 10)
        for k in 0...pipelined.count {
            let events = run([pipelined[..<k], pipelined[k...]])
            #expect(events == whole, "split at \(k)")
            if events != whole { break }
        }
        #expect(run(pipelined.indices.map { pipelined[$0...$0] }) == whole)
        // Three pieces, at a coarser grid.
        for i in stride(from: 0, to: pipelined.count, by: 7) {
            for j in stride(from: i, to: pipelined.count, by: 11) {
                #expect(run([pipelined[..<i], pipelined[i..<j], pipelined[j...]]) == whole)
            }
        }
    }

    @Test func hugeSynchronizingLiteralIsRejectedBeforeReading() {
        var a = CommandAssembler()
        #expect(a.line(bytes("a LOGIN {99999999999}")) == .reject(tag: "a", message: "[TOOBIG] Literal too large", closeConnection: false))
        #expect(a.pendingLiteralBytes == 0)
        #expect(a.line(bytes("b NOOP")) == .complete(bytes("b NOOP")))
    }

    @Test func hugeNonSynchronizingLiteralClosesTheConnection() {
        var a = CommandAssembler()
        #expect(a.line(bytes("a LOGIN {99999999999+}")) == .reject(tag: "a", message: "[TOOBIG] Literal too large", closeConnection: true))
        #expect(a.line(bytes("a LOGIN {999999999999999999999999999999}")) == .reject(tag: "a", message: "[TOOBIG] Literal too large", closeConnection: false))
        #expect(a.line(bytes("a APPEND x ~{99999999999999999999999999+}")) == .reject(tag: "a", message: "[TOOBIG] Literal too large", closeConnection: true))
    }

    @Test func limitsDependOnTheCommand() {
        var a = CommandAssembler(maxLiteralSize: 1000, maxCommandLiteralSize: 10)
        #expect(a.line(bytes("a LOGIN {11}")) == .reject(tag: "a", message: "[TOOBIG] Literal too large", closeConnection: false))
        #expect(a.line(bytes("a LOGIN {10}")) == .literal(count: 10, synchronizing: true))
        a.reset()
        #expect(a.line(bytes("a append x {1000}")) == .literal(count: 1000, synchronizing: true))
        a.reset()
        #expect(a.line(bytes("a APPEND x {1001+}")) == .reject(tag: "a", message: "[TOOBIG] Literal too large", closeConnection: true))
        // UID does not make a command an APPEND.
        #expect(a.line(bytes("a UID APPEND {11}")) == .reject(tag: "a", message: "[TOOBIG] Literal too large", closeConnection: false))
        // Later literals of an APPEND use the APPEND limit too.
        #expect(a.line(bytes("a APPEND x {1}")) == .literal(count: 1, synchronizing: true))
        #expect(a.literal([0x41]) == nil)
        #expect(a.line(bytes(" {500}")) == .literal(count: 500, synchronizing: true))
    }

    @Test func tooManyLiteralsAreRejected() {
        var a = CommandAssembler(maxLiterals: 2)
        #expect(a.line(bytes("a LOGIN {1}")) == .literal(count: 1, synchronizing: true))
        #expect(a.literal([0x61]) == nil)
        #expect(a.line(bytes(" {1+}")) == .literal(count: 1, synchronizing: false))
        #expect(a.literal([0x62]) == nil)
        #expect(a.line(bytes(" {1}")) == .reject(tag: "a", message: "[LIMIT] Too many literals", closeConnection: false))
        #expect(a.line(bytes("b NOOP")) == .complete(bytes("b NOOP")))
    }

    @Test func wholeCommandIsBounded() {
        var a = CommandAssembler(maxLiteralSize: 100)
        var step = a.line(bytes("a APPEND x {100+}"))
        var rounds = 0
        while case .literal = step, rounds < 10_000 {
            _ = a.literal([UInt8](repeating: 0x41, count: 100))
            step = a.line(bytes(" {100+}"))
            rounds += 1
        }
        #expect(step == .reject(tag: "a", message: "[TOOBIG] Command too large", closeConnection: true))
        #expect(rounds * 100 <= a.maxCommandSize)
    }

    @Test func notLiterals() {
        var a = CommandAssembler()
        for line in ["a LOGIN x \"ab{1}", "a LOGIN x {1-}", "a LOGIN x {}", "a LOGIN x {+}", "}", "{1", "a LOGIN \"\\\"{1}"] {
            #expect(a.line(bytes(line)) == .complete(bytes(line)))
        }
        #expect(a.line(bytes("a LOGIN \"\\\\\" {1}")) == .literal(count: 1, synchronizing: true))
    }

    @Test func callerMistakesAreRejectedNotTrapped() {
        var a = CommandAssembler()
        #expect(a.literal([1]) == .reject(tag: nil, message: "Unexpected literal data", closeConnection: true))
        #expect(a.literal([]) == nil)
        #expect(a.line(bytes("a LOGIN {2}")) == .literal(count: 2, synchronizing: true))
        #expect(a.literal([1, 2, 3]) == .reject(tag: "a", message: "Unexpected literal data", closeConnection: true))
        #expect(a.line(bytes("a LOGIN {2}")) == .literal(count: 2, synchronizing: true))
        #expect(a.line(bytes("x")) == .reject(tag: "a", message: "Line received while literal data was expected", closeConnection: true))
        #expect(a.line(bytes("+bad {2}")) == .literal(count: 2, synchronizing: true))
        #expect(a.literal([1]) == nil)
        #expect(a.pendingLiteralBytes == 1)
        #expect(a.literal([1, 1]) == .reject(tag: nil, message: "Unexpected literal data", closeConnection: true))
    }

    @Test func zeroLengthLiteral() {
        var a = CommandAssembler()
        #expect(a.line(bytes("a LOGIN {0}")) == .literal(count: 0, synchronizing: true))
        #expect(a.literal([UInt8]()) == nil)
        #expect(a.line(bytes(" x")) == .complete(bytes("a LOGIN {0}\r\n x")))
    }
}
