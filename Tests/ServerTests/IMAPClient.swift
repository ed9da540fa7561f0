import Foundation

/// An IMAP test client over `LineClient`: sends tagged commands and collects the response
/// lines up to the tagged one, with literals folded into their line as text.
final class IMAPClient {
    let line: LineClient
    private var counter = 0
    private(set) var greeting = ""

    init(port: Int) throws {
        line = try LineClient(port: port)
        greeting = line.readLine() ?? ""
    }

    /// Logs in as `user` and returns the client.
    static func login(_ daemon: Daemon, user: String = "alice", password: String = "secret") throws -> IMAPClient {
        let c = try IMAPClient(port: daemon.imap)
        let answer = c.run("LOGIN \(user) \(password)")
        precondition(answer.last?.contains("OK") == true, "login failed: \(answer)")
        return c
    }

    func nextTag() -> String {
        counter += 1
        return "t\(counter)"
    }

    /// Sends `command` with a fresh tag; returns every line up to and including the tagged one.
    @discardableResult
    func run(_ command: String) -> [String] {
        let tag = nextTag()
        line.command("\(tag) \(command)")
        return read(until: tag)
    }

    /// Reads response lines up to the one tagged `tag` (or the connection's end).
    func read(until tag: String) -> [String] {
        var lines: [String] = []
        while let l = readResponseLine() {
            lines.append(l)
            if l.hasPrefix(tag + " ") { break }
        }
        return lines
    }

    /// One response line, with any literal it announces appended (as UTF-8 text, lossy).
    func readResponseLine() -> String? {
        guard var text = line.readLine() else { return nil }
        while let count = Self.literalCount(text) {
            guard let bytes = line.readBytes(count), let rest = line.readLine() else { return text }
            text += "\r\n" + String(decoding: bytes, as: UTF8.self) + rest
        }
        return text
    }

    /// Reads one response line's literal bytes exactly: for byte-exact checks.
    func literalBytes(after prefix: String) -> [UInt8]? {
        guard let text = line.readLine(), text.hasPrefix(prefix), let count = Self.literalCount(text) else { return nil }
        return line.readBytes(count)
    }

    static func literalCount(_ line: String) -> Int? {
        guard line.hasSuffix("}"), let open = line.lastIndex(of: "{") else { return nil }
        return Int(line[line.index(after: open)..<line.index(before: line.endIndex)].filter { $0 != "+" })
    }

    /// Sends an APPEND with a synchronizing literal, waiting for the continuation.
    @discardableResult
    func append(_ mailbox: String, _ message: String, flags: String = "") -> [String] {
        let tag = nextTag()
        let bytes = Array(message.utf8)
        line.command("\(tag) APPEND \(mailbox) \(flags.isEmpty ? "" : "(\(flags)) "){\(bytes.count)}")
        guard let cont = line.readLine(), cont.hasPrefix("+") else { return read(until: tag) }
        line.sendBytes(bytes + Array("\r\n".utf8))
        return read(until: tag)
    }
}
