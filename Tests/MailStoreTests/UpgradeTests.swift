import Foundation
import Testing
@testable import MailStore

@Suite struct UpgradeTests {
    /// A store the test writes in an older schema: no full-text index, `version` recorded.
    func writeOldStore(_ path: String, damage: Bool = false, version: UInt32 = 1) async throws {
        let store = try MailStore(path: path)
        defer { store.close() }
        let (_, inbox) = try await makeAlice(store)
        try await store.write { tx in
            for i in 0..<20 { try tx.append(to: inbox.id, message(i, body: "needle\(i)")) }
            try tx.dropIndex(inbox.id)
            var keys: [[UInt8]] = []
            try tx.kv.scan(.sortKeys, prefix: []) { k, _ in keys.append(Array(k)); return true }
            for k in keys { try tx.w.delete(.sortKeys, k) }
            try tx.keepHashIndexAsBeforeSchemaSeven()
            if damage {
                // A content record the upgrade cannot decode.
                let record = try #require(try tx.messages(in: inbox.id).last)
                try tx.w.put(.contents, Keys.content(record.content), [99])
            }
            try tx.w.put(.meta, Keys.schemaVersion, ByteWriter.u32Bytes(version))
        }
    }

    func schemaAndAccounts(_ path: String) throws -> (Int?, Int) {
        let backend = try LMDBBackend(path: path, mapSize: 64 << 20, noSync: false)
        return try backend.read { kv in
            (try kv.withValue(.meta, Keys.schemaVersion) { $0.map { Int(readU32($0, at: 0)) } }, try kv.count(.accounts))
        }
    }

    func bytes(_ file: String) throws -> Data { try Data(contentsOf: URL(fileURLWithPath: file)) }

    /// Opening a store of an older schema copies it into a directory inside the data directory,
    /// then upgrades it: the copy is the old store, the upgraded one is indexed and consistent.
    /// Schema 1 had no full-text index; schema 2 folded search text without NFKD, so its index
    /// is built again too.
    @Test(arguments: [UInt32(1), 2]) func upgradeWritesABackupFirst(from old: UInt32) async throws {
        let path = temporaryStorePath()
        defer { try? FileManager.default.removeItem(atPath: path) }
        try await writeOldStore(path, version: old)
        let store = try MailStore(path: path)
        defer { store.close() }
        let backup = try #require(store.upgradeBackup)
        #expect(backup.hasPrefix(path + "/" + MailStore.upgradeBackupPrefix + "\(old)-"))
        let inbox = try store.read { tx in try tx.requireMailbox(of: try tx.requireAccount(named: "alice").id, named: "INBOX") }
        #expect(try store.read { try $0.search(in: inbox.id, .text(.body, "needle17")).uids } == [UID(18)])
        // The hash index held every content: its mark is set past them all.
        #expect(try store.read { tx in try tx.hashIndexedThrough() == tx.newestContentID().rawValue })
        #expect(try store.checkConsistency() == [])
        let (version, accounts) = try schemaAndAccounts(backup)
        #expect(version == Int(old) && accounts == 1)
        #expect(try schemaAndAccounts(path).0 == MailStore.schemaVersion)
        // Opened again: nothing more to do.
        let again = try MailStore(path: path)
        #expect(again.upgradeBackup == nil)
        again.close()
    }

    /// Schema 3 had no flag, date or size index, schema 4 no size index: the upgrade builds them
    /// from the message records and keeps the full-text index as it was; flag, keyword, date and
    /// size searches then come from them.
    @Test(arguments: [UInt32(3), 4]) func upgradeBuildsTheRecordIndexes(from version: UInt32) async throws {
        let path = temporaryStorePath()
        defer { try? FileManager.default.removeItem(atPath: path) }
        do {
            let store = try MailStore(path: path)
            defer { store.close() }
            let (_, inbox) = try await makeAlice(store)
            try await store.write { tx in
                for i in 0..<20 {
                    try tx.append(to: inbox.id, message(i, body: "needle\(i)"), flags: i % 3 == 0 ? [.flagged, .seen] : [],
                                  keywords: i % 4 == 0 ? ["$Important"] : [])
                }
                try tx.w.clear(.flagIndex)
                try tx.w.clear(.dateIndex)
                try tx.w.clear(.sizeIndex)
                try tx.keepHashIndexAsBeforeSchemaSeven()
                try tx.w.put(.meta, Keys.schemaVersion, ByteWriter.u32Bytes(version))
            }
        }
        let store = try MailStore(path: path)
        defer { store.close() }
        #expect(store.upgradeBackup != nil)
        let inbox = try store.read { tx in try tx.requireMailbox(of: try tx.requireAccount(named: "alice").id, named: "INBOX") }
        let flagged = try store.read { try $0.search(in: inbox.id, .flags([.flagged, .seen])) }
        #expect(flagged.uids.map(\.rawValue) == [1, 4, 7, 10, 13, 16, 19])
        #expect(flagged.plan.contains("flags: index"), "\(flagged.plan)")
        let important = try store.read { try $0.search(in: inbox.id, .keyword("$important")) }
        #expect(important.uids.map(\.rawValue) == [1, 5, 9, 13, 17])
        let today = SearchPlanner.day(ZonedDate.now().seconds, 0)
        let recent = try store.read { try $0.search(in: inbox.id, .internalDate(.since(day: today - 1))) }
        #expect(recent.uids.count == 20 && recent.plan.contains("internal date"), "\(recent.plan)")
        #expect(try store.read { try $0.search(in: inbox.id, .internalDate(.before(day: today - 1))) }.uids.isEmpty)
        #expect(try store.read { try $0.search(in: inbox.id, .text(.body, "needle17")).uids } == [UID(18)])
        let sizes = try store.read { tx in try tx.messages(in: inbox.id).map(\.size) }
        let median = sizes.sorted()[sizes.count / 2]
        let larger = try store.read { try $0.search(in: inbox.id, .larger(median)) }
        #expect(larger.uids.count == sizes.filter { $0 > median }.count && larger.plan.contains("size: index"), "\(larger.plan)")
        #expect(try store.checkConsistency() == [])
    }

    /// An upgrade that fails leaves the store's file exactly as it was and says so on one
    /// line, naming the copy; the CLI exits 3.
    @Test func failedUpgradeLeavesTheStoreUntouched() async throws {
        let path = temporaryStorePath()
        defer { try? FileManager.default.removeItem(atPath: path) }
        try await writeOldStore(path, damage: true)
        let file = path + "/data.mdb"
        let before = try bytes(file)
        do {
            _ = try MailStore(path: path)
            Issue.record("the upgrade should have failed")
        } catch let error as MailStoreError {
            guard case .upgradeFailed(let from, let to, let backup, _) = error else {
                Issue.record("\(error)")
                return
            }
            #expect(from == 1 && to == MailStore.schemaVersion)
            #expect(FileManager.default.fileExists(atPath: backup + "/data.mdb"))
        }
        #expect(try bytes(file) == before)
        #expect(try schemaAndAccounts(path).0 == 1)
        let result = try mstore(["user", "list", "--data", path])
        #expect(result.status == 3)
        #expect(result.err.hasPrefix("mstore: upgrading the store from schema 1 to \(MailStore.schemaVersion) failed, and the store was left as it was"))
        #expect(result.err.filter { $0 == "\n" }.count == 1)
        #expect(try bytes(file) == before)
    }
}
