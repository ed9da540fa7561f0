import Foundation
import TestSupport
import Testing

/// Transcripts against a real `mstored` for CONTEXT=SEARCH and CONTEXT=SORT (RFC 5267 §4):
/// searches kept current with ADDTO and REMOVEFROM while another session changes the mailbox.
/// The SEARCH transcript is the one Dovecot 2.3 gives for the same steps.
@Suite(.serialized) struct IMAPContextTests {
    static func message(_ subject: String) -> String { "Subject: \(subject)\r\nFrom: a@example.org\r\n\r\nbody\r\n" }

    /// The tag of a command's answer.
    static func tagOf(_ lines: [String]) -> String { String(tagged(lines).prefix { $0 != " " }) }

    @Test func searchUpdatesFollowOtherSessions() async throws {
        let daemon = try await Daemon(messages: ["alice": ["foo one", "bar two", "foo three", "baz four"].map(Self.message)])
        defer { daemon.stop() }
        let a = try IMAPClient.login(daemon), b = try IMAPClient.login(daemon)
        a.run("ENABLE IMAP4rev2")
        a.run("SELECT INBOX")
        b.run("SELECT INBOX")
        #expect(a.run("CAPABILITY")[0].contains(" CONTEXT=SEARCH CONTEXT=SORT"))

        // UPDATE alone answers with the tag only; with COUNT, the count; CONTEXT alone is ALL.
        let foo = a.run("UID SEARCH RETURN (UPDATE) SUBJECT foo"), t1 = Self.tagOf(foo)
        #expect(foo == ["* ESEARCH (TAG \"\(t1)\") UID", "\(t1) OK UID SEARCH completed."])
        let count = a.run("SEARCH RETURN (UPDATE COUNT) SUBJECT foo"), t2 = Self.tagOf(count)
        #expect(count[0] == "* ESEARCH (TAG \"\(t2)\") COUNT 2")
        let unseen = a.run("UID SEARCH RETURN (UPDATE) UNSEEN"), t3 = Self.tagOf(unseen)
        let hint = a.run("UID SEARCH RETURN (CONTEXT) SUBJECT bar")
        #expect(hint[0] == "* ESEARCH (TAG \"\(Self.tagOf(hint))\") UID ALL 2")

        // New messages: after EXISTS, ADDTO by UID or by sequence number, position 0.
        b.append("INBOX", Self.message("foo five"))
        b.append("INBOX", Self.message("zzz six"))
        var noop = a.run("NOOP")
        #expect(Array(noop.dropLast()) == ["* 6 EXISTS",
                                           "* ESEARCH (TAG \"\(t1)\") UID ADDTO (0 5)",
                                           "* ESEARCH (TAG \"\(t2)\") ADDTO (0 5)",
                                           "* ESEARCH (TAG \"\(t3)\") UID ADDTO (0 5:6)"])
        // A flag change: the FETCH, then REMOVEFROM for the search it leaves.
        b.run("STORE 1 +FLAGS (\\Seen)")
        noop = a.run("NOOP")
        #expect(Array(noop.dropLast()) == ["* 1 FETCH (UID 1 FLAGS (\\Seen))",
                                           "* ESEARCH (TAG \"\(t3)\") UID REMOVEFROM (0 1)"])
        // An expunge: REMOVEFROM (with the sequence number it had) before the EXPUNGE.
        b.run("STORE 3 +FLAGS (\\Deleted)")
        b.run("EXPUNGE")
        noop = a.run("NOOP")
        #expect(Array(noop.dropLast()) == ["* ESEARCH (TAG \"\(t1)\") UID REMOVEFROM (0 3)",
                                           "* ESEARCH (TAG \"\(t2)\") REMOVEFROM (0 3)",
                                           "* ESEARCH (TAG \"\(t3)\") UID REMOVEFROM (0 3)",
                                           "* 3 EXPUNGE"])

        // CANCELUPDATE stops one; an unknown tag is refused, no tag at all is BAD.
        #expect(tagged(a.run("CANCELUPDATE \"\(t1)\"")).contains("OK CANCELUPDATE completed."))
        #expect(tagged(a.run("CANCELUPDATE \"nosuch\"")).contains(" NO "))
        #expect(tagged(a.run("CANCELUPDATE")).contains(" BAD "))
        b.append("INBOX", Self.message("foo seven"))
        noop = a.run("NOOP")
        #expect(Array(noop.dropLast()) == ["* 6 EXISTS",
                                           "* ESEARCH (TAG \"\(t2)\") ADDTO (0 6)",
                                           "* ESEARCH (TAG \"\(t3)\") UID ADDTO (0 7)"])

        // During IDLE the updates come unasked.
        a.line.command("i1 IDLE")
        #expect(a.line.readLine()?.hasPrefix("+") == true)
        b.append("INBOX", Self.message("foo eight"))
        #expect(a.line.readLine() == "* 7 EXISTS")
        #expect(a.line.readLine() == "* ESEARCH (TAG \"\(t2)\") ADDTO (0 7)")
        #expect(a.line.readLine() == "* ESEARCH (TAG \"\(t3)\") UID ADDTO (0 8)")
        a.line.command("DONE")
        #expect(a.read(until: "i1").last == "i1 OK IDLE terminated.")

        // The updates end with the selection.
        a.run("UNSELECT")
        a.run("SELECT INBOX")
        b.append("INBOX", Self.message("foo nine"))
        noop = a.run("NOOP")
        #expect(Array(noop.dropLast()) == ["* 8 EXISTS"])
        #expect(tagged(a.run("CANCELUPDATE \"\(t2)\"")).contains(" NO "))
    }

    @Test func sortUpdatesKeepTheOrder() async throws {
        let daemon = try await Daemon(messages: ["alice": ["b", "d"].map(Self.message)])
        defer { daemon.stop() }
        let a = try IMAPClient.login(daemon), b = try IMAPClient.login(daemon)
        a.run("ENABLE IMAP4rev2")
        a.run("SELECT INBOX")
        b.run("SELECT INBOX")
        let sorted = a.run("UID SORT RETURN (ALL UPDATE) (SUBJECT) UTF-8 ALL"), t1 = Self.tagOf(sorted)
        #expect(sorted[0] == "* ESEARCH (TAG \"\(t1)\") UID ALL 1:2")
        let bySeq = a.run("SORT RETURN (UPDATE) (REVERSE SUBJECT) UTF-8 UNSEEN"), t2 = Self.tagOf(bySeq)

        // a, c and e arrive: each goes in at its place, applied in order b d → a b c d e.
        for subject in ["a", "c", "e"] { b.append("INBOX", Self.message(subject)) }
        var noop = a.run("NOOP")
        #expect(Array(noop.dropLast()) == ["* 5 EXISTS",
                                           "* ESEARCH (TAG \"\(t1)\") UID ADDTO (1 3 3 4 5 5)",
                                           "* ESEARCH (TAG \"\(t2)\") ADDTO (1 5 3 4 5 3)"])
        // b and c go: removed from the last position back, a b c d e → a d e.
        b.run("UID STORE 1,4 +FLAGS (\\Deleted)")
        b.run("EXPUNGE")
        noop = a.run("NOOP")
        #expect(Array(noop.dropLast()) == ["* ESEARCH (TAG \"\(t1)\") UID REMOVEFROM (3 4 2 1)",
                                           "* ESEARCH (TAG \"\(t2)\") REMOVEFROM (4 1 3 4)",
                                           "* 4 EXPUNGE", "* 1 EXPUNGE"])
        // d is read: it leaves the UNSEEN sort only.
        b.run("UID STORE 2 +FLAGS (\\Seen)")
        noop = a.run("NOOP")
        #expect(Array(noop.dropLast()) == ["* 1 FETCH (UID 2 FLAGS (\\Seen))",
                                           "* ESEARCH (TAG \"\(t2)\") REMOVEFROM (2 1)"])
        // What the client built from the updates is what a fresh SORT says.
        let fresh = a.run("UID SORT RETURN (ALL) (SUBJECT) UTF-8 ALL")
        #expect(fresh[0] == "* ESEARCH (TAG \"\(Self.tagOf(fresh))\") UID ALL 3,2,5")
    }

    @Test func tooManyUpdatingSearchesGetNoUpdate() async throws {
        let daemon = try await Daemon(messages: ["alice": ["x"].map(Self.message)])
        defer { daemon.stop() }
        let a = try IMAPClient.login(daemon)
        a.run("SELECT INBOX")
        for _ in 0..<32 { #expect(tagged(a.run("UID SEARCH RETURN (UPDATE) ALL")).contains("OK")) }
        let over = a.run("UID SEARCH RETURN (UPDATE) ALL"), tag = Self.tagOf(over)
        #expect(over.contains("* NO [NOUPDATE \"\(tag)\"] Too many searches are kept up to date."))
        #expect(tagged(over).contains("OK UID SEARCH completed."))
    }
}
