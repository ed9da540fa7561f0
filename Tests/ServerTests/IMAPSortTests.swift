import Foundation
import Testing

/// Transcripts against a real `mstored` for SORT, SORT=DISPLAY and THREAD (RFC 5256, RFC 5957),
/// ESORT (RFC 5267) and SEARCHRES (RFC 5182). Every expected answer was worked out by hand
/// from the fixture messages below; the comments give the keys that decide it.
@Suite(.serialized) struct IMAPSortTests {
    static func message(_ headers: [String], bodyLines: Int = 1) -> String {
        headers.joined(separator: "\r\n") + "\r\n\r\n" + String(repeating: "x", count: bodyLines * 100) + "\r\n"
    }

    /// Five messages for SORT. Sent dates (UTC): 4 and 5 Feb 1 11:00 (a tie), 2 Feb 2, 1 Feb 3,
    /// 3 none (its INTERNALDATE, Feb 10). INTERNALDATEs: 5 Feb 8, 2 Feb 9, 1 and 3 Feb 10 (a
    /// tie), 4 Feb 11. Bodies shrink from 1 to 5, so the sizes do.
    static let sortMessages: [(String, String)] = [
        (message(["Date: Mon, 3 Feb 2020 10:00:00 +0000", "From: \"Zed\" <zed@x.org>", "To: \"Zoe\" <bob@x.org>",
                  "Subject: Hello"], bodyLines: 5), "10-Feb-2020 12:00:00 +0000"),
        (message(["Date: Sun, 2 Feb 2020 10:00:00 +0000", "From: alice@x.org", "To: \"Carol\" <carol@x.org>",
                  "Cc: dan@x.org", "Subject: Re: hello"], bodyLines: 4), "09-Feb-2020 12:00:00 +0000"),
        (message(["From: \"bob\" <Bob@x.org>", "To: Alice <alice@x.org>", "Subject: [list] Fwd: Apple"], bodyLines: 3),
         "10-Feb-2020 12:00:00 +0000"),
        (message(["Date: Sat, 1 Feb 2020 10:00:00 -0100", "From: Emile <emile@x.org>", "To: undisclosed-recipients:;",
                  "Subject: apple (fwd)"], bodyLines: 2), "11-Feb-2020 12:00:00 +0000"),
        (message(["Date: Sat, 1 Feb 2020 11:00:00 +0000", "From: =?UTF-8?Q?Yvonne?= <a@x.org>", "Cc: Bob@x.org",
                  "Subject: Re: [list] APPLE"], bodyLines: 1), "08-Feb-2020 12:00:00 +0000"),
    ]

    /// Appends `messages` with their INTERNALDATEs after one message that is then expunged, so
    /// UIDs are sequence numbers plus one.
    static func mailbox(_ messages: [(String, String)]) async throws -> (Daemon, IMAPClient) {
        let daemon = try await Daemon()
        let c = try IMAPClient.login(daemon)
        #expect(tagged(c.append("INBOX", "Subject: gone\r\n\r\nx\r\n")).contains("OK"))
        for (text, date) in messages {
            let tag = c.nextTag()
            let bytes = Array(text.utf8)
            c.line.command("\(tag) APPEND INBOX \"\(date)\" {\(bytes.count)+}")
            c.line.sendBytes(bytes + Array("\r\n".utf8))
            #expect(tagged(c.read(until: tag)).contains("OK"))
        }
        #expect(tagged(c.run("SELECT INBOX")).contains("OK"))
        #expect(tagged(c.run("STORE 1 +FLAGS.SILENT (\\Deleted)")).contains("OK"))
        #expect(tagged(c.run("EXPUNGE")).contains("OK"))
        return (daemon, c)
    }

