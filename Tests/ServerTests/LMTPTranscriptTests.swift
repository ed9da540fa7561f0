import Foundation
import MailStore
import Testing

extension LineClient {
    /// One SMTP reply: its lines up to the one with a space after the code (RFC 5321 §4.2.1).
    func readReply() -> [String] {
        var lines: [String] = []
        while let line = readLine() {
            lines.append(line)
            if line.count < 4 || line[line.index(line.startIndex, offsetBy: 3)] != "-" { break }
        }
        return lines
    }

    /// MAIL FROM, one accepted RCPT TO and DATA, each answered as it should be: ready for the data.
    func startData(to recipient: String) {
        #expect(ask("MAIL FROM:<b@x.example>").hasPrefix("250"))
        #expect(ask("RCPT TO:<\(recipient)>").hasPrefix("250"))
        #expect(ask("DATA").hasPrefix("354"))
    }

    /// Sends a command and returns the first line of its reply.
    func ask(_ line: String) -> String {
        command(line)
        return readReply().last ?? ""
    }
}

/// Connects to LMTP (or SMTP), reads the greeting and greets with LHLO (or EHLO).
func smtpSession(_ daemon: Daemon, lmtp: Bool = true) throws -> LineClient {
    let c = try LineClient(port: lmtp ? daemon.lmtp : daemon.smtp)
    #expect(c.readLine()?.hasPrefix("220 ") == true)
    c.command(lmtp ? "LHLO client.example.net" : "EHLO client.example.net")
    #expect(c.readReply().last?.hasPrefix("250 ") == true)
    return c
}

/// The raw messages of a user's mailbox, in UID order.
func storedMessages(_ daemon: Daemon, _ user: String, _ mailbox: String = "INBOX") throws -> [[UInt8]] {
    try daemon.withStore { store in
        try store.read { tx in
            let account = try tx.requireAccount(named: user)
            let box = try tx.requireMailbox(of: account.id, named: mailbox)
            return try tx.messages(in: box.id).map { try tx.content($0.content) }
        }
    }
}

func text(_ bytes: [UInt8]) -> String { String(decoding: bytes, as: UTF8.self) }

let lmtpUsers = [("alice", "secret"), ("carol", "secret"), ("dave@example.org", "secret")]

@Suite(.serialized) struct LMTPTranscriptTests {
    @Test func greetingAndCapabilities() async throws {
        let daemon = try await Daemon(users: lmtpUsers)
        defer { daemon.stop() }
        let c = try LineClient(port: daemon.lmtp)
        #expect(c.readLine()?.hasPrefix("220 ") == true)
        #expect(c.ask("EHLO x.example").hasPrefix("500 5.5.1"), "LMTP has LHLO only (RFC 2033 §4.1)")
        #expect(c.ask("MAIL FROM:<a@b.example>").hasPrefix("503 5.5.1"), "MAIL before LHLO")
        c.command("LHLO client.example.net")
        let caps = c.readReply()
        #expect(caps.last?.hasPrefix("250 ") == true)
        let keywords = caps.map { String($0.dropFirst(4)) }
        for k in ["PIPELINING", "8BITMIME", "SIZE 67108864", "ENHANCEDSTATUSCODES", "CHUNKING", "SMTPUTF8", "STARTTLS"] {
            #expect(keywords.contains(k), "LHLO advertises \(k)")
        }
        #expect(c.ask("NOOP").hasPrefix("250 2.0.0"))
        #expect(c.ask("NOOP anything").hasPrefix("250 2.0.0"))
        #expect(c.ask("VRFY alice").hasPrefix("252 "))
        #expect(c.ask("HELP").hasPrefix("214 "))
        #expect(c.ask("RSET").hasPrefix("250 2.0.0"))
        #expect(c.ask("QUIT").hasPrefix("221 2.0.0"))
        #expect(c.isClosed())

        let s = try LineClient(port: daemon.smtp)
        #expect(s.readLine()?.contains("ESMTP") == true)
        #expect(s.ask("LHLO x.example").hasPrefix("500 5.5.1"), "SMTP has no LHLO")
        #expect(s.ask("HELO x.example") .hasPrefix("250 "))
        s.command("EHLO x.example")
        #expect(s.readReply().contains("250-CHUNKING"))
    }

