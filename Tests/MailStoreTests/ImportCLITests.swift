import Foundation
import TestSupport
import Testing
@testable import MailStore

@Suite struct ImportCLITests {
    /// A scratch directory with a store (`dir/data`) that has the user ann.
    func storeWithAnn() throws -> (dir: String, data: String) {
        let dir = temporaryStorePath()
        let data = dir + "/data"
        try FileManager.default.createDirectory(atPath: dir, withIntermediateDirectories: true)
        #expect(try run("mstore", ["user", "add", "ann", "--data", data, "--password-stdin"], input: Array("pw\n".utf8)).0 == 0)
        return (dir, data)
    }

    @Test func importsMboxAndMaildirAndRefusesBadSources() async throws {
        let (dir, data) = try storeWithAnn()
        defer { try? FileManager.default.removeItem(atPath: dir) }

        let mbox = """
            From alice@example.org Mon Jan 19 00:40:10 2015
            Subject: one

            >From the start
            >>From quoted twice

            From bob@example.org Tue Apr 10 01:45:39 2018
            Subject: two

            body
            """ + "\n"
        try mbox.write(toFile: dir + "/in.mbox", atomically: true, encoding: .utf8)
        #expect(try run("mstore", ["import", "ann", dir + "/in.mbox", "--data", data]).0 == 0)

        let md = dir + "/md"
        for sub in ["cur", "new", "tmp"] { try FileManager.default.createDirectory(atPath: md + "/" + sub, withIntermediateDirectories: true) }
        try "Subject: seen\n\nx\n".write(toFile: md + "/cur/1.host:2,FS", atomically: true, encoding: .utf8)
        try "Subject: new\n\ny\n".write(toFile: md + "/new/2.host", atomically: true, encoding: .utf8)
        #expect(try run("mstore", ["import", "ann", md, "--mailbox", "Old/Box", "--data", data]).0 == 0)

        // Rejected sources write nothing, not even the target mailbox.
        try Data([0, 1, 2, 0xFF]).write(to: URL(fileURLWithPath: dir + "/binary"))
        for bad in [dir + "/binary", dir + "/missing", dir] {
            #expect(try run("mstore", ["import", "ann", bad, "--mailbox", "Never", "--data", data]).0 == 1, "\(bad)")
        }

        let store = try MailStore(path: data)
        defer { store.close() }
        let (inbox, box, names) = try store.read { tx in
            let a = try tx.requireAccount(named: "ann")
            return (try tx.messages(in: try tx.requireMailbox(of: a.id, named: "INBOX").id),
                    try tx.messages(in: try tx.requireMailbox(of: a.id, named: "Old/Box").id),
                    try tx.mailboxes(of: a.id).map(\.name))
        }
        #expect(names == ["INBOX", "Old", "Old/Box"])
        #expect(inbox.count == 2)
        let first = try store.read { try $0.content(inbox[0].content) }
        #expect(String(decoding: first, as: UTF8.self) == "Subject: one\r\n\r\nFrom the start\r\n>From quoted twice\r\n")
        #expect(inbox[0].internalDate.seconds == 1_421_628_010)
        #expect(box.map(\.flags) == [[.flagged, .seen], []])
        #expect(try store.checkConsistency() == [])
    }

    @Test func importsAMaildirPlusPlusTree() async throws {
        let (dir, data) = try storeWithAnn()
        defer { try? FileManager.default.removeItem(atPath: dir) }
        let root = dir + "/Maildir"
        for folder in ["", "/.Sent", "/.Work.Projects", "/.Work"] {
            for sub in ["cur", "new", "tmp"] {
                try FileManager.default.createDirectory(atPath: root + folder + "/" + sub, withIntermediateDirectories: true)
            }
            try "Subject: in \(folder)\n\nx\n".write(toFile: root + folder + "/cur/1.host:2,S", atomically: true, encoding: .utf8)
        }
        // A dot directory that is not a Maildir is left alone.
        try FileManager.default.createDirectory(atPath: root + "/.cache", withIntermediateDirectories: true)
        let (status, out) = try run("mstore", ["import", "ann", root, "--data", data])
        #expect(status == 0)
        #expect(out.contains("imported 1 messages into Work/Projects"))
        let store = try MailStore(path: data)
        defer { store.close() }
        let counts = try store.read { tx in
            let a = try tx.requireAccount(named: "ann")
            return try tx.mailboxes(of: a.id).map { "\($0.name)=\($0.messages)" }
        }
        #expect(counts == ["INBOX=1", "Sent=1", "Work=1", "Work/Projects=1"])
        #expect(try store.checkConsistency() == [])
    }

