import Foundation
import IMAPProtocol
import MailStore
import TestSupport
import Testing

let imapSample = [
    "From: Alice <alice@example.org>\r\nTo: bob@example.org\r\nSubject: first\r\nDate: Mon, 7 Feb 1994 21:52:25 -0800\r\nMessage-ID: <1@example.org>\r\n\r\nHello world\r\n",
    "From: carol@example.org\r\nTo: alice@example.org\r\nSubject: second apple\r\nDate: Tue, 8 Feb 1994 10:00:00 +0000\r\n\r\nBanana split\r\n",
    "From: dave@example.org\r\nSubject: third\r\nMIME-Version: 1.0\r\nContent-Type: multipart/mixed; boundary=b\r\n\r\n--b\r\nContent-Type: text/plain\r\n\r\npart one\r\n--b\r\nContent-Type: application/octet-stream\r\nContent-Transfer-Encoding: base64\r\n\r\nAAEC\r\n--b--\r\n",
]

func tagged(_ lines: [String]) -> String { lines.last ?? "" }

/// How soon a change must reach an idling client for a test to count it as pushed: well under
/// the client's read timeout (so a response held back until the next command fails), and far
/// above the 200 ms change-feed poll, so that a loaded machine does not fail the test. The
/// latency itself is measured in benchmarks, not here.
let promptPush: TimeInterval = 5

@Suite(.serialized) struct IMAPTranscriptTests {
    @Test func greetingCapabilityAndLogin() async throws {
        let daemon = try await Daemon(messages: ["alice": imapSample])
        defer { daemon.stop() }
        let c = try IMAPClient(port: daemon.imap)
        #expect(c.greeting.hasPrefix("* OK [CAPABILITY IMAP4rev2 IMAP4rev1"))
        let caps = c.run("CAPABILITY")
        for cap in ["IMAP4rev2", "IMAP4rev1", "SASL-IR", "LITERAL+", "ID", "ENABLE", "IDLE", "NAMESPACE", "UIDPLUS",
                    "MOVE", "UNSELECT", "CHILDREN", "SPECIAL-USE", "BINARY", "ESEARCH", "AUTH=PLAIN",
                    "AUTH=SCRAM-SHA-256", "STARTTLS"] {
            #expect(caps[0].split(separator: " ").contains(Substring(cap)), "capability \(cap)")
        }
        #expect(!caps[0].contains("LOGINDISABLED"), "loopback may log in in plaintext")
        #expect(tagged(c.run("SELECT INBOX")).contains("BAD"), "SELECT before login")
        #expect(tagged(c.run("LOGIN alice wrong")).contains("NO [AUTHENTICATIONFAILED]"))
        let ok = c.run("LOGIN alice secret")
        #expect(tagged(ok).contains("OK [CAPABILITY IMAP4rev2"))
        #expect(!tagged(ok).contains("AUTH=PLAIN"))
        #expect(tagged(c.run("LOGIN alice secret")).contains("BAD"))
        #expect(c.run("NOOP").last?.hasSuffix("OK NOOP completed.") == true)
        let id = c.run("ID (\"name\" \"test\")")
        #expect(id[0].hasPrefix("* ID ("))
        let logout = c.run("LOGOUT")
        #expect(logout.first == "* BYE Logging out.")
        #expect(tagged(logout).contains("OK"))
        #expect(c.line.isClosed())
    }

    @Test func authenticatePlainWithInitialResponse() async throws {
        let daemon = try await Daemon()
        defer { daemon.stop() }
        let c = try IMAPClient(port: daemon.imap)
        let ir = Data("\0alice\0secret".utf8).base64EncodedString()
        #expect(tagged(c.run("AUTHENTICATE PLAIN \(ir)")).contains("OK"))
        // Without an initial response: a continuation, then the response.
        let d = try IMAPClient(port: daemon.imap)
        d.line.command("a AUTHENTICATE PLAIN")
        #expect(d.line.readLine() == "+ ")
        d.line.command(ir)
        #expect(d.read(until: "a").last?.hasPrefix("a OK") == true)
        // Cancelling.
        let e = try IMAPClient(port: daemon.imap)
        e.line.command("b AUTHENTICATE PLAIN")
        _ = e.line.readLine()
        e.line.command("*")
        #expect(e.read(until: "b").last?.hasPrefix("b BAD") == true)
    }

