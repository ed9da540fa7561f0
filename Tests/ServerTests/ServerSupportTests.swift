import Foundation
import Logging
import TestSupport
import Testing
import MailStore
@testable import ServerSupport

@Suite struct ConfigTests {
    func load(_ text: String) throws -> ServerConfig {
        let path = scratchPath("config") + ".toml"
        try text.write(toFile: path, atomically: true, encoding: .utf8)
        defer { try? FileManager.default.removeItem(atPath: path) }
        return try ServerConfig.load(path: path)
    }

    @Test func readsEverySetting() throws {
        let c = try load("""
            log_level = "debug"
            allow_plaintext_auth = true
            metrics = "127.0.0.1:9100"
            local_domains = ["Example.org"]
            [listeners]
            pop3 = "127.0.0.1:1110"
            pop3s = "[::1]:1995"
            [tls]
            certificate = "c.pem"
            key = "k.pem"
            [limits]
            max_connections = 5
            max_connections_per_ip = 2
            auth_failure_delay_ms = 10
            pop3_idle_seconds = 7
            buffered_message_kb = 2048
            buffered_message_per_ip_kb = 512
            literal_idle_seconds = 30
            [threads]
            event_loops = 1
            workers = 3
            """)
        #expect(c.logLevel == .debug)
        #expect(c.allowPlaintextAuth)
        #expect(c.metrics == ListenerConfig(protocolName: "metrics", host: "127.0.0.1", port: 9100))
        #expect(c.localDomains == ["example.org"])
        #expect(c.listeners == [ListenerConfig(protocolName: "pop3", host: "127.0.0.1", port: 1110),
                                ListenerConfig(protocolName: "pop3s", host: "::1", port: 1995)])
        #expect(c.listeners[1].implicitTLS && c.listeners[1].baseProtocol == "pop3")
        #expect(c.tlsCertificate == "c.pem" && c.tlsKey == "k.pem")
        #expect(c.limits.maxConnections == 5 && c.limits.maxConnectionsPerIP == 2)
        #expect(c.limits.authFailureDelay == .milliseconds(10) && c.limits.pop3IdleTimeout == .seconds(7))
        #expect(c.limits.maxBufferedMessageBytes == 2 << 20 && c.limits.maxBufferedMessageBytesPerIP == 512 << 10)
        #expect(c.limits.literalIdleTimeout == .seconds(30))
        #expect(c.eventLoopThreads == 1 && c.workerThreads == 3)
        #expect(try load("").eventLoopThreads == nil, "one per core unless set")
    }

    @Test(arguments: [
        ("log_level = \"loud\"\n", "line 1: log_level"),
        ("\n\n[limits]\nmax_connections = -3\n", "line 4: max_connections"),
        ("[listeners]\npop3 = \"nowhere\"\n", "line 2: pop3"),
        ("[listeners]\nftp = \"127.0.0.1:21\"\n", "line 2: ftp: unknown key"),
        ("[threads]\nevent_loops = 0\n", "line 2: event_loops"),
        ("[threads]\nworkers = 100000\n", "line 2: workers: expected at most 256"),
        ("colour = 1\n", "line 1: colour: unknown key"),
        ("[tls]\ncertificate = \"c.pem\"\n", "tls: give both"),
        ("x = = 1\n", "line 1"),
        ("allow_plaintext_auth = \"yes\"\n", "line 1: allow_plaintext_auth: expected true or false"),
    ])
    func badConfigNamesKeyAndLine(text: String, expected: String) {
        do {
            _ = try load(text)
            Issue.record("accepted: \(text)")
        } catch {
            #expect("\(error)".contains(expected), "\(error)")
            #expect(!"\(error)".contains("\n"), "one line")
        }
    }

    @Test func throttleDoublesUpToTheCapAndForgetsTheUserOnSuccess() {
        let t = AuthThrottle(baseDelay: .milliseconds(100), maxDelay: .milliseconds(350))
        #expect(t.recordFailure(ip: "a", user: "bob") == .milliseconds(100))
        #expect(t.recordFailure(ip: "b", user: "bob") == .milliseconds(200), "same user from another IP")
        #expect(t.recordFailure(ip: "a", user: "eve") == .milliseconds(200), "same IP")
        #expect(t.recordFailure(ip: "a", user: "mallory") == .milliseconds(350), "same IP again, capped")
        t.recordSuccess(user: "bob")
        #expect(t.recordFailure(ip: "c", user: "bob") == .milliseconds(100))
    }
}

/// Keeps the events a `SafeLogHandler` passes on.
private final class CapturingLogHandler: LogHandler, @unchecked Sendable {
    let lock = NSLock()
    var events: [LogEvent] = []
    var metadata: Logger.Metadata = [:]
    var logLevel: Logger.Level = .trace
    subscript(metadataKey key: String) -> Logger.Metadata.Value? {
        get { metadata[key] }
        set { metadata[key] = newValue }
    }
    func log(event: LogEvent) { lock.withLock { events.append(event) } }
}

