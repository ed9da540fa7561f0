import Foundation
import TestSupport
import Testing
@testable import MailStore

/// Runs `mstore` with `arguments`; returns its status, stdout and stderr.
@discardableResult
func mstore(_ arguments: [String], input: [UInt8] = []) throws -> (status: Int32, out: String, err: String) {
    try runProcess(productPath("mstore"), arguments, input: input)
}

/// A user error: status 1 and exactly one line on stderr, containing `text`.
func expectUserError(_ result: (status: Int32, out: String, err: String), _ text: String,
                     sourceLocation: SourceLocation = #_sourceLocation) {
    #expect(result.status == 1, "status \(result.status): \(result.err)", sourceLocation: sourceLocation)
    #expect(result.err.hasPrefix("mstore: ") && result.err.hasSuffix("\n") && result.err.filter { $0 == "\n" }.count == 1,
            "\(result.err.debugDescription)", sourceLocation: sourceLocation)
    #expect(result.err.contains(text), "\(result.err.debugDescription)", sourceLocation: sourceLocation)
}

/// A scratch directory with a data directory inside, removed at the end.
func withScratch(_ body: (_ dir: String, _ data: String) async throws -> Void) async throws {
    let dir = temporaryStorePath()
    try FileManager.default.createDirectory(atPath: dir, withIntermediateDirectories: true)
    defer { try? FileManager.default.removeItem(atPath: dir) }
    try await body(dir, dir + "/data")
}

func addUser(_ name: String, _ data: String) throws {
    #expect(try mstore(["user", "add", name, "--data", data, "--password-stdin"], input: Array("pw\n".utf8)).status == 0)
}

/// (bytes, flags, internal date) of every message of a mailbox, in UID order.
func snapshot(_ data: String, _ user: String, _ mailbox: String) throws -> [([UInt8], MessageFlags, Int64)] {
    let store = try MailStore(path: data)
    defer { store.close() }
    return try store.read { tx in
        let box = try tx.requireMailbox(of: try tx.requireAccount(named: user).id, named: mailbox)
        return try tx.messages(in: box.id).map { (try tx.content($0.content), $0.flags, $0.internalDate.seconds) }
    }
}

func sameMessages(_ a: [([UInt8], MessageFlags, Int64)], _ b: [([UInt8], MessageFlags, Int64)], flags: Bool = true) -> Bool {
    a.count == b.count && zip(a, b).allSatisfy { $0.0 == $1.0 && $0.2 == $1.2 && (!flags || $0.1 == $1.1) }
}

/// A Maildir of 32 messages, one per combination of the five Maildir flags, each with `From `
/// lines (plain and already quoted) in its body and its own mtime.
func makeFlagMaildir(_ path: String) throws -> Int {
    for sub in ["cur", "new", "tmp"] {
        try FileManager.default.createDirectory(atPath: path + "/" + sub, withIntermediateDirectories: true)
    }
    let letters: [Character] = ["D", "F", "R", "S", "T"]
    for n in 0..<32 {
        let info = String(letters.enumerated().filter { n & (1 << $0.offset) != 0 }.map(\.element))
        let body = "Subject: flags \(n)\r\nFrom: a@example.org\r\n\r\nFrom the start \(n)\r\n>From once\r\n"
            + ">>From twice\r\nFrom\r\n From not at the start\r\n\r\nFrom \r\nlast line\r\n"
        let file = path + "/cur/\(1000 + n).host:2,\(info)"
        try body.write(toFile: file, atomically: false, encoding: .utf8)
        let date = Date(timeIntervalSince1970: TimeInterval(1_421_628_010 + n * 86_400))
        try FileManager.default.setAttributes([.modificationDate: date], ofItemAtPath: file)
    }
    return 32
}