    @Test func deliveryToTwoRecipientsStoresOneContentWithTraceHeaders() async throws {
        let daemon = try await Daemon(users: lmtpUsers)
        defer { daemon.stop() }
        let c = try smtpSession(daemon)
        #expect(c.ask("MAIL FROM:<bob@sender.example> SIZE=200 BODY=8BITMIME").hasPrefix("250 2.1.0"))
        #expect(c.ask("RCPT TO:<alice@example.org>").hasPrefix("250 2.1.5"))
        #expect(c.ask("RCPT TO:<nobody@example.org>").hasPrefix("550 5.1.1"))
        #expect(c.ask("RCPT TO:<carol@elsewhere.example>").hasPrefix("250 2.1.5"), "the local part names a user")
        #expect(c.ask("DATA").hasPrefix("354 "))
        // A dot-stuffed line, a line that is only dots, and 8-bit bytes.
        var body: [UInt8] = Array("From: bob@sender.example\r\nSubject: hi\r\n\r\n..leading dot\r\n...\r\n".utf8)
        body += [0xC3, 0xA9, 0x80, 0xFF, 13, 10]
        c.sendBytes(body + Array(".\r\n".utf8))
        let first = c.readLine() ?? "", second = c.readLine() ?? ""
        #expect(first == "250 2.0.0 <alice@example.org> Delivered", "replies in RCPT order (RFC 2033 §4.2)")
        #expect(second == "250 2.0.0 <carol@elsewhere.example> Delivered")
        #expect(c.ask("QUIT").hasPrefix("221"))

        let alice = try storedMessages(daemon, "alice"), carol = try storedMessages(daemon, "carol")
        #expect(alice.count == 1 && carol.count == 1)
        #expect(alice == carol, "one shared content for the transaction")
        let stored = alice.first ?? []
        let expectedBody: [UInt8] = Array("From: bob@sender.example\r\nSubject: hi\r\n\r\n.leading dot\r\n..\r\n".utf8)
            + [0xC3, 0xA9, 0x80, 0xFF, 13, 10]
        #expect(Array(stored.suffix(expectedBody.count)) == expectedBody, "body exactly as received, unstuffed, 8-bit clean")
        let headers = text(Array(stored.prefix(stored.count - expectedBody.count)))
        #expect(headers.hasPrefix("Return-Path: <bob@sender.example>\r\nReceived: from client.example.net (127.0.0.1)\r\n"))
        #expect(headers.contains(" with LMTP id "))
        #expect(!headers.contains("Delivered-To"), "no per-recipient header in shared content")
        let ids = try daemon.withStore { store in
            try store.read { tx in
                try ["alice", "carol"].map { name in
                    let a = try tx.requireAccount(named: name)
                    return try tx.messages(in: try tx.requireMailbox(of: a.id, named: "INBOX").id)[0].content
                }
            }
        }
        #expect(ids[0] == ids[1], "content stored once")
        #expect(try daemon.withStore { try $0.checkConsistency() } == [])
    }

