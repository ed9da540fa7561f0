import Foundation
import Testing
@testable import LMDB
import TestSupport

func temporaryDirectory(_ name: String = #function) -> String {
    let path = scratchPath("lmdb")
    try? FileManager.default.createDirectory(atPath: path, withIntermediateDirectories: true)
    return path
}

@Suite struct EnvironmentTests {
    @Test func openTwiceGivesTheSameEnvironment() throws {
        let path = temporaryDirectory()
        let a = try Environment.open(path: path)
        let b = try Environment.open(path: path + "/.")
        #expect(a === b)
    }

    @Test func putGetDeleteRoundTrip() throws {
        let env = try Environment.open(path: temporaryDirectory())
        let db = try env.openDatabases(["t"])[0]
        try env.write { tx in
            try tx.put(db, [1, 2], [9, 9, 9])
            let c1 = try tx.insert(db, [1, 3], [7])
            #expect(c1)
            let c2 = try !tx.insert(db, [1, 3], [8])
            #expect(c2)
        }
        try env.read { tx in
            let c3 = try tx.get(db, [1, 2]) == [9, 9, 9]
            #expect(c3)
            let c4 = try tx.get(db, [1, 3]) == [7]
            #expect(c4)
            let c5 = try tx.get(db, [5]) == nil
            #expect(c5)
            let c6 = try tx.count(db) == 2
            #expect(c6)
        }
        try env.write { tx in
            let c7 = try tx.delete(db, [1, 2])
            #expect(c7)
            let c8 = try !tx.delete(db, [1, 2])
            #expect(c8)
        }
        #expect(try env.read { try $0.get(db, [1, 2]) } == nil)
    }

    @Test func appendingPutsPackPagesAndFallBackWhenNotLast() throws {
        // 1,000 ascending keys with 1,500-byte values, one per transaction as a store writes
        // them: appended, the leaves end up fuller than with plain puts, which split in half.
        func fill(likelyLast: Bool) throws -> (Environment, Database) {
            let env = try Environment.open(path: temporaryDirectory())
            let db = try env.openDatabases(["t"])[0]
            for n in 0..<1000 {
                var key = UInt32(n).bigEndian
                let value = [UInt8](repeating: UInt8(n % 251), count: 1500)
                try env.write { tx in
                    try withUnsafeBytes(of: &key) { k in
                        try value.withUnsafeBytes { try tx.put(db, Array(k), $0, likelyLast: likelyLast) }
                    }
                }
            }
            return (env, db)
        }
        let (plainEnv, plainDB) = try fill(likelyLast: false)
        let (env, db) = try fill(likelyLast: true)
        let plainLeaves = try plainEnv.read { try $0.pages(plainDB).leaf }
        let leaves = try env.read { try $0.pages(db).leaf }
        #expect(leaves * 4 < plainLeaves * 3, "appended \(leaves) leaves, plain \(plainLeaves)")
        // A key that is not last, or already there, is put the usual way.
        try env.write { tx in
            try ([7, 7] as [UInt8]).withUnsafeBytes { try tx.put(db, [0, 0, 0, 5], $0, likelyLast: true) }
            try ([8] as [UInt8]).withUnsafeBytes { try tx.put(db, [0, 0, 3, 231], $0, likelyLast: true) }
            try ([9] as [UInt8]).withUnsafeBytes { try tx.put(db, [0, 0, 4, 0], $0, likelyLast: true) }
        }
        try env.read { tx in
            let c1 = try tx.get(db, [0, 0, 0, 5]) == [7, 7]
            let c2 = try tx.get(db, [0, 0, 3, 231]) == [8]
            let c3 = try tx.get(db, [0, 0, 4, 0]) == [9]
            let c4 = try tx.count(db) == 1001
            #expect(c1 && c2 && c3 && c4)
        }
    }