@Suite struct ExportCLITests {
    @Test func maildirAndMboxRoundTripsKeepBytesFlagsAndDates() async throws {
        try await withScratch { dir, data in
            for user in ["ann", "bob", "cat"] { try addUser(user, data) }
            let count = try makeFlagMaildir(dir + "/src")
            #expect(try mstore(["import", "ann", dir + "/src", "--data", data]).status == 0)
            let original = try snapshot(data, "ann", "INBOX")
            #expect(original.count == count)
            #expect(Set(original.map { $0.1.rawValue }).count == 32)

            // Maildir: bytes, every flag and the dates survive.
            let md = try mstore(["export", "ann", "INBOX", dir + "/out.maildir", "--format", "maildir", "--data", data])
            #expect(md.status == 0, "\(md.err)")
            #expect(md.out == "exported 32 messages from 1 mailbox to \(dir)/out.maildir\n")
            let names = try FileManager.default.contentsOfDirectory(atPath: dir + "/out.maildir/cur").sorted()
            #expect(names.first == "1421628010.0000000001.mstore:2,")
            #expect(names.contains("1424306410.0000000032.mstore:2,DFRST"))
            #expect(names.contains("1422232810.0000000008.mstore:2,DFR"))
            let mtime = try FileManager.default.attributesOfItem(atPath: dir + "/out.maildir/cur/" + names[0])[.modificationDate] as? Date
            #expect(mtime?.timeIntervalSince1970 == 1_421_628_010)
            #expect(try mstore(["import", "bob", dir + "/out.maildir", "--data", data]).status == 0)
            #expect(sameMessages(original, try snapshot(data, "bob", "INBOX")))

            // mbox: bytes and dates survive (mbox has no flags), with mboxrd quoting on disk.
            let mb = try mstore(["export", "ann", "INBOX", dir + "/out.mbox", "--data", data])
            #expect(mb.status == 0, "\(mb.err)")
            let text = try String(contentsOfFile: dir + "/out.mbox", encoding: .utf8)
            #expect(text.hasPrefix("From MAILER-DAEMON Mon Jan 19 00:40:10 2015\nSubject: flags 0\r\n"))
            #expect(text.contains("\r\n\r\n>From the start 0\r\n>>From once\r\n>>>From twice\r\nFrom\r\n From not at the start\r\n\r\n>From \r\nlast line\r\n\nFrom MAILER-DAEMON Tue Jan 20 00:40:10 2015\n"))
            #expect(try mstore(["import", "cat", dir + "/out.mbox", "--data", data]).status == 0)
            #expect(sameMessages(original, try snapshot(data, "cat", "INBOX"), flags: false))
            #expect(try mstore(["check", "--data", data]).status == 0)

            // Three users hold the same 32 contents: stored once each.
            let stats = try mstore(["stats", "--json", "--top", "2", "--data", data])
            #expect(stats.status == 0)
            let json = try JSONSerialization.jsonObject(with: Data(stats.out.utf8)) as? [String: Any]
            #expect(json?["contents"] as? Int == 32)
            #expect(json?["dedupRatio"] as? Double == 3)
            let largest = json?["largestMailboxes"] as? [[String: Any]] ?? []
            #expect(largest.map { $0["user"] as? String } == ["ann", "bob"])
            #expect(largest.first?["messages"] as? Int == 32)
        }
    }

    @Test func envelopeSenderAndAllMailboxes() async throws {
        try await withScratch { dir, data in
            try addUser("ann", data)
            let m = Array("Subject: hi\r\n\r\nbody\r\n".utf8)
            #expect(try mstore(["deliver", "ann", "--from", "sender@example.org", "--data", data], input: m).status == 0)
            #expect(try mstore(["mailbox", "create", "ann", "Old/Box", "--data", data]).status == 0)
            #expect(try mstore(["deliver", "ann", "--mailbox", "Old/Box", "--data", data], input: m).status == 0)

            #expect(try mstore(["export", "ann", "--all", dir + "/all", "--data", data]).status == 0)
            let inbox = try String(contentsOfFile: dir + "/all/INBOX.mbox", encoding: .utf8)
            #expect(inbox.hasPrefix("From sender@example.org "))
            #expect(FileManager.default.fileExists(atPath: dir + "/all/Old.mbox"))
            #expect(try String(contentsOfFile: dir + "/all/Old/Box.mbox", encoding: .utf8).hasPrefix("From MAILER-DAEMON "))

            #expect(try mstore(["export", "ann", "--all", dir + "/md", "--format", "maildir", "--data", data]).status == 0)
            for sub in ["cur", "new", "tmp", ".Old/cur", ".Old.Box/cur"] {
                #expect(FileManager.default.fileExists(atPath: dir + "/md/" + sub), "\(sub)")
            }
            #expect(try FileManager.default.contentsOfDirectory(atPath: dir + "/md/.Old.Box/cur").count == 1)
        }
    }

