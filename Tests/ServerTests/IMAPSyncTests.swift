import Foundation
import Testing

/// CONDSTORE and QRESYNC (RFC 7162) against a real mstored.
@Suite(.serialized) struct IMAPSyncTests {
    /// Twelve small messages.
    static let messages = (1...12).map { "Subject: m\($0)\r\n\r\nbody \($0)\r\n" }

    static func highestModSeq(_ lines: [String]) -> UInt64? {
        for l in lines where l.hasPrefix("* OK [HIGHESTMODSEQ ") {
            return UInt64(l.dropFirst("* OK [HIGHESTMODSEQ ".count).prefix { $0.isNumber })
        }
        return nil
    }

    @Test func condstore() async throws {
        let daemon = try await Daemon(messages: ["alice": Self.messages])
        defer { daemon.stop() }
        let c = try IMAPClient.login(daemon)
        #expect(c.run("CAPABILITY")[0].contains(" CONDSTORE QRESYNC"))
        #expect(c.run("ENABLE CONDSTORE").first == "* ENABLED CONDSTORE")
        let select = c.run("SELECT INBOX")
        let start = try #require(Self.highestModSeq(select))
        let modseq = c.run("FETCH 1 (MODSEQ)")[0]
        #expect(modseq.hasPrefix("* 1 FETCH (MODSEQ (") && modseq.hasSuffix("))"))

        // STORE answers carry MODSEQ; UNCHANGEDSINCE below the message's modseq is refused.
        let stored = c.run("STORE 2 +FLAGS (\\Flagged)")
        #expect(stored[0].hasPrefix("* 2 FETCH (UID 2 FLAGS (\\Flagged \\Recent) MODSEQ ("))
        let modified = c.run("STORE 2 (UNCHANGEDSINCE \(start)) +FLAGS (\\Seen)")
        #expect(tagged(modified).contains("OK [MODIFIED 2]"))
        #expect(c.run("FETCH 2 (FLAGS)")[0] == "* 2 FETCH (FLAGS (\\Flagged \\Recent))", "nothing was changed")
        #expect(tagged(c.run("STORE 3 (UNCHANGEDSINCE \(start)) +FLAGS.SILENT (\\Seen)")).contains("OK STORE"))

        // CHANGEDSINCE: only the two messages changed since the start.
        let changed = c.run("UID FETCH 1:* (FLAGS) (CHANGEDSINCE \(start))")
        #expect(changed.count == 3)
        #expect(changed[0].hasPrefix("* 2 FETCH (UID 2 FLAGS (\\Flagged \\Recent) MODSEQ ("))
        #expect(changed[1].hasPrefix("* 3 FETCH (UID 3 FLAGS (\\Seen \\Recent) MODSEQ ("))

        // SEARCH MODSEQ reports the highest modseq of what it found.
        let search = c.run("SEARCH MODSEQ \(start + 1)")
        #expect(search[0].hasPrefix("* SEARCH 2 3 (MODSEQ "))
        let status = c.run("STATUS INBOX (HIGHESTMODSEQ)")
        #expect(status[0] == "* STATUS INBOX (HIGHESTMODSEQ \(start + 2))")
    }

    @Test func condstoreIsTurnedOnByUse() async throws {
        let daemon = try await Daemon(messages: ["alice": Self.messages])
        defer { daemon.stop() }
        let c = try IMAPClient.login(daemon)
        #expect(Self.highestModSeq(c.run("SELECT INBOX")) == nil, "no HIGHESTMODSEQ before CONDSTORE is used")
        c.run("FETCH 1 (MODSEQ)")
        #expect(c.run("STORE 1 +FLAGS (\\Seen)")[0].contains(" MODSEQ ("))
        #expect(Self.highestModSeq(c.run("SELECT INBOX (CONDSTORE)")) != nil)
    }

    @Test func qresyncResyncsOnlyWhatChanged() async throws {
        let daemon = try await Daemon(messages: ["alice": Self.messages])
        defer { daemon.stop() }
        // The client's last sync.
        let a = try IMAPClient.login(daemon)
        #expect(tagged(a.run("SELECT INBOX (QRESYNC (1 1))")).contains("BAD"), "QRESYNC must be enabled first")
        #expect(a.run("ENABLE QRESYNC").first == "* ENABLED QRESYNC")
        let first = a.run("SELECT INBOX")
        let modseq = try #require(Self.highestModSeq(first))
        let validity = try #require(first.first { $0.hasPrefix("* OK [UIDVALIDITY ") }?
            .dropFirst("* OK [UIDVALIDITY ".count).prefix { $0.isNumber })
        a.run("LOGOUT")