    @Test func addressingDetailWholeAddressAndDeliveredTo() async throws {
        let daemon = try await Daemon(users: lmtpUsers)
        defer { daemon.stop() }
        try await daemon.withStoreAsync { store in
            try await store.write { tx in
                let a = try tx.requireAccount(named: "alice")
                _ = try tx.createMailbox(account: a.id, name: "Lists")
            }
        }
        let c = try smtpSession(daemon)
        func deliver(_ to: String, subject: String) {
            #expect(c.ask("MAIL FROM:<>").hasPrefix("250"))
            #expect(c.ask("RCPT TO:<\(to)>").hasPrefix("250 2.1.5"), "RCPT \(to)")
            #expect(c.ask("DATA").hasPrefix("354"))
            c.send("Subject: \(subject)\r\n\r\nx\r\n.\r\n")
            #expect(c.readLine()?.hasPrefix("250 2.0.0") == true)
        }
        deliver("alice+Lists@example.org", subject: "to lists")
        deliver("alice+nosuchbox@example.org", subject: "to inbox")
        deliver("dave@example.org", subject: "whole address")
        let lists = try storedMessages(daemon, "alice", "Lists")
        #expect(lists.count == 1)
        let first = text(lists.first ?? [])
        #expect(first.hasPrefix("Return-Path: <>\r\nDelivered-To: alice+Lists@example.org\r\nReceived: "))
        #expect(first.contains("\tfor <alice+Lists@example.org>; "))
        #expect(text(try storedMessages(daemon, "alice").first ?? []).contains("Subject: to inbox"))
        #expect(text(try storedMessages(daemon, "dave@example.org").first ?? []).contains("Subject: whole address"))
    }

    @Test func quotaAndSizeLimits() async throws {
        let daemon = try await Daemon(users: lmtpUsers)
        defer { daemon.stop() }
        try await daemon.withStoreAsync { store in
            try await store.write { tx in
                try tx.setQuota(try tx.requireAccount(named: "carol").id, Quota(storageBytes: 100))
            }
        }
        let c = try smtpSession(daemon)
        #expect(c.ask("MAIL FROM:<b@x.example> SIZE=67108865").hasPrefix("552 5.3.4"), "SIZE over the limit")
        #expect(c.ask("MAIL FROM:<b@x.example> SIZE=99999999999999999999").hasPrefix("552 5.3.4"))
        #expect(c.ask("MAIL FROM:<b@x.example> SIZE=500").hasPrefix("250"))
        #expect(c.ask("RCPT TO:<carol@example.org>").hasPrefix("452 4.2.2"), "quota is checked at RCPT")
        #expect(c.ask("RCPT TO:<alice@example.org>").hasPrefix("250"))
        #expect(c.ask("DATA").hasPrefix("354"))
        // More than the limit, streamed: the reply comes only after the final dot.
        let line = Array(String(repeating: "x", count: 998).utf8) + [13, 10]
        let block = Array([[UInt8]](repeating: line, count: 1024).joined())
        for _ in 0..<(65 * 1024 * 1024 / block.count + 1) { c.sendBytes(block) }
        c.send(".\r\n")
        #expect(c.readLine()?.hasPrefix("552 5.3.4") == true, "one 552 per recipient")
        #expect(c.ask("NOOP").hasPrefix("250"), "the session goes on")
        #expect(try storedMessages(daemon, "alice").isEmpty)
    }