    @Test func refusesExistingDestinationAndBadArguments() async throws {
        try await withScratch { dir, data in
            try addUser("ann", data)
            try "keep".write(toFile: dir + "/exists", atomically: true, encoding: .utf8)
            expectUserError(try mstore(["export", "ann", "INBOX", dir + "/exists", "--data", data]), "already exists")
            #expect(try String(contentsOfFile: dir + "/exists", encoding: .utf8) == "keep")
            try FileManager.default.createDirectory(atPath: dir + "/emptydir", withIntermediateDirectories: false)
            expectUserError(try mstore(["export", "ann", "--all", dir + "/emptydir", "--data", data]), "already exists")
            expectUserError(try mstore(["export", "ann", "Nope", dir + "/x", "--data", data]), "no mailbox Nope")
            expectUserError(try mstore(["export", "zed", "INBOX", dir + "/x", "--data", data]), "unknown user zed")
            #expect(!FileManager.default.fileExists(atPath: dir + "/x"))
            #expect(try mstore(["export", "ann", "INBOX", "--data", data]).status == 2)
            #expect(try mstore(["export", "ann", "INBOX", dir + "/y", "--all", "--data", data]).status == 2)
            #expect(try mstore(["export", "ann", "INBOX", dir + "/y", "--format", "mh", "--data", data]).status == 2)
            // Nothing but the files made above, and no leftovers.
            #expect(try FileManager.default.contentsOfDirectory(atPath: dir).sorted() == ["data", "emptydir", "exists"])
        }
    }
}