        // Meanwhile another client changes flags on three messages and expunges two.
        let b = try IMAPClient.login(daemon)
        b.run("SELECT INBOX")
        b.run("STORE 4:6 +FLAGS.SILENT (\\Answered)")
        b.run("STORE 1,9 +FLAGS.SILENT (\\Deleted)")
        b.run("EXPUNGE")

        // The resync names exactly those.
        let c = try IMAPClient.login(daemon)
        c.run("ENABLE QRESYNC")
        let resync = c.run("SELECT INBOX (QRESYNC (\(validity) \(modseq)))")
        #expect(resync.contains("* VANISHED (EARLIER) 1,9"))
        let fetches = resync.filter { $0.contains(" FETCH (") }
        #expect(fetches.count == 3)
        #expect(fetches.allSatisfy { $0.contains("\\Answered") && $0.contains("MODSEQ (") })
        #expect(fetches.first?.hasPrefix("* 3 FETCH (UID 4 ") == true, "numbered after the expunge")
        // known-uids limits what VANISHED reports.
        c.run("UNSELECT")
        let limited = c.run("SELECT INBOX (QRESYNC (\(validity) \(modseq) 5:12))")
        #expect(limited.contains("* VANISHED (EARLIER) 9"))
        // Another UIDVALIDITY: a full resync, nothing incremental.
        c.run("UNSELECT")
        let other = c.run("SELECT INBOX (QRESYNC (1 \(modseq)))")
        #expect(!other.contains { $0.hasPrefix("* VANISHED") })

        // With QRESYNC on, expunges arrive as VANISHED, never EXPUNGE.
        b.run("STORE 1 +FLAGS.SILENT (\\Deleted)")
        b.run("EXPUNGE")
        let noop = c.run("NOOP")
        #expect(noop.contains("* VANISHED 2"))
        #expect(!noop.contains { $0.hasSuffix(" EXPUNGE") })
        c.run("STORE 1 +FLAGS.SILENT (\\Deleted)")
        #expect(c.run("EXPUNGE").first == "* VANISHED 3")
        // UID FETCH ... (CHANGEDSINCE m VANISHED).
        let vanished = c.run("UID FETCH 1:* (FLAGS) (CHANGEDSINCE \(modseq) VANISHED)")
        #expect(vanished.first == "* VANISHED (EARLIER) 1:3,9")
    }
}

