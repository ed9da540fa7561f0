import Foundation
import Testing
@testable import MailStore

@Suite struct RepairTests {
    /// Every kind of derived data damaged through the library; `check` finds each, `check
    /// --repair` rebuilds them all, and every message keeps its bytes, flags and date.
    @Test func repairRebuildsDamagedDerivedData() async throws {
        try await withScratch { dir, data in
            try addUser("ann", data)
            _ = try makeFlagMaildir(dir + "/src")
            #expect(try mstore(["import", "ann", dir + "/src", "--data", data]).status == 0)
            #expect(try mstore(["import", "ann", dir + "/src", "--mailbox", "Copy", "--data", data]).status == 0)
            #expect(try mstore(["import", "ann", dir + "/src", "--mailbox", "Gone", "--data", data]).status == 0)
            let inbox = try snapshot(data, "ann", "INBOX"), copy = try snapshot(data, "ann", "Copy")
            do {
                let store = try MailStore(path: data)
                defer { store.close() }
                try await store.write { tx in
                    let account = try tx.requireAccount(named: "ann")
                    // A mailbox deleted behind the index's back: its segments stay.
                    let gone = try tx.requireMailbox(of: account.id, named: "Gone")
                    let segments = try tx.segmentList(gone.id)
                    try tx.deleteMailbox(gone.id)
                    for s in segments { try tx.w.put(.textSegments, Keys.segment(gone.id, s.id), s.info.encoded()) }
                    var box = try tx.requireMailbox(of: account.id, named: "INBOX")
                    let records = try tx.messages(in: box.id)
                    // Counts, UIDNEXT and usage.
                    box.messages += 3; box.unseen = 0; box.uidNext = UID(2)
                    try tx.save(box)
                    var a = account
                    a.usedBytes = 1; a.usedMessages = 1
                    try tx.save(a)
                    // A change-log entry, sort keys and the whole index of INBOX.
                    try tx.w.delete(.changes, Keys.change(box.id, records[4].modSeq, records[4].uid))
                    try tx.w.delete(.sortKeys, Keys.message(box.id, records[5].uid))
                    try tx.dropIndex(box.id)
                    // The flag index: an entry lost, one too many, one of the deleted mailbox.
                    let flagged = try #require(records.first { !$0.flags.isEmpty })
                    try tx.w.delete(.flagIndex, Keys.flagged(box.id, RecordIndex.tags(flagged.flags, flagged.keywords)[0], flagged.uid))
                    try tx.w.put(.flagIndex, Keys.flagged(box.id, RecordIndex.keywordBit | 4000, records[6].uid), [])
                    try tx.w.put(.flagIndex, Keys.flagged(gone.id, 1, UID(1)), [])
                    // The size index: an entry in the wrong class.
                    try tx.w.delete(.sizeIndex, Keys.sized(box.id, RecordIndex.sizeClass(records[4].size), records[4].uid))
                    try tx.w.put(.sizeIndex, Keys.sized(box.id, RecordIndex.sizeClass(records[4].size) + 9, records[4].uid), [])
                    // A reference count, a parsed structure, the hash index.
                    var content = try #require(try tx.contentRecord(records[0].content))
                    content.references += 5
                    content.structure = try #require(try tx.contentRecord(records[1].content)).structure
                    try tx.w.put(.contents, Keys.content(records[0].content), content.encoded())
                    // (Entered first: a store this small has no content in the index yet.)
                    try tx.indexContentHashes(newest: try tx.newestContentID(), minimum: 0)
                    let hashed = try #require(try tx.contentRecord(records[2].content))
                    try tx.w.delete(.contentHashes, hashed.sha256)
                    // A content record lost while its pieces stay.
                    try tx.w.delete(.contents, Keys.content(records[3].content))
                    // Content no message refers to, and a piece of no content.
                    _ = try tx.retainContent(PreparedMessage(Array("Subject: orphan\r\n\r\nnobody\r\n".utf8)))
                    try tx.w.put(.chunks, Keys.chunk(ContentID(rawValue: 999_999), 0), [1, 2, 3])
                }
                #expect(try store.checkConsistency().count >= 10)
            }
            let plain = try mstore(["check", "--data", data])
            #expect(plain.status == 1)
            #expect(plain.out.contains("INBOX: counts") && plain.out.contains("parsed structure differs")
                    && plain.out.contains("INBOX: flagIndex lacks") && plain.out.contains("flagIndex entry of a deleted mailbox")
                    && plain.out.contains("INBOX: sizeIndex lacks"),
                    "\(plain.out)")

            let repaired = try mstore(["check", "--repair", "--data", data])
            #expect(repaired.status == 0, "\(repaired.out)\(repaired.err)")
            let lines = repaired.out.split(separator: "\n").map(String.init)
            for text in ["repaired: INBOX: counts", "repaired: INBOX: UIDNEXT", "repaired: ann: usage",
                         "repaired: INBOX: 1 messages added to the change log", "repaired: INBOX: text index and sort keys rebuilt",
                         "parsed structure rebuilt", "references recounted", "hash index entry restored",
                         "record rebuilt from its", "no message refers to it; removed", "content pieces without content removed",
                         "text segments of deleted mailboxes removed", "repaired: INBOX: flag, date and size indexes rebuilt",
                         "flag, date and size indexes of 1 deleted mailbox removed"] {
                #expect(lines.contains { $0.contains(text) }, "missing \(text) in \(repaired.out)")
            }
            #expect(lines.last?.hasPrefix("store is consistent: ") == true, "\(repaired.out)")
            #expect(sameMessages(try snapshot(data, "ann", "INBOX"), inbox))
            #expect(sameMessages(try snapshot(data, "ann", "Copy"), copy))
            #expect(try mstore(["check", "--data", data]).out == "store is consistent\n")
            #expect(try mstore(["search", "--data", data, "ann", "INBOX", "SUBJECT", "flags"]).out.split(separator: "\n").count == 32)
            #expect(try mstore(["check", "--repair", "--data", data]).out == "store is consistent\n")
        }
    }

    /// A message whose bytes are gone cannot be rebuilt: repair keeps its record, reports the
    /// problem as remaining and exits 1.
    @Test func unreadableContentRemainsAndIsReported() async throws {
        try await withScratch { dir, data in
            try addUser("ann", data)
            #expect(try mstore(["deliver", "ann", "--data", data], input: Array("Subject: a\r\n\r\nx\r\n".utf8)).status == 0)
            do {
                let store = try MailStore(path: data)
                defer { store.close() }
                try await store.write { tx in
                    let box = try tx.requireMailbox(of: try tx.requireAccount(named: "ann").id, named: "INBOX")
                    let record = try #require(try tx.messages(in: box.id).first)
                    try tx.w.delete(.chunks, Keys.chunk(record.content, 0))
                }
            }
            let result = try mstore(["check", "--repair", "--json", "--data", data])
            #expect(result.status == 1)
            let report = try JSONSerialization.jsonObject(with: Data(result.out.utf8)) as? [String: [String]]
            #expect(report?["remaining"]?.contains { $0.contains("pieces do not add up") } == true, "\(result.out)")
            #expect(try snapshot(data, "ann", "INBOX").count == 1)
        }
    }
}