    /// Every mailbox of `user` by name, with each message's keyword names in UID order.
    func keywordsByMailbox(_ data: String, _ user: String) throws -> [String: [[String]]] {
        let store = try MailStore(path: data)
        defer { store.close() }
        return try store.read { tx in
            let account = try tx.requireAccount(named: user)
            let names = try tx.keywords(of: account.id)
            var result: [String: [[String]]] = [:]
            for box in try tx.mailboxes(of: account.id) {
                result[box.name] = try tx.messages(in: box.id).map { $0.keywords.compactMap { names[$0] }.sorted() }
            }
            return result
        }
    }

    @Test func dovecotKeywordsAndModifiedUTF7FolderNamesRoundTrip() async throws {
        let (dir, data) = try storeWithAnn()
        defer { try? FileManager.default.removeItem(atPath: dir) }
        #expect(try run("mstore", ["user", "add", "bob", "--data", data, "--password-stdin"], input: Array("pw\n".utf8)).0 == 0)
        let root = dir + "/Maildir"
        // Dovecot's names: Sentä and Work/日本語 in modified UTF-7; "AT&T" is not modified UTF-7
        // (a lone "&"), so it is taken as it is.
        for folder in ["", "/.Sent&AOQ-", "/.Work.&ZeVnLIqe-", "/.AT&T"] {
            for sub in ["cur", "new", "tmp"] {
                try FileManager.default.createDirectory(atPath: root + folder + "/" + sub, withIntermediateDirectories: true)
            }
        }
        try "0 $Forwarded\n1 Junk\n3 project-x\n".write(toFile: root + "/dovecot-keywords", atomically: true, encoding: .utf8)
        try "Subject: a\n\nx\n".write(toFile: root + "/cur/1.host:2,Sa", atomically: true, encoding: .utf8)
        try "Subject: b\n\nx\n".write(toFile: root + "/cur/2.host:2,Fbd", atomically: true, encoding: .utf8)
        // Letter c has no keyword in the file: ignored, as Dovecot does.
        try "Subject: c\n\nx\n".write(toFile: root + "/cur/3.host:2,c", atomically: true, encoding: .utf8)
        try "Subject: d\n\nx\n".write(toFile: root + "/.Sent&AOQ-/cur/4.host:2,S", atomically: true, encoding: .utf8)
        #expect(try run("mstore", ["import", "ann", root, "--data", data]).0 == 0)

        let expected: [String: [[String]]] = [
            "INBOX": [["$Forwarded"], ["Junk", "project-x"], []], "Sentä": [[]], "Work": [], "Work/日本語": [], "AT&T": [],
        ]
        #expect(try keywordsByMailbox(data, "ann") == expected)

        // Export writes dovecot-keywords, the letters and the modified UTF-7 names back.
        #expect(try run("mstore", ["export", "ann", "--all", dir + "/out", "--format", "maildir", "--data", data]).0 == 0)
        #expect(try String(contentsOfFile: dir + "/out/dovecot-keywords", encoding: .utf8) == "0 $Forwarded\n1 Junk\n2 project-x\n")
        let names = try FileManager.default.contentsOfDirectory(atPath: dir + "/out/cur").sorted()
        #expect(names.map { $0.components(separatedBy: ":2,").last ?? "?" } == ["Sa", "Fbc", ""])
        for folder in [".Sent&AOQ-", ".Work.&ZeVnLIqe-", ".AT&-T"] {
            #expect(FileManager.default.fileExists(atPath: dir + "/out/" + folder + "/cur"), "\(folder)")
        }
        #expect(!FileManager.default.fileExists(atPath: dir + "/out/.Sent&AOQ-/dovecot-keywords"))
        #expect(try run("mstore", ["import", "bob", dir + "/out", "--data", data]).0 == 0)
        #expect(try keywordsByMailbox(data, "bob") == expected)

        // A bad dovecot-keywords refuses the whole import before anything is written.
        try "0 Junk\nx Spam\n".write(toFile: root + "/.Sent&AOQ-/dovecot-keywords", atomically: true, encoding: .utf8)
        let (status, _) = try run("mstore", ["import", "ann", root, "--mailbox", "Never", "--data", data])
        #expect(status == 1)
        #expect(try keywordsByMailbox(data, "ann")["Never"] == nil)
        try "0 Ju(nk\n".write(toFile: root + "/.Sent&AOQ-/dovecot-keywords", atomically: true, encoding: .utf8)
        #expect(try run("mstore", ["import", "ann", root, "--mailbox", "Never", "--data", data]).0 == 1)
        let store = try MailStore(path: data)
        defer { store.close() }
        #expect(try store.checkConsistency() == [])
    }
}

