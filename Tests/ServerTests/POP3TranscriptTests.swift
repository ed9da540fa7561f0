import Foundation
import MailStore
import Testing

let sample = [
    "From: a@example.org\r\nSubject: one\r\n\r\nfirst body\r\n.starts with a dot\r\n",
    "From: b@example.org\r\nSubject: two\r\n\r\nsecond\r\nbody\r\nthird line\r\n",
    "Subject: three\r\n\r\nx\r\n",
]

/// Logs in with USER/PASS and returns the client.
func login(_ daemon: Daemon, user: String = "alice", password: String = "secret") throws -> LineClient {
    let c = try LineClient(port: daemon.pop3)
    _ = c.readLine()
    c.command("USER \(user)")
    _ = c.readLine()
    c.command("PASS \(password)")
    let answer = c.readLine() ?? ""
    #expect(answer.hasPrefix("+OK"), "login: \(answer)")
    return c
}

@Suite(.serialized) struct POP3TranscriptTests {
    @Test func greetingCapaAndStates() async throws {
        let daemon = try await Daemon(messages: ["alice": sample])
        defer { daemon.stop() }
        let c = try LineClient(port: daemon.pop3)
        #expect(c.readLine()?.hasPrefix("+OK") == true)
        c.command("CAPA")
        let (status, caps) = c.readMultiline()
        #expect(status.hasPrefix("+OK"))
        for cap in ["TOP", "UIDL", "RESP-CODES", "PIPELINING", "AUTH-RESP-CODE", "USER", "STLS", "EXPIRE NEVER",
                    "IMPLEMENTATION mstore", "SASL PLAIN LOGIN SCRAM-SHA-256"] {
            #expect(caps.contains(cap), "CAPA has \(cap)")
        }
        c.command("STAT")
        #expect(c.readLine()?.hasPrefix("-ERR") == true, "STAT before login")
        c.command("PASS x")
        #expect(c.readLine() == "-ERR Give USER first.")
        c.command("NOOP")
        #expect(c.readLine()?.hasPrefix("-ERR") == true)
        c.command("QUIT")
        #expect(c.readLine()?.hasPrefix("+OK") == true)
        #expect(c.isClosed())
    }

    @Test func transactionCommands() async throws {
        let daemon = try await Daemon(messages: ["alice": sample])
        defer { daemon.stop() }
        let sizes = sample.map { $0.utf8.count }
        let c = try login(daemon)
        c.command("STAT")
        #expect(c.readLine() == "+OK 3 \(sizes.reduce(0, +))")
        c.command("LIST")
        #expect(c.readMultiline().1 == ["1 \(sizes[0])", "2 \(sizes[1])", "3 \(sizes[2])"])
        c.command("LIST 2")
        #expect(c.readLine() == "+OK 2 \(sizes[1])")
        c.command("UIDL")
        let uidl = c.readMultiline().1
        #expect(uidl.count == 3)
        #expect(uidl[0].hasPrefix("1 00000001"))
        c.command("RETR 1")
        let (retr, lines) = c.readMultiline()
        #expect(retr == "+OK \(sizes[0]) octets")
        #expect(lines.joined(separator: "\r\n") + "\r\n" == sample[0])
        c.command("TOP 2 1")
        #expect(c.readMultiline().1 == ["From: b@example.org", "Subject: two", "", "second"])
        c.command("TOP 2 99999999")
        #expect(c.readMultiline().1.joined(separator: "\r\n") + "\r\n" == sample[1])
        c.command("DELE 1")
        #expect(c.readLine()?.hasPrefix("+OK") == true)
        c.command("DELE 1")
        #expect(c.readLine() == "-ERR No such message.")
        c.command("RETR 1")
        #expect(c.readLine() == "-ERR No such message.")
        c.command("LIST 1")
        #expect(c.readLine() == "-ERR No such message.")
        c.command("STAT")
        #expect(c.readLine() == "+OK 2 \(sizes[1] + sizes[2])")
        c.command("RSET")
        #expect(c.readLine() == "+OK")
        c.command("STAT")
        #expect(c.readLine() == "+OK 3 \(sizes.reduce(0, +))")
        for bad in ["RETR 0", "RETR 4", "RETR x", "TOP 1", "FROB", "LIST 1 2"] {
            c.command(bad)
            #expect(c.readLine()?.hasPrefix("-ERR") == true, "\(bad)")
        }
        c.sendBytes([0xFF, 0x00, 0x80, 0x0D, 0x0A])
        #expect(c.readLine()?.hasPrefix("-ERR") == true, "binary junk")
        c.command("NOOP")
        #expect(c.readLine() == "+OK", "the session goes on")
        c.command("DELE 2")
        _ = c.readLine()
        c.command("QUIT")
        #expect(c.readLine()?.hasPrefix("+OK") == true)
        #expect(c.isClosed())
        // UPDATE: message 2 expunged, retrieved ones marked \Seen.
        let (uids, seen) = try daemon.withStore { store in
            try store.read { tx in
                let inbox = try tx.requireMailbox(of: try tx.requireAccount(named: "alice").id, named: "INBOX")
                let messages = try tx.messages(in: inbox.id)
                return (messages.map(\.uid.rawValue), messages.filter { $0.flags.contains(.seen) }.map(\.uid.rawValue))
            }
        }
        #expect(uids == [1, 3])
        #expect(seen == [1])
    }

