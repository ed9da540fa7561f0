import Foundation
import TestSupport
import MailStore
import Testing

/// A real `mstored` on loopback ports chosen by the kernel, over a fresh data directory, with
/// a test config (short delays and timeouts) and a TLS certificate made at test time.
final class Daemon: @unchecked Sendable {
    let directory: String
    let data: String
    private(set) var process = Process()
    private var arguments: [String] = []
    private(set) var ports: [String: Int] = [:]
    let stderrPath: String

    struct Options {
        var limits = ""
        var tls = true
        var extraArguments: [String] = []
    }

    init(_ options: Options = Options(), users: [(String, String)] = [("alice", "secret")],
         messages: [String: [String]] = [:]) async throws {
        directory = scratchPath("mstored")
        data = directory + "/data"
        stderrPath = directory + "/stderr.log"
        try FileManager.default.createDirectory(atPath: directory, withIntermediateDirectories: true)

        // Users and messages, written through the library before the daemon starts.
        do {
            let store = try MailStore(path: data)
            for (name, password) in users {
                let credentials = try PasswordHasher.credentials(for: password, cost: .fast)
                let account = try await store.write { try $0.createAccount(name: name, credentials: credentials) }
                for text in messages[name] ?? [] {
                    let m = PreparedMessage(Array(text.utf8))
                    try await store.write { tx in
                        _ = try tx.append(to: try tx.requireMailbox(of: account.id, named: "INBOX").id, m)
                    }
                }
            }
            store.close()
        }

        let config = "log_level = \"debug\"\nlocal_domains = [\"example.org\"]\n[limits]\nauth_failure_delay_ms = 100\nauth_failure_max_delay_ms = 400\n" + options.limits
        var arguments = ["--data", data, "--imap", "127.0.0.1:0", "--pop3", "127.0.0.1:0", "--lmtp", "127.0.0.1:0", "--smtp", "127.0.0.1:0", "--config", directory + "/mstored.toml"]
            + options.extraArguments
        if options.tls {
            let cert = directory + "/cert.pem", key = directory + "/key.pem"
            let openssl = Process()
            openssl.executableURL = URL(fileURLWithPath: "/usr/bin/openssl")
            openssl.arguments = ["req", "-x509", "-newkey", "rsa:2048", "-nodes", "-subj", "/CN=localhost",
                                 "-days", "1", "-keyout", key, "-out", cert]
            openssl.standardError = FileHandle.nullDevice
            openssl.standardOutput = FileHandle.nullDevice
            try openssl.run()
            openssl.waitUntilExit()
            arguments += ["--imaps", "127.0.0.1:0", "--pop3s", "127.0.0.1:0", "--tls-cert", cert, "--tls-key", key]
        }
        try config.write(toFile: directory + "/mstored.toml", atomically: true, encoding: .utf8)

        self.arguments = arguments
        try await start()
    }

    /// Starts `mstored` and reads its "listening" lines until "ready".
    func start() async throws {
        process = Process()
        process.executableURL = URL(fileURLWithPath: productPath("mstored"))
        process.arguments = arguments
        let stdout = Pipe()
        process.standardOutput = stdout
        _ = FileManager.default.createFile(atPath: stderrPath, contents: nil)
        process.standardError = FileHandle(forWritingAtPath: stderrPath)
        try process.run()

        // Read the "listening" lines until "ready"; a daemon that is not ready in time is
        // killed, which ends the stream.
        let watchdog = killAfter(Self.startTimeout, process)
        defer { watchdog.cancel() }
        let reader = stdout.fileHandleForReading
        var text = ""
        while !text.contains("mstored: ready\n") {
            let chunk = reader.availableData
            if chunk.isEmpty {
                process.waitUntilExit()
                throw DaemonError.startFailed(text + (try String(contentsOfFile: stderrPath, encoding: .utf8)))
            }
            text += String(decoding: chunk, as: UTF8.self)
        }
        for line in text.split(separator: "\n") where line.hasPrefix("mstored: listening ") {
            let parts = line.split(separator: " ")
            if parts.count == 4, let port = Int(parts[3].split(separator: ":").last ?? "") { ports[String(parts[2])] = port }
        }
    }

    var imap: Int { ports["imap"]! }
    var imaps: Int { ports["imaps"]! }
    var pop3: Int { ports["pop3"]! }
    var pop3s: Int { ports["pop3s"]! }
    var lmtp: Int { ports["lmtp"]! }
    var smtp: Int { ports["smtp"]! }

    /// Stops the daemon and starts a new one on the same data (new ports).
    func restart() async throws {
        stop()
        ports = [:]
        try await start()
    }

    /// Stops the daemon (SIGTERM) and returns its exit status. A daemon that has not exited
    /// after `stopTimeout` is a failed test: its thread stacks and log go into the issue, and
    /// it is killed.
    @discardableResult
    func stop() -> Int32 {
        guard process.isRunning else { return process.terminationStatus }
        kill(process.processIdentifier, SIGTERM)
        if !waitForExit(process, seconds: Self.stopTimeout) {
            let stacks = threadStacks(of: process.processIdentifier)
            let log = (try? String(contentsOfFile: stderrPath, encoding: .utf8)) ?? ""
            Issue.record("mstored did not exit within \(Self.stopTimeout) s of SIGTERM.\nstacks:\n\(stacks)\nlog (end):\n\(log.suffix(4000))")
            kill(process.processIdentifier, SIGKILL)
            process.waitUntilExit()
        } else if let log = try? String(contentsOfFile: stderrPath, encoding: .utf8),
                  log.contains("shutdown did not finish") {
            Issue.record("mstored cut its shutdown short.\nlog (end):\n\(log.suffix(4000))")
        }
        return process.terminationStatus
    }