/// LIST-EXTENDED (RFC 5258), LIST-STATUS (RFC 5819) and CREATE-SPECIAL-USE (RFC 6154).
@Suite(.serialized) struct IMAPListExtendedTests {
    @Test func selectionAndReturnOptions() async throws {
        let daemon = try await Daemon(messages: ["alice": IMAPSyncTests.messages])
        defer { daemon.stop() }
        let c = try IMAPClient.login(daemon)
        let caps = c.run("CAPABILITY")[0]
        for cap in ["LIST-EXTENDED", "LIST-STATUS", "CREATE-SPECIAL-USE"] { #expect(caps.contains(" \(cap)")) }
        c.run("CREATE Foo/Bar")
        c.run("CREATE Drafts (USE (\\Drafts))")
        c.run("SUBSCRIBE Foo/Bar")
        c.run("SUBSCRIBE Gone")
        let subscribed = c.run("LIST (SUBSCRIBED) \"\" *")
        #expect(subscribed.contains("* LIST (\\HasNoChildren \\Subscribed) \"/\" Foo/Bar"))
        #expect(subscribed.contains("* LIST (\\NonExistent \\Subscribed) \"/\" Gone"))
        #expect(subscribed.count == 3)
        let recursive = c.run("LIST (SUBSCRIBED RECURSIVEMATCH) \"\" %")
        #expect(recursive.contains { $0.hasSuffix("\"/\" Foo (\"CHILDINFO\" (\"SUBSCRIBED\"))") })
        #expect(!recursive.contains { $0.hasSuffix("Foo/Bar") }, "% does not reach the child")
        let multiple = c.run("LIST \"\" (INBOX Drafts) RETURN (SUBSCRIBED CHILDREN SPECIAL-USE)")
        #expect(multiple.prefix(2) == ["* LIST (\\HasNoChildren \\Drafts) \"/\" Drafts", "* LIST (\\HasNoChildren) \"/\" INBOX"])
        let status = c.run("LIST \"\" INBOX RETURN (STATUS (MESSAGES UNSEEN))")
        #expect(status.prefix(2) == ["* LIST (\\HasNoChildren) \"/\" INBOX", "* STATUS INBOX (MESSAGES 12 UNSEEN 12)"])
        #expect(tagged(c.run("CREATE Junk2 (USE (\\Bogus))")).contains("NO [USEATTR]"))
    }
}

/// OBJECTID (RFC 8474), SAVEDATE (RFC 8514), WITHIN (RFC 5032) and PREVIEW (RFC 8970).
@Suite(.serialized) struct IMAPObjectIDTests {
    @Test func idsAreStableAcrossRenameAndMove() async throws {
        let daemon = try await Daemon(messages: ["alice": Array(IMAPSyncTests.messages.prefix(3))])
        defer { daemon.stop() }
        let c = try IMAPClient.login(daemon)
        let caps = c.run("CAPABILITY")[0]
        for cap in ["OBJECTID", "SAVEDATE", "WITHIN", "PREVIEW"] { #expect(caps.contains(" \(cap)")) }
        let created = tagged(c.run("CREATE Box"))
        #expect(created.contains("OK [MAILBOXID (F"))
        let boxID = created.split(separator: "(")[1].split(separator: ")")[0]
        #expect(c.run("STATUS Box (MAILBOXID)")[0] == "* STATUS Box (MAILBOXID (\(boxID)))")
        c.run("RENAME Box Renamed")
        #expect(c.run("STATUS Renamed (MAILBOXID)")[0] == "* STATUS Renamed (MAILBOXID (\(boxID)))", "kept across RENAME")
        #expect(c.run("SELECT Renamed").contains("* OK [MAILBOXID (\(boxID))] Ok."))

        c.run("SELECT INBOX")
        let ids = c.run("FETCH 1 (EMAILID THREADID)")[0]
        #expect(ids.hasPrefix("* 1 FETCH (EMAILID (M") && ids.contains(" THREADID (T"))
        let emailID = ids.split(separator: "(")[2].split(separator: ")")[0]
        #expect(c.run("SEARCH EMAILID \(emailID)")[0] == "* SEARCH 1")
        c.run("MOVE 1 Renamed")
        c.run("SELECT Renamed")
        #expect(c.run("FETCH 1 (EMAILID)")[0] == "* 1 FETCH (EMAILID (\(emailID)))", "kept across MOVE")

        // SAVEDATE: the time it was saved into this mailbox (just now), searchable by day.
        #expect(c.run("FETCH 1 (SAVEDATE)")[0].hasPrefix("* 1 FETCH (SAVEDATE \""))
        #expect(c.run("SEARCH SAVEDATESUPPORTED SAVEDSINCE 1-Jan-2020")[0] == "* SEARCH 1")
        #expect(c.run("SEARCH SAVEDBEFORE 1-Jan-2020")[0] == "* SEARCH")
        // WITHIN: delivered just now.
        #expect(c.run("SEARCH YOUNGER 3600")[0] == "* SEARCH 1")
        #expect(c.run("SEARCH OLDER 3600")[0] == "* SEARCH")
        // PREVIEW: the start of the text.
        #expect(c.run("FETCH 1 (PREVIEW)")[0] == "* 1 FETCH (PREVIEW \"body 1\")")
    }
}

/// REPLACE (RFC 8508) and UTF8=ACCEPT (RFC 6855).
@Suite(.serialized) struct IMAPReplaceTests {
    @Test func replaceIsAppendAndExpungeInOne() async throws {
        let daemon = try await Daemon(messages: ["alice": Array(IMAPSyncTests.messages.prefix(3))])
        defer { daemon.stop() }
        let c = try IMAPClient.login(daemon)
        #expect(c.run("CAPABILITY")[0].contains(" REPLACE"))
        c.run("CREATE Drafts")
        c.run("SELECT INBOX")
        let draft = "Subject: draft v2\r\n\r\nnew text\r\n"
        let tag = c.nextTag()
        c.line.command("\(tag) REPLACE 2 Drafts (\\Draft) {\(draft.utf8.count)}")
        #expect(c.line.readLine()?.hasPrefix("+") == true)
        c.line.sendBytes(Array(draft.utf8) + Array("\r\n".utf8))
        let answer = c.read(until: tag)
        #expect(answer.contains { $0.hasPrefix("* OK [APPENDUID ") && $0.hasSuffix(" 1] Replacement appended.") })
        #expect(answer.contains("* 2 EXPUNGE"))
        #expect(answer.last == "\(tag) OK REPLACE completed.")
        #expect(c.run("STATUS Drafts (MESSAGES)")[0] == "* STATUS Drafts (MESSAGES 1)")
        #expect(c.run("FETCH 1:* UID").prefix(2) == ["* 1 FETCH (UID 1)", "* 2 FETCH (UID 3)"])
        // UID REPLACE within the mailbox, LITERAL+; a missing target mailbox appends nothing.
        let v3 = "Subject: v3\r\n\r\nx\r\n"
        c.line.send("u1 UID REPLACE 3 INBOX {\(v3.utf8.count)+}\r\n\(v3)\r\n")
        let inPlace = c.read(until: "u1")
        #expect(inPlace.contains("* 2 EXPUNGE") && inPlace.last == "u1 OK UID REPLACE completed.")
        #expect(inPlace.contains("* 2 EXISTS"), "the replacement is announced in the same mailbox")
        c.line.send("u2 UID REPLACE 1 Nowhere {\(v3.utf8.count)+}\r\n\(v3)\r\n")
        #expect(c.read(until: "u2").last?.hasPrefix("u2 NO [TRYCREATE]") == true)
        #expect(c.run("FETCH 1 UID")[0] == "* 1 FETCH (UID 1)", "the old message stays when the append fails")
        c.line.send("u3 UID REPLACE 99 INBOX {\(v3.utf8.count)+}\r\n\(v3)\r\n")
        #expect(c.read(until: "u3").last?.hasPrefix("u3 NO [NONEXISTENT]") == true)
    }