@Suite struct BackupCLITests {
    /// Backs up while another process delivers in a loop; the restored store holds at least
    /// every message acknowledged before the backup started, and is consistent.
    @Test func backupWhileDeliveringThenRestore() async throws {
        try await withScratch { dir, data in
            try addUser("ann", data)
            let log = dir + "/delivered.log", stop = dir + "/stop"
            let loop = Process()
            loop.executableURL = URL(fileURLWithPath: "/bin/sh")
            loop.arguments = ["-c", """
                i=0
                while [ ! -e "$STOP" ]; do
                  printf 'Subject: loop %s\\r\\n\\r\\nbody\\r\\n' "$i" | "$MSTORE" deliver ann --data "$DATA" >> "$LOG" || exit 1
                  i=$((i+1))
                done
                """]
            loop.environment = ["STOP": stop, "MSTORE": productPath("mstore"), "DATA": data, "LOG": log, "PATH": "/usr/bin:/bin"]
            try loop.run()
            let watchdog = killAfter(childTimeout, loop)
            defer { watchdog.cancel() }
            func acknowledged() -> Int {
                ((try? String(contentsOfFile: log, encoding: .utf8)) ?? "").split(separator: "\n")
                    .filter { $0.hasPrefix("delivered uid ") }.count
            }
            let deadline = Date().addingTimeInterval(60)
            while acknowledged() < 5 && Date() < deadline { try await Task.sleep(for: .milliseconds(50)) }
            let before = acknowledged()
            #expect(before >= 5)
            let backup = try mstore(["backup", dir + "/bk", "--data", data])
            let afterStart = acknowledged()
            FileManager.default.createFile(atPath: stop, contents: nil)
            loop.waitUntilExit()
            #expect(loop.terminationStatus == 0)
            #expect(backup.status == 0, "\(backup.err)")
            #expect(backup.out.hasPrefix("backed up 1 users, 1 mailboxes, "))

            let manifest = try JSONSerialization.jsonObject(
                with: Data(contentsOf: URL(fileURLWithPath: dir + "/bk/manifest.json"))) as? [String: Any]
            let files = manifest?["files"] as? [[String: Any]] ?? []
            #expect(files.count == 1)
            #expect((files.first?["sha256"] as? String)?.count == 64)
            #expect(manifest?["schemaVersion"] as? Int == MailStore.schemaVersion)
            let backedUp = manifest?["messages"] as? Int ?? -1
            #expect(backedUp >= before)

            let restored = try mstore(["restore", dir + "/bk", "--data", dir + "/restored"])
            #expect(restored.status == 0, "\(restored.err)")
            #expect(try mstore(["check", "--data", dir + "/restored"]).status == 0)
            let messages = try snapshot(dir + "/restored", "ann", "INBOX").count
            #expect(messages >= before && messages == backedUp && messages <= acknowledged(),
                    "before \(before), at backup end \(afterStart), restored \(messages)")
            let live = try snapshot(data, "ann", "INBOX")
            #expect(live.count == acknowledged())
        }
    }

    @Test func refusals() async throws {
        try await withScratch { dir, data in
            try addUser("ann", data)
            try FileManager.default.createDirectory(atPath: dir + "/bk", withIntermediateDirectories: false)
            expectUserError(try mstore(["backup", dir + "/bk", "--data", data]), "already exists")
            try FileManager.default.removeItem(atPath: dir + "/bk")
            #expect(try mstore(["backup", dir + "/bk", "--compact", "--data", data]).status == 0)

            // Only into a new or empty directory.
            try FileManager.default.createDirectory(atPath: dir + "/full", withIntermediateDirectories: false)
            try "x".write(toFile: dir + "/full/keep", atomically: true, encoding: .utf8)
            expectUserError(try mstore(["restore", dir + "/bk", "--data", dir + "/full"]), "not empty")
            #expect(try FileManager.default.contentsOfDirectory(atPath: dir + "/full") == ["keep"])
            expectUserError(try mstore(["restore", dir + "/none", "--data", dir + "/r1"]), "manifest.json")
            try FileManager.default.createDirectory(atPath: dir + "/empty", withIntermediateDirectories: false)
            #expect(try mstore(["restore", dir + "/bk", "--data", dir + "/empty"]).status == 0)
            #expect(try mstore(["check", "--data", dir + "/empty"]).status == 0)

            // A damaged copy is refused and leaves nothing behind.
            let manifest = try JSONSerialization.jsonObject(
                with: Data(contentsOf: URL(fileURLWithPath: dir + "/bk/manifest.json"))) as? [String: Any]
            let name = (manifest?["files"] as? [[String: Any]])?.first?["name"] as? String ?? "?"
            let handle = try #require(FileHandle(forUpdatingAtPath: dir + "/bk/" + name))
            try handle.seek(toOffset: 100)
            let byte = try handle.read(upToCount: 1)?.first ?? 0
            try handle.seek(toOffset: 100)
            try handle.write(contentsOf: [byte ^ 0xFF])
            try handle.close()
            expectUserError(try mstore(["restore", dir + "/bk", "--data", dir + "/r2"]), "checksum")
            #expect(!FileManager.default.fileExists(atPath: dir + "/r2"))
            #expect(try FileManager.default.contentsOfDirectory(atPath: dir).filter { $0.contains("restore") } == [])
        }
    }
}