    @Test func throwingAbortsTheWrite() throws {
        struct Boom: Error {}
        let env = try Environment.open(path: temporaryDirectory())
        let db = try env.openDatabases(["t"])[0]
        #expect(throws: Boom.self) {
            try env.write { tx in
                try tx.put(db, [1], [1])
                throw Boom()
            }
        }
        #expect(try env.read { try $0.get(db, [1]) } == nil)
    }

    @Test func nestedAbortKeepsTheParent() throws {
        struct Boom: Error {}
        let env = try Environment.open(path: temporaryDirectory())
        let db = try env.openDatabases(["t"])[0]
        try env.write { tx in
            try tx.put(db, [1], [1])
            #expect(throws: Boom.self) {
                try tx.nested { inner in
                    try inner.put(db, [2], [2])
                    throw Boom()
                }
            }
            try tx.nested { inner in try inner.put(db, [3], [3]) }
        }
        try env.read { tx in
            let c9 = try tx.get(db, [1]) == [1]
            #expect(c9)
            let c10 = try tx.get(db, [2]) == nil
            #expect(c10)
            let c11 = try tx.get(db, [3]) == [3]
            #expect(c11)
        }
    }

    @Test func scansRangesPrefixesAndReverse() throws {
        let env = try Environment.open(path: temporaryDirectory())
        let db = try env.openDatabases(["t"])[0]
        try env.write { tx in
            for a in UInt8(1)...3 { for b in UInt8(0)...4 { try tx.put(db, [a, b], [a &* 10 &+ b]) } }
            try tx.put(db, [2, 0xFF], [0])
        }
        func keys(_ body: (ReadTransaction, (UnsafeRawBufferPointer, UnsafeRawBufferPointer) throws -> Bool) throws -> Void) throws -> [[UInt8]] {
            try env.read { tx in
                var result: [[UInt8]] = []
                try body(tx) { k, _ in result.append(Array(k)); return true }
                return result
            }
        }
        #expect(try keys { try $0.scan(db, prefix: [2], $1) } == [[2, 0], [2, 1], [2, 2], [2, 3], [2, 4], [2, 0xFF]])
        #expect(try keys { try $0.scan(db, from: [1, 3], to: [2, 1], $1) } == [[1, 3], [1, 4], [2, 0]])
        #expect(try keys { try $0.scan(db, from: [3, 3], to: nil, $1) } == [[3, 3], [3, 4]])
        #expect(try keys { try $0.scan(db, prefix: [3], reverse: true, $1) } == [[3, 4], [3, 3], [3, 2], [3, 1], [3, 0]])
        #expect(try keys { try $0.scan(db, from: [1, 3], to: [2, 1], reverse: true, $1) } == [[2, 0], [1, 4], [1, 3]])
        #expect(try keys { try $0.scan(db, prefix: [9], $1) } == [])
        // The last prefix of the database, and a prefix longer than the key it sorts before.
        #expect(try keys { try $0.scan(db, prefix: [3], $1) } == [[3, 0], [3, 1], [3, 2], [3, 3], [3, 4]])
        #expect(try keys { try $0.scan(db, prefix: [2, 0xFF], $1) } == [[2, 0xFF]])
        #expect(try keys { try $0.scan(db, prefix: [2, 4, 0], $1) } == [])
        // Stopping early.
        let first = try env.read { tx in
            var seen = 0
            try tx.scan(db, prefix: []) { _, _ in seen += 1; return seen < 2 }
            return seen
        }
        #expect(first == 2)
        let firstOfPrefix = try env.read { tx in
            var seen = 0
            try tx.scan(db, prefix: [1]) { _, _ in seen += 1; return seen < 3 }
            return seen
        }
        #expect(firstOfPrefix == 3)
    }

    @Test func mapGrowsInsteadOfFailing() throws {
        var options = Environment.Options()
        options.mapSize = 1 << 20
        let env = try Environment.open(path: temporaryDirectory(), options: options)
        let db = try env.openDatabases(["t"])[0]
        let value = [UInt8](repeating: 7, count: 100_000)
        for i in 0..<100 {
            try env.write { tx in try tx.put(db, [UInt8(i)], value) }
        }
        #expect(env.info().mapSize > 1 << 20)
        #expect(try env.read { try $0.count(db) } == 100)
    }

    @Test func dataFileIsKeptWrittenAheadOfTheCommittedPages() throws {
        func fileSize(_ env: Environment) throws -> Int {
            try FileManager.default.attributesOfItem(atPath: env.path + "/data.mdb")[.size] as! Int
        }
        func committedEnd(_ env: Environment) -> Int { (env.info().lastPageNumber + 1) * env.info().pageSize }
        let env = try Environment.open(path: temporaryDirectory())
        let db = try env.openDatabases(["t"])[0]
        // A write that changes nothing leaves the file alone (a backup's copy is opened to be
        // counted after its checksum was taken).
        try env.write { tx in _ = try tx.get(db, [0]) }
        #expect(try fileSize(env) == committedEnd(env))
        // Commits of 100 KB, and one of 3 MB, more than the reserve: each lands in or runs past
        // the zeros, and every value reads back whole, here and in a copy.
        let values = (0..<40).map { [UInt8](repeating: UInt8($0), count: $0 == 20 ? 3 << 20 : 100_000) }
        for (i, value) in values.enumerated() {
            try env.write { tx in try tx.put(db, [UInt8(i)], value) }
            #expect(try fileSize(env) >= committedEnd(env))
        }
        try env.write { tx in try tx.put(db, [0xFF], [1]) }
        let reserve = Environment.defaultReserveBytes
        #expect(try fileSize(env) >= committedEnd(env) + reserve / 2 - 4 * env.info().pageSize)
        #expect(try fileSize(env) <= committedEnd(env) + reserve)
        let copyPath = temporaryDirectory()
        try env.copy(to: copyPath)
        for target in [env, try Environment.open(path: copyPath)] {
            let copyDB = try target.openDatabases(["t"])[0]
            for (i, value) in values.enumerated() {
                #expect(try target.read { try $0.get(copyDB, [UInt8(i)]) } == value)
            }
        }

        var unsynced = Environment.Options()
        unsynced.noSync = true
        let plain = try Environment.open(path: temporaryDirectory(), options: unsynced)
        let plainDB = try plain.openDatabases(["t"])[0]
        try plain.write { tx in try tx.put(plainDB, [1], values[0]) }
        try plain.sync()
        #expect(try fileSize(plain) == committedEnd(plain))
    }

    @Test func usingATransactionAfterItEndedThrows() throws {
        let env = try Environment.open(path: temporaryDirectory())
        let db = try env.openDatabases(["t"])[0]
        let escaped = try env.read { $0 }
        #expect(throws: LMDBError.usage("transaction used after it ended")) { try escaped.get(db, [1]) }
    }

    @Test func errorCodesMapToCases() {
        #expect(LMDBError(code: -30799) == .keyExists)
        #expect(LMDBError(code: -30798) == .notFound)
        #expect(LMDBError(code: -30792) == .mapFull)
        #expect(LMDBError(code: 28) == .system(28))
        #expect(LMDBError.mapFull.description.contains("MDB_MAP_FULL"))
    }

    @Test func prefixUpperBoundCarries() {
        #expect(prefixUpperBound([1, 2]) == [1, 3])
        #expect(prefixUpperBound([1, 0xFF]) == [2])
        #expect(prefixUpperBound([0xFF, 0xFF]) == nil)
    }
}