    @Test func utf8AcceptAppend() async throws {
        let daemon = try await Daemon()
        defer { daemon.stop() }
        let c = try IMAPClient.login(daemon)
        #expect(c.run("CAPABILITY")[0].contains(" UTF8=ACCEPT"))
        #expect(c.run("ENABLE UTF8=ACCEPT").first == "* ENABLED UTF8=ACCEPT")
        let message = "Subject: Grüße\r\nFrom: jörg@example.org\r\n\r\nÄpfel\r\n"
        let bytes = Array(message.utf8)
        c.line.send("a1 APPEND INBOX UTF8 (~{\(bytes.count)+}\r\n")
        c.line.sendBytes(bytes + Array(")\r\n".utf8))
        #expect(c.read(until: "a1").last?.contains("OK [APPENDUID") == true)
        c.run("SELECT INBOX")
        let envelope = c.run("FETCH 1 (ENVELOPE)")[0]
        #expect(envelope.contains("\"Grüße\""), "UTF-8 goes out as quoted UTF-8 once enabled")
    }
}

/// INPROGRESS (RFC 9585).
@Suite(.serialized) struct IMAPInProgressTests {
    @Test func longCommandsSayTheyAreStillRunning() async throws {
        // 150 messages of 40 KB: a SEARCH TEXT for a string without a word (which the index
        // cannot answer) reads them all, which takes well over 20 ms in any build.
        let body = String(repeating: "lorem ipsum dolor sit amet\r\n", count: 1500)
        let messages = (1...150).map { "Subject: m\($0)\r\n\r\n\(body)" }
        let daemon = try await Daemon(Daemon.Options(limits: "imap_progress_ms = 5\n"), messages: ["alice": messages])
        defer { daemon.stop() }
        let c = try IMAPClient.login(daemon)
        #expect(c.run("CAPABILITY")[0].contains(" INPROGRESS"))
        c.run("SELECT INBOX")
        let search = c.run("SEARCH TEXT \"@@ @@\"")
        #expect(search.contains("* OK [INPROGRESS (\"\(search.last!.prefix { $0 != " " })\" NIL NIL)] Still working."))
        #expect(search.last?.hasSuffix("OK SEARCH completed.") == true)
        // The timer ends with the command: nothing arrives between commands.
        try await Task.sleep(for: .milliseconds(50))
        let searchTag = String(search.last!.prefix { $0 != " " })
        let after = c.run("NOOP")
        #expect(!after.contains { $0.contains("INPROGRESS (\"\(searchTag)\"") })
    }
}

/// STATUS DELETED-STORAGE (RFC 9208 §4.4), which QUOTA=RES-STORAGE brings.
@Suite(.serialized) struct IMAPDeletedStorageTests {
    @Test func deletedStorageCountsTheDeletedMessagesInKiB() async throws {
        let big = "Subject: big\r\n\r\n" + String(repeating: "x", count: 3000) + "\r\n"
        let daemon = try await Daemon(messages: ["alice": [big, big + "y", "Subject: small\r\n\r\nz\r\n"]])
        defer { daemon.stop() }
        let c = try IMAPClient.login(daemon)
        #expect(c.run("STATUS INBOX (DELETED DELETED-STORAGE)")[0] == "* STATUS INBOX (DELETED 0 DELETED-STORAGE 0)")
        c.run("SELECT INBOX")
        c.run("STORE 1:2 +FLAGS.SILENT (\\Deleted)")
        let kib = (big.utf8.count * 2 + 1 + 1023) / 1024
        #expect(c.run("STATUS INBOX (DELETED DELETED-STORAGE)")[0] == "* STATUS INBOX (DELETED 2 DELETED-STORAGE \(kib))")
        let list = c.run("LIST \"\" INBOX RETURN (STATUS (DELETED-STORAGE))")
        #expect(list.contains("* STATUS INBOX (DELETED-STORAGE \(kib))"))
    }
}