    /// The server's buffer for incoming messages (`buffered_message_kb`) is shared by all
    /// connections: a message that would pass it gets a temporary refusal, and what a finished
    /// or refused message held is given back.
    @Test func messageBufferIsSharedAndGivenBack() async throws {
        let daemon = try await Daemon(Daemon.Options(limits: "buffered_message_kb = 600\n", extraArguments: ["--metrics", "127.0.0.1:0"]),
                                      users: lmtpUsers)
        defer { daemon.stop() }
        let line = Array(String(repeating: "y", count: 998).utf8) + [13, 10]
        let kib100 = Array([[UInt8]](repeating: line, count: 100).joined())
        // One connection holds 400 KB of a message in progress.
        let holder = try smtpSession(daemon)
        holder.startData(to: "alice@example.org")
        for _ in 0..<4 { holder.sendBytes(kib100) }
        try await Task.sleep(for: .milliseconds(200))  // for the daemon to read them
        // Another's 400 KB message does not fit beside it: 452 after its final dot, per recipient.
        let c = try smtpSession(daemon)
        c.startData(to: "carol@example.org")
        for _ in 0..<4 { c.sendBytes(kib100) }
        c.send(".\r\n")
        #expect(c.readLine()?.hasPrefix("452 4.3.1") == true)
        // BDAT too.
        #expect(c.ask("MAIL FROM:<b@x.example>").hasPrefix("250"))
        #expect(c.ask("RCPT TO:<carol@example.org>").hasPrefix("250"))
        c.command("BDAT \(4 * kib100.count)")
        for _ in 0..<4 { c.sendBytes(kib100) }
        #expect(c.readLine()?.hasPrefix("452 4.3.1") == true)
        #expect(c.ask("RSET").hasPrefix("250"))
        // Once the first message is delivered, its share is free again.
        holder.send(".\r\n")
        #expect(holder.readLine()?.hasPrefix("250") == true)
        c.startData(to: "carol@example.org")
        for _ in 0..<4 { c.sendBytes(kib100) }
        c.send(".\r\n")
        #expect(c.readLine()?.hasPrefix("250") == true)
        #expect(try storedMessages(daemon, "alice").count == 1 && storedMessages(daemon, "carol").count == 1)
        // Operators see the refusals.
        let m = try LineClient(port: daemon.ports["metrics"]!)
        m.send("GET /metrics HTTP/1.1\r\nHost: x\r\n\r\n")
        var body: [String] = []
        while let line = m.readLine() { body.append(line) }
        #expect(body.contains("mstore_message_buffer_refusals_total{protocol=\"lmtp\"} 2"), "\(body.filter { $0.contains("buffer") })")
        #expect(try String(contentsOfFile: daemon.stderrPath, encoding: .utf8).contains("message buffer full"))
    }

    @Test func chunkingWithBDAT() async throws {
        let daemon = try await Daemon(users: lmtpUsers)
        defer { daemon.stop() }
        let c = try smtpSession(daemon)
        // A chunk sent with no transaction is read (and refused) whole: it is not taken as commands.
        c.send("BDAT 12\r\nQUIT\r\nQUIT\r\n")
        #expect(c.readLine()?.hasPrefix("503 5.5.1") == true)
        #expect(c.ask("MAIL FROM:<b@x.example> BODY=BINARYMIME").hasPrefix("250"))
        #expect(c.ask("RCPT TO:<alice@example.org>").hasPrefix("250"))
        #expect(c.ask("RCPT TO:<carol@example.org>").hasPrefix("250"))
        let part1: [UInt8] = Array("Subject: chunks\r\n\r\nline\r\n.\r\n".utf8)
        let part2: [UInt8] = [0, 1, 2, 0xFF, 13, 10, 46, 46, 13, 10]
        c.send("BDAT \(part1.count)\r\n")
        c.sendBytes(part1)
        #expect(c.readLine() == "250 2.0.0 \(part1.count) octets received")
        #expect(c.ask("DATA").hasPrefix("503 5.5.1"), "no DATA after BDAT")
        c.send("BDAT \(part2.count) LAST\r\n")
        c.sendBytes(part2)
        #expect(c.readLine()?.hasPrefix("250 2.0.0 <alice@example.org>") == true)
        #expect(c.readLine()?.hasPrefix("250 2.0.0 <carol@example.org>") == true)
        let stored = try storedMessages(daemon, "alice").first ?? []
        #expect(Array(stored.suffix(part1.count + part2.count)) == part1 + part2, "chunks stored as binary, no unstuffing")
        // BDAT 0 LAST ends a transaction whose data came in earlier chunks.
        #expect(c.ask("MAIL FROM:<b@x.example>").hasPrefix("250"))
        #expect(c.ask("RCPT TO:<carol@example.org>").hasPrefix("250"))
        c.send("BDAT 11\r\nSubject: \r\nBDAT 0 LAST\r\n")
        #expect(c.readLine()?.hasPrefix("250 2.0.0 11 octets") == true)
        #expect(c.readLine()?.hasPrefix("250 2.0.0 <carol@example.org>") == true)
        #expect(try storedMessages(daemon, "carol").count == 2)
    }