    @Test func selectExamineAndFetch() async throws {
        let daemon = try await Daemon(messages: ["alice": imapSample])
        defer { daemon.stop() }
        let c = try IMAPClient.login(daemon)
        let select = c.run("SELECT INBOX")
        #expect(select.contains("* 3 EXISTS"))
        #expect(select.contains("* 3 RECENT"), "IMAP4rev1 sessions see \\Recent")
        #expect(select.contains { $0.hasPrefix("* OK [UIDVALIDITY ") })
        #expect(select.contains("* OK [UIDNEXT 4] Predicted next UID."))
        #expect(select.contains { $0.hasPrefix("* FLAGS (\\Seen \\Answered \\Flagged \\Deleted \\Draft") })
        #expect(select.contains { $0.hasPrefix("* OK [PERMANENTFLAGS (") && $0.contains("\\*") })
        #expect(select.contains("* OK [UNSEEN 1] First unseen."))
        #expect(tagged(select).contains("OK [READ-WRITE]"))

        let fast = c.run("FETCH 1:* (UID FLAGS RFC822.SIZE)")
        #expect(fast.count == 4)
        #expect(fast[0] == "* 1 FETCH (UID 1 FLAGS (\\Recent) RFC822.SIZE \(imapSample[0].utf8.count))")

        // Byte-exact BODY.PEEK[].
        let tag = c.nextTag()
        c.line.command("\(tag) FETCH 2 (BODY.PEEK[])")
        #expect(c.literalBytes(after: "* 2 FETCH (BODY[] {") == Array(imapSample[1].utf8))
        #expect(c.line.readLine() == ")")
        #expect(c.read(until: tag).last?.hasPrefix("\(tag) OK") == true)

        let headerFields = c.run("FETCH 1 (BODY.PEEK[HEADER.FIELDS (SUBJECT)])")
        #expect(headerFields[0] == "* 1 FETCH (BODY[HEADER.FIELDS (SUBJECT)] {18}\r\nSubject: first\r\n\r\n)")
        let part = c.run("FETCH 3 (BODY.PEEK[1] BINARY.PEEK[2] BINARY.SIZE[2])")
        #expect(part[0].contains("BODY[1] {8}\r\npart one"))
        #expect(part[0].contains("BINARY[2] ~{3}\r\n\u{0}\u{1}\u{2}"))
        #expect(part[0].contains("BINARY.SIZE[2] 3"))
        let envelope = c.run("FETCH 1 (ENVELOPE)")
        #expect(envelope[0].contains("\"first\""))
        #expect(envelope[0].contains("<1@example.org>"))
        let structure = c.run("FETCH 3 (BODYSTRUCTURE)")
        #expect(structure[0].uppercased().contains("\"MIXED\""))
        let partial = c.run("FETCH 1 (BODY.PEEK[TEXT]<0.5>)")
        #expect(partial[0] == "* 1 FETCH (BODY[TEXT]<0> {5}\r\nHello)")

        // PEEK leaves \Seen alone; BODY[] sets it and says so.
        #expect(c.run("FETCH 1 (FLAGS)")[0] == "* 1 FETCH (FLAGS (\\Recent))")
        let seen = c.run("FETCH 1 (BODY[TEXT])")
        #expect(seen[0].contains("FLAGS (\\Seen \\Recent)"))
        #expect(c.run("FETCH 1 (FLAGS)")[0] == "* 1 FETCH (FLAGS (\\Seen \\Recent))")

        // EXAMINE is read-only: a non-PEEK fetch sets nothing.
        let examine = c.run("EXAMINE INBOX")
        #expect(tagged(examine).contains("OK [READ-ONLY]"))
        #expect(c.run("FETCH 2 (BODY[TEXT])")[0] == "* 2 FETCH (BODY[TEXT] {14}\r\nBanana split\r\n)")
        #expect(c.run("FETCH 2 (FLAGS)")[0] == "* 2 FETCH (FLAGS ())")
        #expect(tagged(c.run("STORE 2 +FLAGS (\\Flagged)")).contains("NO"))

        #expect(tagged(c.run("FETCH 9 FLAGS")).contains("BAD"), "sequence number out of range")
        #expect(c.run("UID FETCH 9 FLAGS").count == 1, "UID out of range is just left out")
        #expect(tagged(c.run("FETCH 1 (NOSUCHITEM)")).contains("BAD"))
        #expect(c.run("NOOP").last?.contains("OK") == true, "the session goes on after BAD")
    }