    @Test func uidlIsStableAcrossSessionsAndRestarts() async throws {
        let daemon = try await Daemon(messages: ["alice": sample])
        let c = try login(daemon)
        c.command("UIDL")
        let first = c.readMultiline().1
        c.command("QUIT")
        _ = c.readLine()
        // A new daemon process on the same data.
        try await daemon.restart()
        defer { daemon.stop() }
        let d = try login(daemon)
        d.command("UIDL")
        #expect(d.readMultiline().1 == first)
    }

    @Test func pipelinedCommandsAreAnsweredInOrder() async throws {
        let daemon = try await Daemon(messages: ["alice": sample])
        defer { daemon.stop() }
        let c = try LineClient(port: daemon.pop3)
        _ = c.readLine()
        c.send("USER alice\r\nPASS secret\r\nSTAT\r\nLIST 3\r\nRETR 3\r\nNOOP\r\nUIDL 1\r\nQUIT\r\n")
        #expect(c.readLine() == "+OK")
        #expect(c.readLine()?.hasPrefix("+OK Logged in") == true)
        #expect(c.readLine()?.hasPrefix("+OK 3 ") == true)
        #expect(c.readLine() == "+OK 3 \(sample[2].utf8.count)")
        #expect(c.readMultiline().1 == ["Subject: three", "", "x"])
        #expect(c.readLine() == "+OK")
        #expect(c.readLine()?.hasPrefix("+OK 1 ") == true)
        #expect(c.readLine()?.hasPrefix("+OK") == true)
    }

    @Test func saslPlainLoginAndScram() async throws {
        let daemon = try await Daemon(messages: ["alice": sample])
        defer { daemon.stop() }
        func b64(_ s: String) -> String { Data(s.utf8).base64EncodedString() }
        // A logged-in session holds alice's maildrop until the server has seen it go: QUIT and
        // wait for the close, or the next login may race it and get [IN-USE].
        func quit(_ c: LineClient) {
            c.command("QUIT")
            _ = c.readLine()
            _ = c.isClosed()
        }

        var c = try LineClient(port: daemon.pop3)
        _ = c.readLine()
        c.command("AUTH PLAIN " + b64("\0alice\0secret"))
        #expect(c.readLine()?.hasPrefix("+OK Logged in") == true)
        quit(c)

        c = try LineClient(port: daemon.pop3)
        _ = c.readLine()
        c.command("AUTH PLAIN")
        #expect(c.readLine() == "+ ")
        c.command(b64("alice\0alice\0secret"))
        #expect(c.readLine()?.hasPrefix("+OK Logged in") == true)
        quit(c)

        c = try LineClient(port: daemon.pop3)
        _ = c.readLine()
        c.command("AUTH LOGIN")
        #expect(c.readLine() == "+ " + b64("Username:"))
        c.command(b64("alice"))
        #expect(c.readLine() == "+ " + b64("Password:"))
        c.command(b64("secret"))
        #expect(c.readLine()?.hasPrefix("+OK Logged in") == true)
        quit(c)

        c = try LineClient(port: daemon.pop3)
        _ = c.readLine()
        c.command("AUTH PLAIN")
        _ = c.readLine()
        c.command("*")
        #expect(c.readLine() == "-ERR Authentication cancelled.")
        c.command("AUTH PLAIN !!!notbase64")
        #expect(c.readLine()?.hasPrefix("-ERR") == true)
        c.command("AUTH CRAM-MD5")
        #expect(c.readLine() == "-ERR Unsupported authentication mechanism.")

        // SCRAM-SHA-256, computed here from RFC 5802.
        c = try LineClient(port: daemon.pop3)
        _ = c.readLine()
        let scram = ScramClient(user: "alice", password: "secret")
        c.command("AUTH SCRAM-SHA-256 " + b64(scram.clientFirst))
        let challenge = c.readLine() ?? ""
        #expect(challenge.hasPrefix("+ "))
        let serverFirst = String(decoding: Data(base64Encoded: String(challenge.dropFirst(2)))!, as: UTF8.self)
        let (clientFinal, expected) = scram.final(serverFirst: serverFirst)
        c.command(b64(clientFinal))
        #expect(c.readLine() == "+ " + b64(expected))
        c.command("")
        #expect(c.readLine()?.hasPrefix("+OK Logged in") == true)
    }

