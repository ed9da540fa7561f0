import Foundation
import TestSupport
import Testing

/// Transcripts against a real `mstored` for NOTIFY (RFC 5465): events pushed without a
/// command, from other sessions and from another process.
@Suite(.serialized) struct IMAPNotifyTests {
    /// Reads unsolicited lines until `wanted` is seen or the read times out; returns them all.
    static func lines(_ c: IMAPClient, until wanted: (String) -> Bool) -> [String] {
        var seen: [String] = []
        while let line = c.readResponseLine() {
            seen.append(line)
            if wanted(line) { break }
        }
        return seen
    }

    @Test func eventsReachTheClientWithoutACommand() async throws {
        let daemon = try await Daemon(messages: ["alice": ["Subject: one\r\n\r\nfirst\r\n"]])
        defer { daemon.stop() }
        let a = try IMAPClient.login(daemon)
        a.run("ENABLE IMAP4rev2")
        a.run("SELECT INBOX")
        #expect(tagged(a.run("NOTIFY SET (SELECTED (MessageNew (UID FLAGS) MessageExpunge FlagChange)) "
                             + "(PERSONAL (MessageNew MessageExpunge MailboxName SubscriptionChange MailboxMetadataChange))"))
                .contains("OK NOTIFY completed."))
        let b = try IMAPClient.login(daemon)
        // A new message in the selected mailbox: EXISTS, then the FETCH items asked for.
        #expect(tagged(b.append("INBOX", "Subject: two\r\n\r\nsecond\r\n")).contains("OK"))
        #expect(Self.lines(a) { $0.contains("FETCH") } == ["* 2 EXISTS", "* 2 FETCH (UID 2 FLAGS ())"])
        // Mailboxes: created, a message in it, renamed, subscribed, annotated, deleted.
        b.run("CREATE Work")
        #expect(Self.lines(a) { $0.hasPrefix("* LIST") } == ["* LIST () \"/\" Work"])
        #expect(tagged(b.append("Work", "Subject: w\r\n\r\nw\r\n")).contains("OK"))
        let status = Self.lines(a) { $0.hasPrefix("* STATUS") }.last ?? ""
        #expect(status.hasPrefix("* STATUS Work (MESSAGES 1 UIDNEXT 2 UIDVALIDITY "), "\(status)")
        #expect(status.hasSuffix(" UNSEEN 1)"), "\(status)")
        b.run("RENAME Work Play")
        #expect(Self.lines(a) { $0.hasPrefix("* LIST") } == ["* LIST () \"/\" Play (\"OLDNAME\" (Work))"])
        b.run("SUBSCRIBE Play")
        #expect(Self.lines(a) { $0.hasPrefix("* LIST") } == ["* LIST (\\Subscribed) \"/\" Play"])
        b.run("SETMETADATA Play (/private/comment \"x\")")
        #expect(Self.lines(a) { $0.hasPrefix("* METADATA") } == ["* METADATA Play (/private/comment)"])
        b.run("DELETE Play")
        #expect(Self.lines(a) { $0.hasPrefix("* LIST") } == ["* LIST (\\NonExistent) \"/\" Play"])
        // Flags and expunges in the selected mailbox.
        b.run("SELECT INBOX")
        b.run("STORE 1 +FLAGS (\\Deleted)")
        #expect(Self.lines(a) { $0.contains("FETCH") } == ["* 1 FETCH (UID 1 FLAGS (\\Deleted))"])
        b.run("EXPUNGE")
        #expect(Self.lines(a) { $0.hasSuffix("EXPUNGE") } == ["* 1 EXPUNGE"])
        // Another process: `mstore deliver`.
        let delivered = try runProcess(productPath("mstore"), ["deliver", "alice", "--data", daemon.data],
                                       input: Array("Subject: from cli\r\n\r\ny\r\n".utf8))
        #expect(delivered.status == 0, "\(delivered.err)")
        #expect(Self.lines(a) { $0.contains("FETCH") } == ["* 2 EXISTS", "* 2 FETCH (UID 3 FLAGS ())"])
        // NOTIFY NONE: quiet again until the next command.
        #expect(tagged(a.run("NOTIFY NONE")).contains("OK"))
        b.run("CREATE Quiet")
        let noop = a.run("NOOP")
        #expect(noop.count == 1 && tagged(noop).contains("OK NOOP"), "\(noop)")
    }

    @Test func setStatusInboxesAndRefusals() async throws {
        let daemon = try await Daemon(messages: ["alice": ["Subject: one\r\n\r\nfirst\r\n"]])
        defer { daemon.stop() }
        let a = try IMAPClient.login(daemon)
        // STATUS: the current state of each mailbox the filters cover, at once (§3.1).
        let set = a.run("NOTIFY SET STATUS (INBOXES (MessageNew MessageExpunge))")
        #expect(set.count == 2 && set[0].hasPrefix("* STATUS INBOX (MESSAGES 1 UIDNEXT 2 UIDVALIDITY "), "\(set)")
        let b = try IMAPClient.login(daemon)
        #expect(tagged(b.append("INBOX", "Subject: two\r\n\r\nx\r\n")).contains("OK"))
        #expect(IMAPNotifyTests.lines(a) { $0.hasPrefix("* STATUS") }.last?.hasPrefix("* STATUS INBOX (MESSAGES 2 UIDNEXT 3 ") == true)
        // Another mailbox is not covered by INBOXES.
        b.run("CREATE Other")
        #expect(tagged(b.append("Other", "Subject: o\r\n\r\nx\r\n")).contains("OK"))
        #expect(a.run("NOOP").count == 1)
        // Refusals (§3.1, §5).
        #expect(tagged(a.run("NOTIFY SET (PERSONAL (AnnotationChange))")).contains("NO [BADEVENT (MessageNew "))
        #expect(tagged(a.run("NOTIFY SET (PERSONAL (FooEvent))")).contains("NO [BADEVENT"))
        #expect(tagged(a.run("NOTIFY SET (PERSONAL (MessageNew))")).contains("BAD"))
        #expect(tagged(a.run("NOTIFY SET (PERSONAL (FlagChange))")).contains("BAD"))
        #expect(tagged(a.run("NOTIFY SET (SELECTED (MailboxName))")).contains("BAD"))
        #expect(tagged(a.run("NOTIFY SET (PERSONAL (MessageNew (FLAGS) MessageExpunge))")).contains("BAD"))
        #expect(tagged(a.run("NOTIFY SET (BOGUS (MailboxName))")).contains("BAD"))
        #expect(tagged(a.run("NOTIFY SET (SUBTREE (Other) (MailboxName) )")).contains("BAD"))
        #expect(tagged(a.run("NOTIFY SET (SUBTREE (Other) (MailboxName))")).contains("OK"))
        b.run("CREATE Other/Child")
        b.run("CREATE Elsewhere")
        #expect(IMAPNotifyTests.lines(a) { $0.hasPrefix("* LIST") } == ["* LIST () \"/\" Other/Child"])
        #expect(a.run("NOOP").count == 1, "Elsewhere is outside the subtree")
    }
}