    @Test func storeFlagsAndKeywords() async throws {
        let daemon = try await Daemon(messages: ["alice": imapSample])
        defer { daemon.stop() }
        let c = try IMAPClient.login(daemon)
        c.run("ENABLE IMAP4rev2")
        c.run("SELECT INBOX")
        #expect(c.run("STORE 1 +FLAGS (\\Flagged $Forwarded)")[0] == "* 1 FETCH (UID 1 FLAGS (\\Flagged $Forwarded))")
        #expect(c.run("STORE 1 -FLAGS (\\Flagged)")[0] == "* 1 FETCH (UID 1 FLAGS ($Forwarded))")
        #expect(c.run("STORE 1:2 FLAGS.SILENT (\\Seen)").count == 1)
        #expect(c.run("UID STORE 2 +FLAGS (\\Answered)")[0] == "* 2 FETCH (UID 2 FLAGS (\\Seen \\Answered))")
        #expect(c.run("FETCH 1:2 FLAGS").prefix(2) == ["* 1 FETCH (FLAGS (\\Seen))", "* 2 FETCH (FLAGS (\\Seen \\Answered))"])
        #expect(tagged(c.run("STORE 1 +FLAGS (\\Bogus)")).contains("BAD"))
        #expect(tagged(c.run("STORE 1 +FLAGS (\\Recent)")).contains("OK [CLIENTBUG]"))
        // The new keyword shows in FLAGS at the next SELECT.
        c.run("STORE 1 +FLAGS ($Label1)")
        #expect(c.run("SELECT INBOX").contains { $0.hasPrefix("* FLAGS (") && $0.contains("$Label1") })
    }

    @Test func appendCopyMoveExpunge() async throws {
        let daemon = try await Daemon(messages: ["alice": imapSample])
        defer { daemon.stop() }
        let c = try IMAPClient.login(daemon)
        #expect(tagged(c.run("CREATE Archive")).contains("OK"))
        let appended = c.append("Archive", "Subject: appended\r\n\r\nbody\r\n", flags: "\\Seen $Work")
        #expect(tagged(appended).contains("OK [APPENDUID "))
        #expect(tagged(appended).hasSuffix(" 1] APPEND completed."))
        #expect(tagged(c.append("Nowhere", "Subject: x\r\n\r\ny\r\n")).contains("NO [TRYCREATE]"))
        // LITERAL+: no continuation.
        let msg = "Subject: plus\r\n\r\nz\r\n"
        c.line.send("p1 APPEND Archive {\(msg.utf8.count)+}\r\n\(msg)\r\n")
        #expect(c.read(until: "p1").last?.contains("OK [APPENDUID") == true)

        c.run("SELECT INBOX")
        let copy = c.run("COPY 1:2 Archive")
        #expect(tagged(copy).contains("OK [COPYUID "))
        #expect(tagged(copy).contains(" 1:2 3:4]"))
        #expect(tagged(c.run("COPY 1 Nowhere")).contains("NO [TRYCREATE]"))
        let move = c.run("MOVE 2 Archive")
        #expect(move.contains { $0.hasPrefix("* OK [COPYUID ") && $0.contains(" 2 5]") })
        #expect(move.contains("* 2 EXPUNGE"))
        #expect(tagged(move).contains("OK"))
        c.run("STORE 1 +FLAGS.SILENT (\\Deleted)")
        let expunge = c.run("EXPUNGE")
        #expect(expunge.first == "* 1 EXPUNGE")
        #expect(c.run("FETCH 1:* UID").first == "* 1 FETCH (UID 3)")
        let status = c.run("STATUS Archive (MESSAGES UIDNEXT UNSEEN)")
        #expect(status[0] == "* STATUS Archive (MESSAGES 5 UIDNEXT 6 UNSEEN 4)")
        // UID EXPUNGE takes only the named \Deleted messages.
        c.run("SELECT Archive")
        c.run("STORE 1:2 +FLAGS.SILENT (\\Deleted)")
        #expect(c.run("UID EXPUNGE 2").first == "* 2 EXPUNGE")
        #expect(c.run("FETCH 1:* UID").count == 5)
        // CLOSE expunges silently.
        let close = c.run("CLOSE")
        #expect(close.count == 1 && close[0].hasSuffix("OK CLOSE completed."))
        #expect(c.run("STATUS Archive (MESSAGES)")[0] == "* STATUS Archive (MESSAGES 3)")
    }

