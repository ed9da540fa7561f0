import Foundation
import Testing

/// Transcripts against a real `mstored` for PARTIAL (RFC 9394): paged SEARCH, SORT and FETCH.
@Suite(.serialized) struct IMAPPagingTests {
    /// Ten messages, UIDs 1 to 10; the even ones flagged.
    static func tenMessages() async throws -> (Daemon, IMAPClient) {
        let messages = (1...10).map { "Subject: message \($0)\r\n\r\nbody \($0)\r\n" }
        let daemon = try await Daemon(messages: ["alice": messages])
        let c = try IMAPClient.login(daemon)
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
}