@Suite struct SafeLogHandlerTests {
    /// What a client chooses (a user name sent as an IMAP literal, an ID field, the text of an
    /// error) reaches the log without line breaks or terminal escapes, and bounded.
    @Test func clientTextCannotForgeLinesOrDriveATerminal() throws {
        let inner = CapturingLogHandler()
        var logger = Logger(label: "t") { _ in SafeLogHandler(wrapping: inner) }
        logger[metadataKey: "client"] = "name=x\r\n2026-12-01 notice forged"
        logger.notice("bad \u{1B}[31mred\u{07}", metadata: ["user": "al\u{0}ice\u{85}", "n": "\(42)",
                                                                "long": .string(String(repeating: "a", count: 1000))])
        let event = try #require(inner.events.first)
        #expect(event.message.description == "bad \\u{1B}[31mred\\u{7}")
        let metadata = try #require(event.metadata)
        #expect(metadata["client"] == "name=x\\u{D}\\u{A}2026-12-01 notice forged")
        #expect(metadata["user"] == "al\\u{0}ice\\u{85}")
        #expect(metadata["n"] == "42")
        #expect(metadata["long"] == .string(String(repeating: "a", count: SafeLogHandler.maxValueCharacters) + "…"))
        // The logger's metadata is kept by the safe handler, not by the one it wraps.
        #expect(inner.metadata.isEmpty)
        // Plain text passes unchanged, 8-bit included.
        logger.info("delivered", metadata: ["to": "jörg@example.org"])
        #expect(inner.events.last?.metadata?["to"] == "jörg@example.org")
    }
}

@Suite(.serialized) struct DaemonTests {
    @Test func badConfigExitsNonZeroWithOneLine() throws {
        let path = scratchPath("bad") + ".toml"
        try "[limits]\nmax_connections = \"many\"\n".write(toFile: path, atomically: true, encoding: .utf8)
        let p = try runProcess(productPath("mstored"), ["--config", path, "--data", scratchPath("unused")])
        let text = p.err
        #expect(p.status == 1)
        #expect(text.contains("line 2: max_connections"))
        #expect(text.split(separator: "\n").count == 1)
    }

    @Test func metricsAreServedAndPasswordsStayOutOfLogs() async throws {
        let daemon = try await Daemon(Daemon.Options(extraArguments: ["--metrics", "127.0.0.1:0"]),
                                      users: [("alice", "Pa55-w0rd-in-logs?")])
        defer { daemon.stop() }
        let c = try LineClient(port: daemon.pop3)
        _ = c.readLine()
        c.command("USER alice")
        _ = c.readLine()
        c.command("PASS Pa55-w0rd-in-logs?")
        #expect(c.readLine()?.hasPrefix("+OK") == true)
        c.command("AUTH PLAIN " + Data("\0alice\0Pa55-w0rd-in-logs?".utf8).base64EncodedString())
        _ = c.readLine()
        c.command("QUIT")
        _ = c.isClosed()

        let m = try LineClient(port: daemon.ports["metrics"]!)
        m.send("GET /metrics HTTP/1.1\r\nHost: x\r\n\r\n")
        var body: [String] = []
        while let line = m.readLine() { body.append(line) }
        #expect(body.first == "HTTP/1.1 200 OK")
        #expect(body.contains { $0.hasPrefix("mstore_connections_total{protocol=\"pop3\"}") })
        #expect(body.contains { $0.hasPrefix("mstore_commands_total") })

        let log = try String(contentsOfFile: daemon.stderrPath, encoding: .utf8)
        #expect(log.contains("session="), "session ids on log lines")
        #expect(!log.contains("Pa55-w0rd"), "no password in the log")
        #expect(!log.contains(Data("\0alice\0Pa55-w0rd-in-logs?".utf8).base64EncodedString()))
    }
}

@Suite struct AuthCacheTests {
    @Test func remembersOnlyTheRightPasswordForTheCurrentHash() async throws {
        let path = scratchPath("authcache")
        defer { try? FileManager.default.removeItem(atPath: path) }
        let store = try MailStore(path: path)
        defer { store.close() }
        let account = try await store.createAccount(name: "alice", password: "secret", cost: .fast)
        let cache = AuthCache()
        #expect(!cache.matches(account, password: "secret"), "nothing is remembered before a full check")
        cache.remember(account, password: "secret")
        #expect(cache.matches(account, password: "secret"))
        #expect(!cache.matches(account, password: "Secret"))
        #expect(!cache.matches(account, password: ""))
        // A new password (a new stored hash) ends the entry.
        let credentials = try PasswordHasher.credentials(for: "other", cost: .fast)
        try await store.write { try $0.setCredentials(account.id, credentials) }
        let changed = try #require(try store.read { try $0.account(named: "alice") })
        #expect(!cache.matches(changed, password: "secret"))
    }
}