    @Test func searchKeysAndESEARCH() async throws {
        let daemon = try await Daemon(messages: ["alice": imapSample])
        defer { daemon.stop() }
        let c = try IMAPClient.login(daemon)
        c.run("SELECT INBOX")
        c.run("STORE 2 +FLAGS.SILENT (\\Flagged)")
        #expect(c.run("SEARCH ALL")[0] == "* SEARCH 1 2 3")
        #expect(c.run("SEARCH FLAGGED")[0] == "* SEARCH 2")
        #expect(c.run("SEARCH UNFLAGGED")[0] == "* SEARCH 1 3")
        #expect(c.run("SEARCH SUBJECT apple")[0] == "* SEARCH 2")
        #expect(c.run("SEARCH FROM carol")[0] == "* SEARCH 2")
        #expect(c.run("SEARCH BODY banana")[0] == "* SEARCH 2")
        #expect(c.run("SEARCH TEXT \"part one\"")[0] == "* SEARCH 3")
        #expect(c.run("SEARCH OR SUBJECT first SUBJECT third")[0] == "* SEARCH 1 3")
        #expect(c.run("SEARCH NOT SUBJECT first")[0] == "* SEARCH 2 3")
        #expect(c.run("SEARCH HEADER Message-ID <1@example.org>")[0] == "* SEARCH 1")
        #expect(c.run("SEARCH SENTBEFORE 8-Feb-1994")[0] == "* SEARCH 1")
        #expect(c.run("SEARCH SENTON 8-Feb-1994")[0] == "* SEARCH 2")
        #expect(c.run("SEARCH LARGER 200")[0] == "* SEARCH 3")
        #expect(c.run("SEARCH 2:3 UNFLAGGED")[0] == "* SEARCH 3")
        #expect(c.run("UID SEARCH UID 2:*")[0] == "* SEARCH 2 3")
        #expect(c.run("SEARCH CHARSET UTF-8 SUBJECT second")[0] == "* SEARCH 2")
        #expect(tagged(c.run("SEARCH CHARSET KOI8-R SUBJECT x")).contains("NO [BADCHARSET"))
        #expect(c.run("SEARCH RETURN (MIN MAX COUNT) ALL")[0].hasSuffix(" MIN 1 MAX 3 COUNT 3"))
        c.run("ENABLE IMAP4rev2")
        let es = c.run("UID SEARCH SUBJECT r")
        #expect(es[0].hasPrefix("* ESEARCH (TAG \"") && es[0].hasSuffix("\") UID ALL 1,3"))
        #expect(tagged(c.run("SEARCH FOO")).contains("BAD"))
    }