@Suite struct ExpungeAndQuotaCLITests {
    @Test func expungeBeforeDateAndDeleted() async throws {
        try await withScratch { dir, data in
            try addUser("ann", data)
            _ = try makeFlagMaildir(dir + "/src")  // one a day from 2015-01-19; T (deleted) when n & 16
            #expect(try mstore(["import", "ann", dir + "/src", "--data", data]).status == 0)
            // 2015-01-19 … 2015-01-28 are the first ten.
            let old = try mstore(["expunge", "ann", "INBOX", "--before", "2015-01-29", "--data", data])
            #expect(old.status == 0, "\(old.err)")
            #expect(old.out == "expunged 10 messages from INBOX\n")
            #expect(try mstore(["expunge", "ann", "INBOX", "--before", "2015-01-29", "--data", data]).out
                == "expunged 0 messages from INBOX\n")
            let deleted = try mstore(["expunge", "ann", "INBOX", "--deleted", "--data", data])
            #expect(deleted.out == "expunged 16 messages from INBOX\n")
            let left = try snapshot(data, "ann", "INBOX")
            #expect(left.count == 6 && left.allSatisfy { !$0.1.contains(.deleted) })

            #expect(try mstore(["expunge", "ann", "INBOX", "--data", data]).status == 2)
            #expect(try mstore(["expunge", "ann", "INBOX", "--deleted", "--before", "2015-01-01", "--data", data]).status == 2)
            #expect(try mstore(["expunge", "ann", "INBOX", "--before", "2015-02-30", "--data", data]).status == 2)
            #expect(try mstore(["expunge", "ann", "INBOX", "--before", "yesterday", "--data", data]).status == 2)
            expectUserError(try mstore(["expunge", "ann", "Nope", "--deleted", "--data", data]), "no mailbox Nope")
            #expect(try mstore(["check", "--data", data]).status == 0)
        }
    }

    @Test func quotaRecalcRepairsUsage() async throws {
        try await withScratch { dir, data in
            try addUser("ann", data)
            try addUser("bob", data)
            let m = Array("Subject: hi\r\n\r\nbody\r\n".utf8)
            #expect(try mstore(["deliver", "ann", "--data", data], input: m).status == 0)
            let fine = try mstore(["quota", "recalc", "--data", data])
            #expect(fine.status == 0)
            #expect(fine.out.hasPrefix("ann: 1 messages, ") && !fine.out.contains("was") && fine.out.contains("bob: 0 messages, 0 bytes"))
            do {
                let store = try MailStore(path: data)
                defer { store.close() }
                try await store.write { tx in
                    var a = try tx.requireAccount(named: "ann")
                    a.usedBytes = 5; a.usedMessages = 7
                    try tx.save(a)
                }
                #expect(try store.checkConsistency() != [])
            }
            let fixed = try mstore(["quota", "recalc", "ann", "--json", "--data", data])
            #expect(fixed.status == 0)
            #expect(fixed.out.contains("\"oldMessages\" : 7") && fixed.out.contains("\"messages\" : 1")
                && fixed.out.contains("\"changed\" : true"))
            #expect(try mstore(["check", "--data", data]).status == 0)
            expectUserError(try mstore(["quota", "recalc", "zed", "--data", data]), "unknown user zed")
        }
    }
}

@Suite struct UsageRecalculationTests {
    @Test func recomputesFromMessageRecords() async throws {
        try await withStore { store in
            let (alice, inbox) = try await makeAlice(store)
            let sizes = try await store.write { tx in
                let other = try tx.createMailbox(account: alice.id, name: "Other")
                let a = try tx.append(to: inbox.id, message(1))
                let b = try tx.append(to: other.id, message(2, extra: 5000))
                _ = try tx.copy(uids: [b.uid], from: other.id, to: inbox.id)
                var account = try tx.requireAccount(alice.id)
                account.usedBytes = 0; account.usedMessages = 99
                try tx.save(account)
                return a.size + 2 * b.size
            }
            let first = try await store.write { tx in try tx.recalculateUsage(alice.id) }
            #expect(first == UsageRecalculation(account: "alice", oldBytes: 0, oldMessages: 99, newBytes: sizes, newMessages: 3))
            let again = try await store.write { tx in try tx.recalculateUsage(alice.id) }
            #expect(!again.changed)
            let account = try store.read { try $0.requireAccount(named: "alice") }
            #expect(account.usedBytes == sizes && account.usedMessages == 3)
        }
    }
}