    /// Runs `command` and returns the answer with its tag written `T`, in the tagged line and in
    /// ESEARCH's `(TAG "T")`.
    static func run(_ c: IMAPClient, _ command: String) -> [String] {
        c.run(command).map { line in
            line.replacing(#/^t\d+ /#, with: "T ").replacing(#/\(TAG "t\d+"\)/#, with: "(TAG \"T\")")
        }
    }

    /// The untagged line that starts with `prefix`, or "".
    static func untagged(_ lines: [String], _ prefix: String) -> String {
        lines.first { $0.hasPrefix(prefix) } ?? ""
    }

    @Test func capabilities() async throws {
        let daemon = try await Daemon()
        defer { daemon.stop() }
        let c = try IMAPClient.login(daemon)
        let caps = c.run("CAPABILITY")[0].split(separator: " ")
        for cap in ["SORT", "SORT=DISPLAY", "ESORT", "THREAD=ORDEREDSUBJECT", "THREAD=REFERENCES", "SEARCHRES"] {
            #expect(caps.contains(Substring(cap)), "\(cap)")
        }
        #expect(tagged(c.run("SORT (DATE) UTF-8 ALL")).contains("BAD"), "needs a selected mailbox")
    }

    @Test(arguments: [
        ("SORT (DATE) UTF-8 ALL", "* SORT 4 5 2 1 3"),
        ("SORT (REVERSE DATE) UTF-8 ALL", "* SORT 3 1 2 4 5"),
        ("SORT (ARRIVAL) UTF-8 ALL", "* SORT 5 2 1 3 4"),
        // REVERSE flips the key, not the sequence-number tie-break of 1 and 3.
        ("SORT (REVERSE ARRIVAL) UTF-8 ALL", "* SORT 4 1 3 2 5"),
        // Base subjects: apple (3, 4, 5), hello (1, 2).
        ("SORT (SUBJECT) UTF-8 ALL", "* SORT 3 4 5 1 2"),
        ("SORT (SUBJECT DATE) UTF-8 ALL", "* SORT 4 5 3 2 1"),
        ("SORT (REVERSE SUBJECT DATE) US-ASCII ALL", "* SORT 2 1 4 5 3"),
        // addr-mailbox, folded: zed, alice, bob, emile, a.
        ("SORT (FROM) UTF-8 ALL", "* SORT 5 2 3 4 1"),
        // To: bob, carol, alice, the group undisclosed-recipients (its name is the first
        // envelope address's addr-mailbox, as in Dovecot), none.
        ("SORT (TO) UTF-8 ALL", "* SORT 5 3 1 2 4"),
        ("SORT (CC) UTF-8 ALL", "* SORT 1 3 4 5 2"),
        ("SORT (SIZE) UTF-8 ALL", "* SORT 5 4 3 2 1"),
        ("SORT (REVERSE SIZE) UTF-8 ALL", "* SORT 1 2 3 4 5"),
        // RFC 5957: zed, alice@x.org (no name), bob, emile, yvonne (decoded).
        ("SORT (DISPLAYFROM) UTF-8 ALL", "* SORT 2 3 4 5 1"),
        ("SORT (DISPLAYTO) UTF-8 ALL", "* SORT 5 3 2 4 1"),
        ("SORT (SUBJECT) UTF-8 SUBJECT apple", "* SORT 3 4 5"),
        ("SORT (DATE) UTF-8 SUBJECT nothing-matches", "* SORT"),
        ("UID SORT (DATE) UTF-8 ALL", "* SORT 5 6 3 2 4"),
        ("UID SORT (DATE) UTF-8 UID 2:3", "* SORT 3 2"),
        // ESORT (RFC 5267 §3.2): MIN and MAX in sort order, ALL keeps the order.
        ("SORT RETURN (MIN MAX ALL COUNT) (DATE) UTF-8 ALL", "* ESEARCH (TAG \"T\") MIN 4 MAX 3 ALL 4:5,2,1,3 COUNT 5"),
        ("UID SORT RETURN () (DATE) UTF-8 ALL", "* ESEARCH (TAG \"T\") UID ALL 5:6,3,2,4"),
        ("SORT RETURN (COUNT) (DATE) UTF-8 SUBJECT nothing-matches", "* ESEARCH (TAG \"T\") COUNT 0"),
    ])
    func sort(_ command: String, _ expected: String) async throws {
        try await Self.expectAnswer(Self.sortMessages, command, expected)
    }

    /// Runs `command` over a fresh mailbox of `messages` and compares its one untagged answer.
    static func expectAnswer(_ messages: [(String, String)], _ command: String, _ expected: String) async throws {
        let (daemon, c) = try await mailbox(messages)
        defer { daemon.stop() }
        let lines = run(c, command)
        #expect(tagged(lines).hasPrefix("T OK"), "\(lines)")
        let answer = lines.first { ["* SORT", "* ESEARCH", "* THREAD"].contains(where: $0.hasPrefix) }
        #expect(answer == expected, "\(command): \(lines)")
    }

    @Test func sortRefusals() async throws {
        let (daemon, c) = try await Self.mailbox(Array(Self.sortMessages.prefix(1)))
        defer { daemon.stop() }
        #expect(tagged(Self.run(c, "SORT (DATE) KOI8-R ALL")) == "T NO [BADCHARSET (UTF-8 US-ASCII)] Unsupported charset.")
        #expect(tagged(Self.run(c, "SORT (SENDER) UTF-8 ALL")).hasPrefix("T BAD"))
        #expect(tagged(Self.run(c, "SORT () UTF-8 ALL")).hasPrefix("T BAD"))
        #expect(tagged(Self.run(c, "SORT (REVERSE REVERSE DATE) UTF-8 ALL")).hasPrefix("T BAD"))
        #expect(tagged(Self.run(c, "THREAD REFS UTF-8 ALL")).hasPrefix("T BAD"))
        #expect(tagged(Self.run(c, "THREAD REFERENCES KOI8-R ALL")).hasPrefix("T NO [BADCHARSET"))
        #expect(tagged(Self.run(c, "SORT (DATE) UTF-8 ALL")).hasPrefix("T OK"), "the session goes on")
    }

    /// RFC 7162 §3.1.5: SORT with a MODSEQ key ends in the highest modseq it found, in both forms.
    @Test func sortWithModSeq() async throws {
        let (daemon, c) = try await Self.mailbox(Self.sortMessages)
        defer { daemon.stop() }
        let highest = try #require(Self.run(c, "FETCH 1:* (MODSEQ)").compactMap { line -> UInt64? in
            guard let r = line.range(of: "MODSEQ (") else { return nil }
            return UInt64(line[r.upperBound...].prefix { $0.isNumber })
        }.max())
        #expect(Self.untagged(Self.run(c, "SORT (DATE) UTF-8 MODSEQ 1"), "* SORT") == "* SORT 4 5 2 1 3 (MODSEQ \(highest))")
        #expect(Self.untagged(Self.run(c, "SORT RETURN (COUNT) (DATE) UTF-8 MODSEQ 1"), "* ESEARCH")
                == "* ESEARCH (TAG \"T\") COUNT 5 MODSEQ \(highest)")
    }

    /// Fourteen messages for THREAD: a reply tree (1; 2 and 3 answer it, 3 by In-Reply-To
    /// only; 4 answers 2 with a [tag]), two replies to a message not in the mailbox (5, 6) and
    /// a later message of their subject (12), no Message-ID (7), a duplicate Message-ID (8), a
    /// References loop (9, 10), a reply to a missing message with the subject of 7 (11), and
    /// two unrelated messages of one subject (13, 14).
    static let threadMessages: [(String, String)] = {
        func m(_ day: Int, _ time: String, _ headers: [String]) -> (String, String) {
            (message(["Date: \(day) Feb 2020 \(time) +0000", "From: a@x.org"] + headers), "20-Feb-2020 12:00:00 +0000")
        }
        return [
            m(1, "10:00", ["Message-ID: <a@x>", "Subject: Plan"]),
            m(1, "11:00", ["Message-ID: <b@x>", "References: <a@x>", "Subject: Re: Plan"]),
            m(1, "12:00", ["Message-ID: <c@x>", "In-Reply-To: <a@x>", "Subject: Re: Plan"]),
            m(1, "13:00", ["Message-ID: <d@x>", "References: <a@x> <b@x>", "Subject: [team] Re: Plan"]),
            m(2, "09:00", ["Message-ID: <e@x>", "References: <missing@x>", "Subject: Lunch"]),
            m(2, "08:00", ["Message-ID: <f@x>", "References: <missing@x>", "Subject: Re: Lunch"]),
            m(3, "10:00", ["Subject: Solo"]),
            m(4, "10:00", ["Message-ID: <a@x>", "Subject: Dup"]),
            m(5, "00:00", ["Message-ID: <g@x>", "References: <h@x>", "Subject: Loop"]),
            m(5, "01:00", ["Message-ID: <h@x>", "References: <g@x>", "Subject: Re: Loop"]),
            m(6, "10:00", ["Message-ID: <i@x>", "References: <zzz@x>", "Subject: Re: Solo"]),
            m(2, "10:00", ["Message-ID: <j@x>", "Subject: Lunch"]),
            m(7, "10:00", ["Message-ID: <k@x>", "Subject: Report"]),
            m(8, "10:00", ["Message-ID: <l@x>", "Subject: report"]),
        ]
    }()

    @Test(arguments: [
        // REFERENCES: 1 with 2 (4 below it) and 3; the dummy for <missing@x> keeps 6 and 5 and
        // takes 12 by subject; 11's dummy parent is pruned and 11 joins 7 by subject; 10 is
        // the parent of 9 (the link back would be a loop); 13 and 14 get a new dummy.
        ("THREAD REFERENCES UTF-8 ALL", "* THREAD (1 (2 4)(3))((6)(5)(12))(7 11)(8)(10 9)((13)(14))"),
        ("UID THREAD REFERENCES UTF-8 ALL", "* THREAD (2 (3 5)(4))((7)(6)(13))(8 12)(9)(11 10)((14)(15))"),
        ("THREAD REFERENCES UTF-8 SUBJECT lunch", "* THREAD ((6)(5)(12))"),
        // Without 1, its replies hang under a dummy for <a@x>, kept as it has two children.
        ("THREAD REFERENCES UTF-8 2:4", "* THREAD ((2 4)(3))"),
        ("THREAD REFERENCES UTF-8 SUBJECT nothing-matches", "* THREAD"),
        // ORDEREDSUBJECT: by base subject, the first message the parent of the rest.
        ("THREAD ORDEREDSUBJECT UTF-8 ALL", "* THREAD (1 (2)(3)(4))(6 (5)(12))(7 11)(8)(9 10)(13 14)"),
        ("UID THREAD ORDEREDSUBJECT UTF-8 SUBJECT solo", "* THREAD (8 12)"),
    ])
    func thread(_ command: String, _ expected: String) async throws {
        try await Self.expectAnswer(Self.threadMessages, command, expected)
    }

    /// THREAD edge cases: a message that references itself (1), a reply stored before its
    /// parent (2 before 3), and a References ring of three (4 → 5 → 6 → 4).
    static let edgeMessages: [(String, String)] = [
        (message(["Date: 1 Feb 2020 10:00 +0000", "Message-ID: <m@x>", "References: <m@x>", "Subject: Self"]), "20-Feb-2020 12:00:00 +0000"),
        (message(["Date: 2 Feb 2020 10:00 +0000", "Message-ID: <n@x>", "References: <o@x>", "Subject: Re: Early"]), "20-Feb-2020 12:00:00 +0000"),
        (message(["Date: 2 Feb 2020 09:00 +0000", "Message-ID: <o@x>", "Subject: Early"]), "20-Feb-2020 12:00:00 +0000"),
        (message(["Date: 3 Feb 2020 10:00 +0000", "Message-ID: <p@x>", "References: <q@x>", "Subject: Ring"]), "20-Feb-2020 12:00:00 +0000"),
        (message(["Date: 3 Feb 2020 11:00 +0000", "Message-ID: <q@x>", "References: <r@x>", "Subject: Re: Ring"]), "20-Feb-2020 12:00:00 +0000"),
        (message(["Date: 3 Feb 2020 12:00 +0000", "Message-ID: <r@x>", "References: <p@x>", "Subject: Re: Ring"]), "20-Feb-2020 12:00:00 +0000"),
    ]

    @Test(arguments: [
        // 1 is its own parent: refused. 3 takes the dummy container 2 made for it. In the ring,
        // 5 fills the dummy above 4, 6 the dummy above 5; 4 under 6 would close the loop.
        ("THREAD REFERENCES UTF-8 ALL", "* THREAD (1)(3 2)(6 5 4)"),
        ("THREAD ORDEREDSUBJECT UTF-8 ALL", "* THREAD (1)(3 2)(4 (5)(6))"),
    ])
    func threadEdges(_ command: String, _ expected: String) async throws {
        try await Self.expectAnswer(Self.edgeMessages, command, expected)
    }

    // MARK: SEARCHRES (RFC 5182)

    @Test func savedSearchResult() async throws {
        let (daemon, c) = try await Self.mailbox(Self.threadMessages)
        defer { daemon.stop() }
        // SAVE alone: no ESEARCH answer. Lunch is 5, 6 and 12 (UIDs 6, 7, 13).
        #expect(Self.run(c, "SEARCH RETURN (SAVE) SUBJECT lunch") == ["T OK SEARCH completed."])
        #expect(Self.untagged(Self.run(c, "SEARCH $"), "* SEARCH") == "* SEARCH 5 6 12")
        #expect(Self.untagged(Self.run(c, "UID SEARCH UID $"), "* SEARCH") == "* SEARCH 6 7 13")
        let fetched = c.run("FETCH $ (UID)")
        #expect(fetched.filter { $0.hasPrefix("* ") } == ["* 5 FETCH (UID 6)", "* 6 FETCH (UID 7)", "* 12 FETCH (UID 13)"])
        #expect(c.run("UID FETCH $ (FLAGS)").filter { $0.hasPrefix("* ") }.count == 3)
        #expect(Self.untagged(Self.run(c, "THREAD REFERENCES UTF-8 $"), "* THREAD") == "* THREAD ((6)(5)(12))")
        #expect(Self.untagged(Self.run(c, "SORT (DATE) UTF-8 $"), "* SORT") == "* SORT 6 5 12")
        // SAVE with MIN: only the lowest; with the answer it also asked for.
        #expect(Self.untagged(Self.run(c, "SEARCH RETURN (SAVE MIN) SUBJECT lunch"), "* ESEARCH") == "* ESEARCH (TAG \"T\") MIN 5")
        #expect(Self.untagged(Self.run(c, "SEARCH $"), "* SEARCH") == "* SEARCH 5")
        // ESORT with SAVE and MAX: the last in sort order (12, 5, 6 by reverse date), not the highest number.
        #expect(Self.run(c, "SORT RETURN (SAVE MAX) (REVERSE DATE) UTF-8 SUBJECT lunch").first == "* ESEARCH (TAG \"T\") MAX 6")
        #expect(Self.untagged(Self.run(c, "SEARCH $"), "* SEARCH") == "* SEARCH 6")
        // COPY, STORE and EXPUNGE through $; the expunged message leaves the saved result.
        #expect(tagged(c.run("SEARCH RETURN (SAVE) SUBJECT plan")).contains("OK"))
        #expect(tagged(c.run("COPY $ INBOX")).contains("OK [COPYUID"))
        #expect(tagged(c.run("STORE $ +FLAGS.SILENT (\\Deleted)")).contains("OK"))
        #expect(Self.untagged(Self.run(c, "SEARCH DELETED"), "* SEARCH") == "* SEARCH 1 2 3 4")
        #expect(tagged(c.run("SEARCH RETURN (SAVE) 2:3")).contains("OK"))
        #expect(tagged(c.run("UID EXPUNGE 3")).contains("OK"))
        #expect(Self.untagged(Self.run(c, "SEARCH $"), "* SEARCH") == "* SEARCH 2")
        // A failed SAVE empties it; so does a new selection.
        #expect(tagged(c.run("SEARCH RETURN (SAVE) CHARSET KOI8-R ALL")).contains("NO [BADCHARSET"))
        #expect(Self.untagged(Self.run(c, "SEARCH $"), "* SEARCH") == "* SEARCH")
        #expect(tagged(c.run("SEARCH RETURN (SAVE) ALL")).contains("OK"))
        #expect(tagged(c.run("UNSELECT")).contains("OK"))
        #expect(tagged(c.run("SELECT INBOX")).contains("OK"))
        let after = c.run("FETCH $ (UID)")
        #expect(after.count == 1 && tagged(after).contains("OK"), "\(after)")
    }
}