    @Test func mailboxCommands() async throws {
        let daemon = try await Daemon()
        defer { daemon.stop() }
        let c = try IMAPClient.login(daemon)
        #expect(c.run("LIST \"\" \"\"")[0] == "* LIST (\\Noselect) \"/\" \"\"")
        #expect(tagged(c.run("CREATE Work/Projects")).contains("OK"))
        #expect(tagged(c.run("CREATE Work")).contains("NO [ALREADYEXISTS]"))
        #expect(tagged(c.run("CREATE \"Sent Items\" (USE (\\Sent))")).contains("OK"))
        #expect(tagged(c.run("CREATE &ZeVnLIqe-")).contains("OK"), "modified UTF-7 name")
        #expect(tagged(c.run("CREATE &Jjo")).contains("NO [CANNOT]"), "unterminated modified UTF-7")
        let list = c.run("LIST \"\" *")
        #expect(list.contains("* LIST (\\HasNoChildren) \"/\" INBOX"))
        #expect(list.contains("* LIST (\\HasChildren) \"/\" Work"))
        #expect(list.contains("* LIST (\\HasNoChildren) \"/\" Work/Projects"))
        #expect(list.contains("* LIST (\\HasNoChildren \\Sent) \"/\" \"Sent Items\""))
        #expect(list.contains("* LIST (\\HasNoChildren) \"/\" &ZeVnLIqe-"))
        #expect(c.run("LIST \"\" %").count == 5, "% stops at the separator")
        #expect(c.run("LIST \"\" inbox")[0].hasSuffix("INBOX"), "INBOX is case-insensitive")
        #expect(c.run("LIST (SPECIAL-USE) \"\" *")[0] == "* LIST (\\HasNoChildren \\Sent) \"/\" \"Sent Items\"")
        c.run("ENABLE UTF8=ACCEPT")
        #expect(c.run("LIST \"\" \"日本語\"").first == "* LIST (\\HasNoChildren) \"/\" \"日本語\"")

        #expect(tagged(c.run("SUBSCRIBE Work")).contains("OK"))
        #expect(c.run("LSUB \"\" *")[0] == "* LSUB () \"/\" Work")
        #expect(tagged(c.run("UNSUBSCRIBE Work")).contains("OK"))
        #expect(c.run("LSUB \"\" *").count == 1)
        #expect(tagged(c.run("RENAME Work Play")).contains("OK"))
        #expect(c.run("LIST \"\" Play/*")[0].hasSuffix("Play/Projects"))
        #expect(tagged(c.run("DELETE Nothing")).contains("NO [NONEXISTENT]"))
        #expect(tagged(c.run("DELETE INBOX")).contains("NO [CANNOT]"))
        #expect(tagged(c.run("SELECT Nothing")).contains("NO [NONEXISTENT]"))
        #expect(c.run("NAMESPACE")[0] == "* NAMESPACE ((\"\" \"/\")) NIL NIL")
        #expect(tagged(c.run("STATUS Play/Projects (MESSAGES UIDVALIDITY)")).contains("OK"))
    }

    @Test func twoSessionsStayConsistent() async throws {
        let daemon = try await Daemon(messages: ["alice": imapSample])
        defer { daemon.stop() }
        let a = try IMAPClient.login(daemon)
        let b = try IMAPClient.login(daemon)
        a.run("SELECT INBOX")
        b.run("SELECT INBOX")
        b.run("STORE 1 +FLAGS.SILENT (\\Deleted)")
        b.run("EXPUNGE")
        b.run("STORE 2 +FLAGS.SILENT (\\Flagged)")
        // A's FETCH must not renumber: no EXPUNGE while it answers, message 1 still maps.
        let fetch = a.run("FETCH 1:3 UID")
        #expect(!fetch.contains { $0.hasSuffix("EXPUNGE") })
        #expect(tagged(fetch).contains("NO [EXPUNGEISSUED]"), "message 1 is gone: its data cannot be sent")
        #expect(fetch.contains("* 2 FETCH (UID 2)"))
        // The expunge and the flag change arrive at the next NOOP.
        let noop = a.run("NOOP")
        #expect(noop.contains("* 1 EXPUNGE"))
        // B's flag change is announced with A's numbers, before the EXPUNGE renumbers.
        #expect((fetch + noop).contains("* 3 FETCH (UID 3 FLAGS (\\Flagged \\Recent))"), "the flag change B made")
        #expect(a.run("FETCH 1:* UID").prefix(2) == ["* 1 FETCH (UID 2)", "* 2 FETCH (UID 3)"])
        // New mail appears as EXISTS.
        b.append("INBOX", "Subject: new\r\n\r\nnew\r\n")
        #expect(a.run("NOOP").contains("* 3 EXISTS"))
    }