    @Test func failedLoginsAreDelayedAndGrow() async throws {
        let daemon = try await Daemon()
        defer { daemon.stop() }
        let c = try LineClient(port: daemon.pop3)
        _ = c.readLine()
        var delays: [Duration] = []
        for _ in 0..<3 {
            c.command("USER alice")
            _ = c.readLine()
            let start = ContinuousClock.now
            c.command("PASS wrong")
            #expect(c.readLine() == "-ERR [AUTH] Authentication failed.")
            delays.append(ContinuousClock.now - start)
        }
        // 100 ms, then 200 ms, then 400 ms (the configured cap).
        #expect(delays[0] >= .milliseconds(90))
        #expect(delays[1] >= .milliseconds(190))
        #expect(delays[2] >= .milliseconds(390))
        c.command("USER alice")
        _ = c.readLine()
        c.command("PASS secret")
        #expect(c.readLine()?.hasPrefix("+OK") == true, "the right password still works")
    }

    @Test func secondSessionGetsInUse() async throws {
        let daemon = try await Daemon(messages: ["alice": sample])
        defer { daemon.stop() }
        let first = try login(daemon)
        let c = try LineClient(port: daemon.pop3)
        _ = c.readLine()
        c.command("USER alice")
        _ = c.readLine()
        c.command("PASS secret")
        #expect(c.readLine()?.hasPrefix("-ERR [IN-USE]") == true)
        first.command("QUIT")
        _ = first.readLine()
        #expect(first.isClosed())
        c.command("USER alice")
        _ = c.readLine()
        c.command("PASS secret")
        #expect(c.readLine()?.hasPrefix("+OK") == true, "free again after QUIT")
    }

    @Test func overlongLineGetsAnErrorAndCloses() async throws {
        let daemon = try await Daemon()
        defer { daemon.stop() }
        let c = try LineClient(port: daemon.pop3)
        _ = c.readLine()
        c.send(String(repeating: "A", count: 10_000) + "\r\n")
        #expect(c.readLine() == "-ERR Line too long.")
        #expect(c.isClosed())
    }

    @Test func idleTimeoutCloses() async throws {
        let daemon = try await Daemon(Daemon.Options(limits: "pop3_idle_seconds = 1\n"))
        defer { daemon.stop() }
        let c = try LineClient(port: daemon.pop3)
        _ = c.readLine()
        #expect(c.readLine()?.hasPrefix("-ERR [SYS/TEMP] Disconnected for inactivity") == true)
        #expect(c.isClosed())
    }

    @Test func perIPConnectionLimit() async throws {
        let daemon = try await Daemon(Daemon.Options(limits: "max_connections_per_ip = 3\n"))
        defer { daemon.stop() }
        let held = try (0..<3).map { _ in try LineClient(port: daemon.pop3) }
        for c in held { #expect(c.readLine()?.hasPrefix("+OK") == true) }
        let refused = try LineClient(port: daemon.pop3)
        #expect(refused.readLine() == "-ERR [SYS/TEMP] too many connections")
        #expect(refused.isClosed())
        held[0].command("QUIT")
        _ = held[0].readLine()
        _ = held[0].isClosed()
        try await Task.sleep(for: .milliseconds(100))
        let admitted = try LineClient(port: daemon.pop3)
        #expect(admitted.readLine()?.hasPrefix("+OK") == true)
    }

    @Test func stlsWithPipelinedCommandIsRefused() async throws {
        let daemon = try await Daemon()
        defer { daemon.stop() }
        let c = try LineClient(port: daemon.pop3)
        _ = c.readLine()
        // The injection: a command after STLS in the same packet must never run, in the clear or over TLS.
        c.send("STLS\r\nCAPA\r\n")
        let answer = c.readLine() ?? ""
        #expect(answer.hasPrefix("-ERR"), "refused: \(answer)")
        #expect(c.isClosed())
    }

    @Test func sigtermWithOpenSessionDeletesNothing() async throws {
        let daemon = try await Daemon(messages: ["alice": sample])
        let c = try login(daemon)
        c.command("DELE 1")
        #expect(c.readLine()?.hasPrefix("+OK") == true)
        #expect(daemon.stop() == 0, "exits 0 on SIGTERM")
        #expect(c.isClosed())
        let count = try daemon.withStore { store in
            try store.read { tx in try tx.requireMailbox(of: try tx.requireAccount(named: "alice").id, named: "INBOX").messages }
        }
        #expect(count == 3)
    }

    @Test func plaintextNeedsTLSAwayFromLoopback() async throws {
        // Loopback is the only peer a test can be; the rule itself is in Connection.
        let daemon = try await Daemon(Daemon.Options(tls: false))
        defer { daemon.stop() }
        let c = try LineClient(port: daemon.pop3)
        _ = c.readLine()
        c.command("CAPA")
        let caps = c.readMultiline().1
        #expect(caps.contains("USER"), "loopback may use plaintext")
        #expect(!caps.contains("STLS"), "no STLS without a certificate")
        c.command("STLS")
        #expect(c.readLine() == "-ERR TLS is not available.")
    }
}

