import Foundation
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
}