    @Test func idleWakesOnChangesFromOtherSessionsAndProcesses() async throws {
        let daemon = try await Daemon(messages: ["alice": imapSample])
        defer { daemon.stop() }
        let a = try IMAPClient.login(daemon)
        a.run("SELECT INBOX")
        a.line.command("i1 IDLE")
        #expect(a.line.readLine()?.hasPrefix("+") == true)
        let b = try IMAPClient.login(daemon)
        let start = Date()
        b.append("INBOX", "Subject: during idle\r\n\r\nx\r\n")
        #expect(a.line.readLine() == "* 4 EXISTS")
        #expect(Date().timeIntervalSince(start) < promptPush)
        // Another process: a delivery through the CLI.
        let cli = try runProcess(productPath("mstore"), ["deliver", "alice", "--data", daemon.data],
                                 input: Array("Subject: from cli\r\n\r\ny\r\n".utf8))
        #expect(cli.status == 0, "\(cli.err)")
        let cliDone = Date()
        var sawExists = false
        while let l = a.line.readLine() {
            if l == "* 5 EXISTS" { sawExists = true; break }
        }
        #expect(sawExists)
        #expect(Date().timeIntervalSince(cliDone) < promptPush)
        a.line.command("DONE")
        #expect(a.read(until: "i1").last == "i1 OK IDLE terminated.")
    }

    @Test func hostileInput() async throws {
        let daemon = try await Daemon(messages: ["alice": imapSample])
        defer { daemon.stop() }
        let c = try IMAPClient.login(daemon)
        // A literal above APPENDLIMIT is refused before its bytes are read.
        c.line.command("x1 APPEND INBOX {99999999999}")
        #expect(c.line.readLine()?.hasPrefix("x1 NO [TOOBIG]") == true)
        #expect(tagged(c.run("NOOP")).contains("OK"))
        c.line.command("x2 LOGIN {70000}")
        #expect(c.line.readLine()?.hasPrefix("x2 ") == true)
        #expect(tagged(c.run("NOOP")).contains("OK"))
        // Unterminated quoted string, binary junk: BAD, and the session goes on.
        #expect(tagged(c.run("SELECT \"INBOX")).contains("BAD"))
        c.line.sendBytes([0x78, 0x33, 0x20, 0x00, 0xFF, 0xFE, 0x01, 0x0D, 0x0A])
        #expect(c.line.readLine()?.contains("BAD") == true)
        #expect(tagged(c.run("NOOP")).contains("OK"))
        // Deep nesting.
        #expect(tagged(c.run("SEARCH " + String(repeating: "(", count: 200) + "ALL" + String(repeating: ")", count: 200))).contains("BAD"))
        // A line over the limit ends the connection with BYE; other sessions go on.
        let other = try IMAPClient.login(daemon)
        c.line.send(String(repeating: "a", count: 70 * 1024) + "\r\n")
        #expect(c.line.readLine()?.hasPrefix("* BYE") == true)
        #expect(tagged(other.run("NOOP")).contains("OK"))
        // IDLE without DONE: the other session still works.
        let idler = try IMAPClient.login(daemon)
        idler.run("SELECT INBOX")
        idler.line.command("i IDLE")
        _ = idler.line.readLine()
        #expect(tagged(other.run("SELECT INBOX")).contains("OK"))
    }

    /// APPEND literals take the server's shared buffer for incoming mail (`buffered_message_kb`)
    /// when announced: one that does not fit is refused before it is sent, and a finished
    /// command gives its share back.
    @Test func appendLiteralsShareTheMessageBuffer() async throws {
        let daemon = try await Daemon(Daemon.Options(limits: "buffered_message_kb = 600\n"), messages: ["alice": imapSample])
        defer { daemon.stop() }
        let message = "Subject: big\r\n\r\n" + String(repeating: "z", count: 399_982) + "\r\n"
        let a = try IMAPClient.login(daemon), b = try IMAPClient.login(daemon)
        a.line.command("a1 APPEND INBOX {\(message.utf8.count)}")
        #expect(a.line.readLine()?.hasPrefix("+") == true)
        a.line.send(String(message.prefix(1000)))
        b.line.command("b1 APPEND INBOX {300000}")
        #expect(b.line.readLine()?.hasPrefix("b1 NO [LIMIT]") == true, "refused before its bytes are sent")
        #expect(tagged(b.run("NOOP")).contains("OK"))
        a.line.send(String(message.dropFirst(1000)) + "\r\n")
        #expect(a.read(until: "a1").last?.hasPrefix("a1 OK") == true)
        b.line.command("b2 APPEND INBOX {\(message.utf8.count)}")
        #expect(b.line.readLine()?.hasPrefix("+") == true, "a finished APPEND gave its share back")
        b.line.send(message + "\r\n")
        #expect(b.read(until: "b2").last?.hasPrefix("b2 OK") == true)
    }