    @Test func sequencingAndSyntaxErrors() async throws {
        let daemon = try await Daemon(users: lmtpUsers)
        defer { daemon.stop() }
        let c = try smtpSession(daemon)
        #expect(c.ask("RCPT TO:<alice@example.org>").hasPrefix("503 5.5.1"), "RCPT before MAIL")
        #expect(c.ask("DATA").hasPrefix("503 5.5.1"), "DATA before MAIL")
        #expect(c.ask("FROBNICATE").hasPrefix("500 5.5.1"))
        #expect(c.ask("MAIL FROM:bob@x.example").hasPrefix("501"), "no angle brackets")
        #expect(c.ask("MAIL TO:<bob@x.example>").hasPrefix("501"))
        #expect(c.ask("MAIL FROM:<bob>").hasPrefix("501"), "sender without domain")
        #expect(c.ask("MAIL FROM:<b@x.example> FROB=1").hasPrefix("555 5.5.4"))
        #expect(c.ask("MAIL FROM:<b@x.example> BODY=9BIT").hasPrefix("501 5.5.4"))
        #expect(c.ask("MAIL FROM:<bé@x.example>").hasPrefix("553 5.6.7"), "UTF-8 needs SMTPUTF8")
        #expect(c.ask("MAIL FROM:<bé@x.example> SMTPUTF8").hasPrefix("250"))
        #expect(c.ask("MAIL FROM:<b@x.example>").hasPrefix("503 5.5.1"), "nested MAIL")
        #expect(c.ask("DATA").hasPrefix("503 5.5.1"), "DATA without recipients")
        #expect(c.ask("RCPT TO:<nobody@example.org>").hasPrefix("550 5.1.1"))
        #expect(c.ask("DATA").hasPrefix("503 5.5.1"), "DATA when every recipient was refused")
        #expect(c.ask("RCPT TO:alice").hasPrefix("501"))
        #expect(c.ask("RCPT TO:<alice@example.org> NOTIFY=NEVER").hasPrefix("555 5.5.4"))
        #expect(c.ask("BDAT x").hasPrefix("501"))
        #expect(c.ask("NOOP " + String(repeating: "x", count: 600)).hasPrefix("500 5.5.2"), "over-long command line")
        #expect(c.ask("RSET").hasPrefix("250"), "the session goes on")
        #expect(c.ask("RCPT TO:<alice@example.org>").hasPrefix("503 5.5.1"), "RSET ended the transaction")
        // A message line over the framer's limit ends the session.
        c.startData(to: "alice@example.org")
        c.send(String(repeating: "y", count: 70_000) + "\r\n")
        #expect(c.readLine()?.hasPrefix("500 5.5.2") == true)
        #expect(c.isClosed())
    }