    /// Far longer than a start or a stop takes even on a loaded machine.
    static let startTimeout: TimeInterval = 60
    static let stopTimeout: TimeInterval = 30

    /// Opens the store, for checks after the daemon changed it.
    func withStore<T>(_ body: (MailStore) throws -> T) throws -> T {
        let store = try MailStore(path: data)
        defer { store.close() }
        return try body(store)
    }

    deinit {
        if process.isRunning { kill(process.processIdentifier, SIGKILL); process.waitUntilExit() }
        try? FileManager.default.removeItem(atPath: directory)
    }
}

enum DaemonError: Error { case startFailed(String) }


/// Removes the first complete line from `buffer` and returns it without CRLF (or LF), or nil
/// when no whole line has arrived yet.
func takeLine(_ buffer: inout [UInt8]) -> String? {
    guard let lf = buffer.firstIndex(of: 10) else { return nil }
    var line = Array(buffer[..<lf])
    buffer.removeFirst(lf + 1)
    if line.last == 13 { line.removeLast() }
    return String(decoding: line, as: UTF8.self)
}

/// A blocking line client over a real TCP socket, with a timeout on every read and write.
final class LineClient {
    let fd: Int32
    private var buffer: [UInt8] = []
    /// Set when a read found the end of the stream (not a timeout).
    private(set) var closedByPeer = false
    static let timeout: TimeInterval = 10

    init(port: Int) throws {
        // Close-on-exec: a daemon that another test starts meanwhile must not inherit this
        // socket, or the server would not see this client close it.
        fd = socket(AF_INET, Int32(SOCK_STREAM.rawValue) | Int32(SOCK_CLOEXEC.rawValue), 0)
        var addr = sockaddr_in()
        addr.sin_family = sa_family_t(AF_INET)
        addr.sin_port = in_port_t(UInt16(port).bigEndian)
        addr.sin_addr.s_addr = inet_addr("127.0.0.1")
        let rc = withUnsafePointer(to: &addr) {
            $0.withMemoryRebound(to: sockaddr.self, capacity: 1) { connect(fd, $0, socklen_t(MemoryLayout<sockaddr_in>.size)) }
        }
        guard rc == 0 else { close(fd); throw ClientError.connect(errno) }
        var tv = timeval(tv_sec: Int(Self.timeout), tv_usec: 0)
        setsockopt(fd, SOL_SOCKET, SO_RCVTIMEO, &tv, socklen_t(MemoryLayout<timeval>.size))
        setsockopt(fd, SOL_SOCKET, SO_SNDTIMEO, &tv, socklen_t(MemoryLayout<timeval>.size))
    }

    deinit { close(fd) }

    func send(_ text: String) { sendBytes(Array(text.utf8)) }

    func sendBytes(_ bytes: [UInt8]) {
        var sent = 0
        while sent < bytes.count {
            let n = bytes[sent...].withUnsafeBytes { Glibc.send(fd, $0.baseAddress, $0.count, Int32(MSG_NOSIGNAL)) }
            if n <= 0 { return }
            sent += n
        }
    }

    /// Sends one command line.
    func command(_ line: String) { send(line + "\r\n") }

    /// The next line without CRLF, or nil when the server closed the connection (or timed out).
    func readLine() -> String? {
        while true {
            if let line = takeLine(&buffer) { return line }
            var chunk = [UInt8](repeating: 0, count: 65536)
            let n = chunk.withUnsafeMutableBytes { recv(fd, $0.baseAddress, $0.count, 0) }
            if n == 0 || (n < 0 && errno == ECONNRESET) { closedByPeer = true }
            if n <= 0 { return nil }
            buffer += chunk[..<n]
        }
    }

    /// The next `count` bytes, whatever they hold (an IMAP literal), or nil on timeout or close.
    func readBytes(_ count: Int) -> [UInt8]? {
        while buffer.count < count {
            var chunk = [UInt8](repeating: 0, count: 65536)
            let n = chunk.withUnsafeMutableBytes { recv(fd, $0.baseAddress, $0.count, 0) }
            if n == 0 || (n < 0 && errno == ECONNRESET) { closedByPeer = true }
            if n <= 0 { return nil }
            buffer += chunk[..<n]
        }
        let bytes = Array(buffer[..<count])
        buffer.removeFirst(count)
        return bytes
    }

    /// A POP3 multi-line response: the status line, then the lines up to ".", un-dot-stuffed.
    func readMultiline() -> (String, [String]) {
        let status = readLine() ?? ""
        guard status.hasPrefix("+OK") else { return (status, []) }
        var lines: [String] = []
        while let line = readLine(), line != "." {
            lines.append(line.hasPrefix("..") ? String(line.dropFirst()) : line)
        }
        return (status, lines)
    }

    /// Whether the server closes the connection within the read timeout (after any lines).
    func isClosed() -> Bool {
        while let _ = readLine() {}
        return closedByPeer
    }
}

enum ClientError: Error { case connect(Int32) }