@Suite struct ResumableImportTests {
    /// `count` messages in mbox form, CRLF, each about 1 KiB and unique, except that every
    /// 997th is the same message (so the source holds identical copies, which must each be
    /// imported once). Returns the file's text and the messages as the store keeps them.
    func generatedMbox(_ count: Int) -> (String, [[UInt8]]) {
        var text = "", messages: [[UInt8]] = []
        let filler = String(repeating: "lorem ipsum dolor sit amet ", count: 36)
        for i in 0..<count {
            let body = i % 997 == 0
                ? "Subject: the same every time\r\nMessage-ID: <same@gen>\r\n\r\nidentical\r\n"
                : "Subject: generated \(i)\r\nMessage-ID: <\(i)@gen>\r\n\r\nmessage \(i)\r\n\(filler)\r\n"
            text += "From gen@example.org Sat Jan  3 01:05:34 2026\r\n" + body + "\r\n"
            messages.append(Array(body.utf8))
        }
        return (text, messages)
    }

    func inboxContents(_ store: MailStore) throws -> [[UInt8]]? {
        try store.read { tx in
            guard let account = try tx.account(named: "ann"), let box = try tx.mailbox(of: account.id, named: "INBOX") else {
                return nil
            }
            return try tx.messages(in: box.id).map { try tx.content($0.content) }
        }
    }

    /// The real binary killed with SIGKILL after its first batch is durable, then run again:
    /// the mailbox ends with exactly the source's messages, each once.
    @Test func importKilledMidwayThenResumedStoresEachMessageOnce() async throws {
        let batch = 4000  // mstore's Import.batchSize: messages per durable write
        try await withScratch { dir, data in
            try addUser("ann", data)
            let (text, expected) = generatedMbox(30_000)
            try text.write(toFile: dir + "/big.mbox", atomically: true, encoding: .utf8)

            let process = Process()
            process.executableURL = URL(fileURLWithPath: productPath("mstore"))
            process.arguments = ["import", "ann", dir + "/big.mbox", "--data", data]
            process.standardOutput = FileHandle.nullDevice
            process.standardError = FileHandle.nullDevice
            try process.run()
            let store = try MailStore(path: data)
            defer { store.close() }
            var partial = 0
            let deadline = Date().addingTimeInterval(120)
            while partial < batch && process.isRunning && Date() < deadline {
                partial = try store.read { tx in
                    try tx.account(named: "ann").flatMap { try tx.mailbox(of: $0.id, named: "INBOX") }?.messages
                } ?? 0
                // A blocking pause, not Task.sleep: a suspended test may wait long for a free
                // cooperative thread on a loaded machine, and the import would finish meanwhile.
                if partial < batch { usleep(2_000) }
            }
            kill(process.processIdentifier, SIGKILL)
            process.waitUntilExit()
            #expect(process.terminationReason == .uncaughtSignal, "the import ended before it was killed")
            let stored = try inboxContents(store) ?? []
            #expect(stored.count >= batch && stored.count < expected.count, "\(stored.count) stored when killed")
            #expect(stored == Array(expected.prefix(stored.count)), "the stored messages are a prefix of the source")

            let resumed = try mstore(["import", "ann", dir + "/big.mbox", "--data", data])
            #expect(resumed.status == 0, "\(resumed.err)")
            #expect(resumed.out == "imported \(expected.count - stored.count) messages into INBOX (\(stored.count) already there, skipped)\n")
            #expect(try inboxContents(store) == expected)

            // Once more: nothing new.
            let again = try mstore(["import", "ann", dir + "/big.mbox", "--data", data])
            #expect(again.out == "imported 0 messages into INBOX (\(expected.count) already there, skipped)\n")
            #expect(try inboxContents(store)?.count == expected.count)
            #expect(try mstore(["check", "--data", data]).status == 0)
        }
    }

    /// A Maildir imported twice is stored once; a message added to it since is the only one
    /// the second run stores.
    @Test func maildirImportedTwiceIsStoredOnce() async throws {
        try await withScratch { dir, data in
            try addUser("ann", data)
            let count = try makeFlagMaildir(dir + "/src")
            #expect(try mstore(["import", "ann", dir + "/src", "--data", data]).out == "imported \(count) messages into INBOX\n")
            try "Subject: later\r\n\r\nnew\r\n".write(toFile: dir + "/src/new/2000.host", atomically: true, encoding: .utf8)
            let again = try mstore(["import", "ann", dir + "/src", "--data", data])
            #expect(again.out == "imported 1 messages into INBOX (\(count) already there, skipped)\n")
            #expect(try snapshot(data, "ann", "INBOX").count == count + 1)
        }
    }
}