    @Test func dataInPiecesWithBareLineFeedsAndStuffedDots() async throws {
        // The data arrives in blocks of lines: lines, dot-stuffed lines and the final dot split
        // across reads must come out as if read line by line.
        let daemon = try await Daemon(users: lmtpUsers)
        defer { daemon.stop() }
        let c = try smtpSession(daemon)
        c.startData(to: "alice@example.org")
        for piece in ["Subject: pieces\r\n\r\nfirst li", "ne\r\n.", ".stuffed\r\nbare\nlf\n\r", "\n.", "\r\nNOOP\r\n"] {
            c.send(piece)
            usleep(20_000)
        }
        #expect(c.readLine() == "250 2.0.0 <alice@example.org> Delivered")
        #expect(c.readLine()?.hasPrefix("250") == true, "the NOOP after the final dot")
        // Bare line feeds throughout, the final dot's included.
        c.startData(to: "alice@example.org")
        c.send("Subject: bare\n\n..x\n.\n")
        #expect(c.readLine() == "250 2.0.0 <alice@example.org> Delivered")
        let stored = try storedMessages(daemon, "alice").map(text)
        #expect(stored.count == 2)
        #expect(stored.first?.hasSuffix("\r\nSubject: pieces\r\n\r\nfirst line\r\n.stuffed\r\nbare\r\nlf\r\n\r\n") == true,
                "\(stored.first ?? "")")
        #expect(stored.last?.hasSuffix("\r\nSubject: bare\r\n\r\n.x\r\n") == true, "\(stored.last ?? "")")
    }

    @Test func pipelinedGroupsAreAnsweredInOrder() async throws {
        let daemon = try await Daemon(users: lmtpUsers)
        defer { daemon.stop() }
        let c = try LineClient(port: daemon.lmtp)
        _ = c.readLine()
        c.send("LHLO p.example\r\nMAIL FROM:<b@x.example>\r\nRCPT TO:<alice@example.org>\r\nRCPT TO:<nobody@example.org>\r\n"
            + "RCPT TO:<carol@example.org>\r\nDATA\r\n")
        #expect(c.readReply().last?.hasPrefix("250 ") == true, "LHLO answered first")
        let replies = (0..<5).map { _ in c.readLine() ?? "" }
        #expect(replies.map { String($0.prefix(3)) } == ["250", "250", "550", "250", "354"], "\(replies)")
        c.send("Subject: p\r\n\r\nbody\r\n.\r\nMAIL FROM:<b@x.example>\r\nRCPT TO:<carol@example.org>\r\nNOOP\r\nQUIT\r\n")
        let rest = (0..<6).map { _ in c.readLine() ?? "" }
        #expect(rest[0] == "250 2.0.0 <alice@example.org> Delivered")
        #expect(rest[1] == "250 2.0.0 <carol@example.org> Delivered")
        #expect(rest[2...].map { String($0.prefix(3)) } == ["250", "250", "250", "221"], "\(rest)")
        #expect(c.isClosed())
    }

    @Test func smtpRefusesRelayAndAnswersOnce() async throws {
        let daemon = try await Daemon(users: lmtpUsers)
        defer { daemon.stop() }
        let c = try smtpSession(daemon, lmtp: false)
        #expect(c.ask("MAIL FROM:<b@x.example>").hasPrefix("250"))
        #expect(c.ask("RCPT TO:<alice@elsewhere.example>").hasPrefix("550 5.7.1"), "no open relay")
        #expect(c.ask("RCPT TO:<nobody@example.org>").hasPrefix("550 5.1.1"))
        #expect(c.ask("RCPT TO:<alice@example.org>").hasPrefix("250"))
        #expect(c.ask("RCPT TO:<dave@example.org>").hasPrefix("250"))
        #expect(c.ask("DATA").hasPrefix("354"))
        c.send("Subject: smtp\r\n\r\nhello\r\n.\r\n")
        #expect(c.readLine() == "250 2.0.0 Delivered", "one reply for the transaction")
        #expect(c.ask("NOOP").hasPrefix("250"))
        let stored = text(try storedMessages(daemon, "alice").first ?? [])
        #expect(stored.contains(" with ESMTP id "))
        #expect(try storedMessages(daemon, "dave@example.org").count == 1)
    }

    @Test func startTLSRefusesInjectedCommands() async throws {
        let daemon = try await Daemon(users: lmtpUsers)
        defer { daemon.stop() }
        let c = try LineClient(port: daemon.smtp)
        _ = c.readLine()
        c.command("EHLO x.example")
        #expect(c.readReply().contains { $0.dropFirst(4) == "STARTTLS" })
        c.send("STARTTLS\r\nMAIL FROM:<evil@x.example>\r\n")
        #expect(c.readLine()?.hasPrefix("501 5.5.2") == true)
        #expect(c.isClosed())
    }
}

extension Daemon {
    /// Opens the store for an async change (users, quotas, mailboxes) while the daemon runs.
    func withStoreAsync(_ body: (MailStore) async throws -> Void) async throws {
        let store = try MailStore(path: data)
        defer { store.close() }
        try await body(store)
    }
}
