import Foundation
import Testing

/// Transcripts against a real `mstored` for PARTIAL (RFC 9394): paged SEARCH, SORT and FETCH;
/// and UIDONLY (RFC 9586): no sequence numbers either way.
@Suite(.serialized) struct IMAPPagingTests {
    /// Ten messages, UIDs 1 to 10; the even ones flagged.
    static func tenMessages(enable: String? = nil) async throws -> (Daemon, IMAPClient) {
        let messages = (1...10).map { "Subject: message \($0)\r\n\r\nbody \($0)\r\n" }
        let daemon = try await Daemon(messages: ["alice": messages])
        let c = try IMAPClient.login(daemon)
        if let enable { #expect(c.run("ENABLE \(enable)").first == "* ENABLED \(enable)") }
        #expect(tagged(c.run("SELECT INBOX")).contains("OK"))
        return (daemon, c)
    }

    @Test func partialSearchAndSort() async throws {
        let (daemon, c) = try await Self.tenMessages()
        defer { daemon.stop() }
        #expect(c.run("CAPABILITY")[0].contains(" PARTIAL"))
        #expect(tagged(c.run("STORE 2,4,6,8,10 +FLAGS.SILENT (\\Flagged)")).contains("OK"))
        #expect(c.run("UID SEARCH RETURN (PARTIAL 1:3) FLAGGED").first == "* ESEARCH (TAG \"t5\") UID PARTIAL (1:3 2,4,6)")
        // From the end: -1 is the last match; MIN, MAX and COUNT still cover every match.
        #expect(c.run("SEARCH RETURN (MIN COUNT PARTIAL -1:-2) FLAGGED").first
                == "* ESEARCH (TAG \"t6\") MIN 2 COUNT 5 PARTIAL (-1:-2 8,10)")
        // A window past the end holds nothing; reversed bounds are the same window.
        #expect(c.run("UID SEARCH RETURN (PARTIAL 6:10) FLAGGED").first == "* ESEARCH (TAG \"t7\") UID PARTIAL (6:10 NIL)")
        #expect(c.run("SEARCH RETURN (PARTIAL 3:1) ALL").first == "* ESEARCH (TAG \"t8\") PARTIAL (1:3 1:3)")
        // SORT: the window is in sort order ("message 9" ... "message 10", "message 1").
        #expect(c.run("UID SORT RETURN (PARTIAL 1:3) (REVERSE SUBJECT) UTF-8 ALL").first
                == "* ESEARCH (TAG \"t9\") UID PARTIAL (1:3 9,8,7)")
        #expect(c.run("SORT RETURN (PARTIAL -1:-2) (REVERSE SUBJECT) UTF-8 ALL").first
                == "* ESEARCH (TAG \"t10\") PARTIAL (-1:-2 10,1)")
        #expect(tagged(c.run("SEARCH RETURN (ALL PARTIAL 1:2) ALL")).contains("BAD"))
        // SAVE keeps the window the client was shown.
        c.run("UID SEARCH RETURN (SAVE PARTIAL -1:-2) FLAGGED")
        #expect(c.run("UID FETCH $ (UID)").dropLast() == ["* 8 FETCH (UID 8)", "* 10 FETCH (UID 10)"])
    }

    @Test func partialFetch() async throws {
        let (daemon, c) = try await Self.tenMessages()
        defer { daemon.stop() }
        let status = c.run("STATUS INBOX (HIGHESTMODSEQ)").first ?? ""
        let modSeq = status.split(separator: " ").last.map { String($0.dropLast()) } ?? "0"
        #expect(tagged(c.run("STORE 3,5,7 +FLAGS.SILENT (\\Seen)")).contains("OK"))
        #expect(c.run("UID FETCH 1:* (UID) (PARTIAL -1:-2)").dropLast() == ["* 9 FETCH (UID 9)", "* 10 FETCH (UID 10)"])
        #expect(c.run("FETCH 2:8 (UID) (PARTIAL 2:3)").dropLast() == ["* 3 FETCH (UID 3)", "* 4 FETCH (UID 4)"])
        // With CHANGEDSINCE the window is over the changed messages only.
        #expect(c.run("UID FETCH 1:* (FLAGS) (CHANGEDSINCE \(modSeq) PARTIAL 2:5)").dropLast().map { $0.prefix(14) }
                == ["* 5 FETCH (UID", "* 7 FETCH (UID"])
        #expect(tagged(c.run("FETCH 1 (UID) (PARTIAL 1:-2)")).contains("BAD"))
    }

    @Test func uidOnlyRefusesSequenceNumbersAndAnswersByUID() async throws {
        let (daemon, c) = try await Self.tenMessages(enable: "IMAP4rev2 UIDONLY CONDSTORE")
        defer { daemon.stop() }
        #expect(c.run("CAPABILITY")[0].contains(" UIDONLY"))
        for command in ["FETCH 1 (FLAGS)", "STORE 1 +FLAGS (\\Seen)", "COPY 1 INBOX", "MOVE 1 INBOX", "SEARCH ALL",
                        "UID SEARCH 1:3", "UID SEARCH OR UID 1 NOT 2", "SORT (DATE) UTF-8 ALL", "THREAD REFERENCES UTF-8 ALL"] {
            #expect(tagged(c.run(command)).contains("BAD [UIDREQUIRED]"), "\(command)")
        }
        // Answers name the UID; the implicit UID item is not repeated.
        let modSeq = c.run("UID FETCH 3 (MODSEQ)").first ?? ""
        #expect(modSeq.hasPrefix("* 3 UIDFETCH (MODSEQ ("))
        #expect(c.run("UID FETCH 2:3 (FLAGS)").dropLast() == ["* 2 UIDFETCH (FLAGS ())", "* 3 UIDFETCH (FLAGS ())"])
        #expect(c.run("UID FETCH 4 (UID BODY.PEEK[HEADER.FIELDS (SUBJECT)])").first
                == "* 4 UIDFETCH (UID 4 BODY[HEADER.FIELDS (SUBJECT)] {22}\r\nSubject: message 4\r\n\r\n)")
        #expect(c.run("UID STORE 5 +FLAGS (\\Flagged)").first?.hasPrefix("* 5 UIDFETCH (FLAGS (\\Flagged) MODSEQ (") == true)
        #expect(c.run("UID SEARCH RETURN (ALL) FLAGGED").first?.hasSuffix(") UID ALL 5") == true)
        // Another session's flag change and expunge: UIDFETCH and VANISHED, never a sequence number.
        let other = try IMAPClient.login(daemon)
        other.run("SELECT INBOX")
        other.run("STORE 6 +FLAGS (\\Seen)")
        other.run("STORE 7 +FLAGS (\\Deleted)")
        other.run("EXPUNGE")
        let noop = c.run("NOOP")
        #expect(noop.contains { $0.hasPrefix("* 6 UIDFETCH (FLAGS (\\Seen) MODSEQ (") }, "\(noop)")
        #expect(noop.contains("* VANISHED 7"), "\(noop)")
        #expect(!noop.contains { $0.hasSuffix(" EXPUNGE") || $0.contains(" FETCH (") }, "\(noop)")
        #expect(tagged(c.run("UID EXPUNGE 1:*")).contains("OK"))
    }
}
