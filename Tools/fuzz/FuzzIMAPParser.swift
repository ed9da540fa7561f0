// libFuzzer entry point for the IMAP command parser and assembler; built by fuzz-imap-parser.sh
// together with the parser's sources (Command, IMAPLimits, CommandParser*, CommandAssembler),
// so it sees internal API without @testable.

/// Parses the input as one command, then feeds it as a client byte stream through a line
/// splitter and `CommandAssembler` (whole, and cut in two) and parses every command that comes out.
@_cdecl("LLVMFuzzerTestOneInput")
public func fuzzIMAPParser(_ data: UnsafePointer<UInt8>?, _ size: Int) -> Int32 {
    let bytes = data.map { Array(UnsafeBufferPointer(start: $0, count: size)) } ?? []

    // One command, literals inline.
    if case .success(let c) = CommandParser.parse(bytes) {
        precondition(!c.tag.isEmpty, "empty tag")
    } else if case .failure(let e) = CommandParser.parse(bytes) {
        precondition(!e.message.isEmpty, "empty message")
    }

    // A stream: the same events whether it arrives whole or in two pieces.
    let whole = FuzzFramer.run(bytes, cut: nil)
    let cut = bytes.isEmpty ? 0 : Int(bytes[0]) * bytes.count / 256
    let split = FuzzFramer.run(bytes, cut: cut)
    precondition(whole == split, "split at \(cut) changed the commands")
    return 0
}

/// A line splitter like the NIO framer: lines at CRLF, counted literal bytes when asked.
struct FuzzFramer {
    enum Event: Equatable {
        case command(Result<TaggedCommand, ParseError>)
        case reject(String?, String, Bool)
    }

    var assembler = CommandAssembler(maxLiteralSize: 4096, maxCommandLiteralSize: 512, maxLiterals: 20)
    var pending: [UInt8] = []
    var events: [Event] = []
    var closed = false

    static func run(_ bytes: [UInt8], cut: Int?) -> [Event] {
        var f = FuzzFramer()
        if let cut {
            f.feed(bytes[..<cut])
            f.feed(bytes[cut...])
        } else {
            f.feed(bytes[...])
        }
        return f.events
    }

    mutating func feed(_ chunk: ArraySlice<UInt8>) {
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
            let step = assembler.line(pending[..<end])
            pending.removeFirst(end + 2)
            record(step)
        }
    }

    func crlf() -> Int? {
        guard pending.count >= 2 else { return nil }
        for i in 0..<(pending.count - 1) where pending[i] == 0x0D && pending[i + 1] == 0x0A { return i }
        return nil
    }

    mutating func record(_ step: CommandAssembler.Step) {
        switch step {
        case .complete(let c):
            events.append(.command(CommandParser.parse(c)))
        case .literal(let count, _):
            precondition(count >= 0 && count <= 4096, "literal count out of bounds")
        case .reject(let tag, let message, let close):
            events.append(.reject(tag, message, close))
            closed = close
        }
    }
}