    /// One client address gets at most `buffered_message_per_ip_kb` of that buffer, so that it
    /// cannot take the whole of it from the others.
    @Test func oneAddressGetsItsShareOfTheMessageBuffer() async throws {
        let daemon = try await Daemon(Daemon.Options(limits: "buffered_message_kb = 100000\nbuffered_message_per_ip_kb = 300\n"),
                                      messages: ["alice": imapSample])
        defer { daemon.stop() }
        let c = try IMAPClient.login(daemon)
        c.line.command("a1 APPEND INBOX {400000}")
        #expect(c.line.readLine()?.hasPrefix("a1 NO [LIMIT]") == true, "over the address's share, though the server has room")
        let message = "Subject: fits\r\n\r\n" + String(repeating: "f", count: 199_983) + "\r\n"
        c.line.command("a2 APPEND INBOX {\(message.utf8.count)}")
        #expect(c.line.readLine()?.hasPrefix("+") == true)
        c.line.send(message + "\r\n")
        #expect(c.read(until: "a2").last?.hasPrefix("a2 OK") == true)
    }

    /// A literal whose bytes stop coming ends the connection after `literal_idle_seconds`,
    /// however long the session's own idle timeout; one that keeps coming slowly does not.
    @Test func stalledLiteralEndsTheConnection() async throws {
        let daemon = try await Daemon(Daemon.Options(limits: "literal_idle_seconds = 1\n"), messages: ["alice": imapSample])
        defer { daemon.stop() }
        let slow = try IMAPClient.login(daemon)
        let piece = "Subject: slow\r\n\r\n" + String(repeating: "s", count: 20)  // 37 bytes
        slow.line.command("s1 APPEND INBOX {\(4 * piece.utf8.count)}")
        #expect(slow.line.readLine()?.hasPrefix("+") == true)
        for _ in 0..<4 {
            slow.line.send(piece)
            try await Task.sleep(for: .milliseconds(500))
        }
        slow.line.send("\r\n")
        #expect(slow.read(until: "s1").last?.hasPrefix("s1 OK") == true, "2 s in all, but never 1 s without bytes")
        let stalled = try IMAPClient.login(daemon)
        stalled.line.command("t1 APPEND INBOX {100}")
        #expect(stalled.line.readLine()?.hasPrefix("+") == true)
        stalled.line.send("Subject: stalled\r\n")
        let started = ContinuousClock.now
        #expect(stalled.line.readLine()?.hasPrefix("* BYE Timed out waiting for literal data") == true)
        #expect(ContinuousClock.now - started < .seconds(5))
    }

    @Test func limits() async throws {
        let daemon = try await Daemon(messages: ["alice": imapSample])
        defer { daemon.stop() }
        let c = try IMAPClient.login(daemon)
        c.run("SELECT INBOX")
        // Sequence sets: IMAPLimits.maxSequenceRanges.
        let many = Array(repeating: "1", count: IMAPLimits.maxSequenceRanges + 1).joined(separator: ",")
        #expect(tagged(c.run("FETCH \(many) FLAGS")).contains("BAD"))
        let fine = Array(repeating: "1", count: 100).joined(separator: ",")
        #expect(c.run("FETCH \(fine) UID").count == 2, "repeats collapse to one answer")
        // Nesting: IMAPLimits.maxNestingDepth.
        let depth = IMAPLimits.maxNestingDepth
        #expect(tagged(c.run("SEARCH " + String(repeating: "(", count: depth + 1) + "ALL" + String(repeating: ")", count: depth + 1))).contains("BAD"))
        #expect(tagged(c.run("SEARCH " + String(repeating: "(", count: 4) + "ALL" + String(repeating: ")", count: 4))).contains("OK"))
        // A literal outside APPEND: IMAPLimits.maxCommandLiteralSize.
        c.line.command("l1 LOGIN {\(IMAPLimits.maxCommandLiteralSize + 1)}")
        #expect(c.line.readLine() == "l1 NO [TOOBIG] Literal too large")
        // APPEND: IMAPLimits.maxLiteralSize, refused before any byte is sent.
        c.line.command("l2 APPEND INBOX {\(IMAPLimits.maxLiteralSize + 1)}")
        #expect(c.line.readLine() == "l2 NO [TOOBIG] Literal too large")
        // A non-synchronizing literal that is too large: the bytes would follow, so BYE.
        let d = try IMAPClient.login(daemon)
        d.line.command("l3 APPEND INBOX {\(IMAPLimits.maxLiteralSize + 1)+}")
        #expect(d.line.readLine()?.hasPrefix("* BYE [TOOBIG]") == true)
        #expect(d.line.isClosed())
        // Pipelining: commands run one at a time (IMAPLimits.maxCommandsInFlight), in order.
        let count = 2000
        c.line.send((1...count).map { "p\($0) NOOP\r\n" }.joined())
        var answered = 0
        while answered < count, let l = c.line.readLine() {
            if l.hasPrefix("p") {
                answered += 1
                if l != "p\(answered) OK NOOP completed." { break }
            }
        }
        #expect(answered == count)
    }

    @Test func startTLSWithPipelinedCommandIsRefused() async throws {
        let daemon = try await Daemon()
        defer { daemon.stop() }
        let c = try IMAPClient(port: daemon.imap)
        // The injection: a command after STARTTLS in the same packet must never run.
        c.line.send("s1 STARTTLS\r\ns2 CAPABILITY\r\n")
        #expect(c.line.readLine()?.hasPrefix("* BYE") == true)
        #expect(c.line.isClosed())
        let d = try IMAPClient(port: daemon.imap)
        #expect(tagged(d.run("STARTTLS")).hasSuffix("OK Begin TLS negotiation now."))
    }

    @Test func idleTimeoutLogsOut() async throws {
        let daemon = try await Daemon(Daemon.Options(limits: "imap_idle_seconds = 1\n"))
        defer { daemon.stop() }
        let c = try IMAPClient.login(daemon)
        #expect(c.line.readLine() == "* BYE Disconnected for inactivity.")
        #expect(c.line.isClosed())
    }

    @Test func withoutTLSNoStartTLS() async throws {
        let daemon = try await Daemon(Daemon.Options(tls: false))
        defer { daemon.stop() }
        let c = try IMAPClient(port: daemon.imap)
        #expect(!c.greeting.contains("STARTTLS"))
        #expect(tagged(c.run("STARTTLS")).contains("BAD"))
    }

    @Test func overQuotaAppendAndCopy() async throws {
        let daemon = try await Daemon(messages: ["alice": imapSample])
        defer { daemon.stop() }
        let used = imapSample.reduce(0) { $0 + $1.utf8.count }
        let cli = try runProcess(productPath("mstore"), ["user", "quota", "alice", "--storage", "\(used + 50)", "--data", daemon.data])
        #expect(cli.status == 0, "\(cli.err)")
        let c = try IMAPClient.login(daemon)
        #expect(tagged(c.append("INBOX", "Subject: small\r\n\r\nx\r\n")).contains("OK [APPENDUID"))
        #expect(tagged(c.append("INBOX", "Subject: big\r\n\r\n" + String(repeating: "y", count: 200) + "\r\n")).contains("NO [OVERQUOTA]"))
        c.run("SELECT INBOX")
        c.run("CREATE Other")
        #expect(tagged(c.run("COPY 1:* Other")).contains("NO [OVERQUOTA]"))
    }

    @Test func sigtermSaysByeAndKeepsEverything() async throws {
        let daemon = try await Daemon(messages: ["alice": imapSample])
        let c = try IMAPClient.login(daemon)
        c.run("SELECT INBOX")
        c.run("STORE 1 +FLAGS.SILENT (\\Deleted)")
        #expect(daemon.stop() == 0, "exits 0 on SIGTERM")
        #expect(c.line.readLine() == "* BYE [UNAVAILABLE] Server shutting down.")
        #expect(c.line.isClosed())
        // No EXPUNGE or CLOSE ran: all three messages are still there.
        let count = try daemon.withStore { store in
            try store.read { tx in try tx.requireMailbox(of: try tx.requireAccount(named: "alice").id, named: "INBOX").messages }
        }
        #expect(count == 3)
    }
}
