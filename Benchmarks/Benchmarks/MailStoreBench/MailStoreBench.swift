import Benchmark
import Foundation
import LMDB
import MailStore

// Each store figure is measured in the same run as its raw-LMDB baseline.
// One iteration of an append or commit benchmark does `batch` operations: divide the median
// wall-clock time by it for the per-operation cost.

let batch = 256
let messageSize = 4096

/// Every scratch store of a run lives under one directory, removed when the process exits: the
/// stores used to be left behind, and 15,000 of them (55 GB) once filled this machine's disk.
let scratchRoot = NSTemporaryDirectory() + "mstore-bench-\(getpid())"
private let removeScratchAtExit: Void = { atexit { try? FileManager.default.removeItem(atPath: scratchRoot) } }()

func scratch(_ name: String) -> String {
    _ = removeScratchAtExit
    let path = scratchRoot + "/\(name)-\(UInt32.random(in: 0...UInt32.max))"
    try? FileManager.default.removeItem(atPath: path)
    try? FileManager.default.createDirectory(atPath: scratchRoot, withIntermediateDirectories: true)
    return path
}

/// The body filler: at offset `i` of the message, the letter `i % 26` of the alphabet.
/// Computed once, so that making a message costs the store's benchmarks a copy, not a loop.
let fillerPattern: [UInt8] = (0..<messageSize).map { UInt8(ascii: "a") + UInt8($0 % 26) }

/// A distinct message of `messageSize` bytes: a header naming `n`, then filler, then CRLF.
func fourKiBMessage(_ n: Int) -> [UInt8] {
    var bytes = Array("From: bench@example.org\r\nSubject: message \(n)\r\n\r\n".utf8)
    bytes.reserveCapacity(messageSize)
    bytes += fillerPattern[bytes.count..<messageSize - 2]
    bytes += [13, 10]
    return bytes
}

/// Runs `operation(0..<count)` from `tasks` concurrent tasks, each taking every `tasks`-th index.
func concurrently(_ tasks: Int, _ count: Int, _ operation: @escaping @Sendable (Int) async throws -> Void) async throws {
    try await withThrowingTaskGroup(of: Void.self) { group in
        for t in 0..<tasks {
            group.addTask {
                for i in stride(from: t, to: count, by: tasks) { try await operation(i) }
            }
        }
        try await group.waitForAll()
    }
}

/// A store with one user, and that user's INBOX.
func benchStore(_ name: String, options: MailStore.Options = .init()) async throws -> (MailStore, MailboxID) {
    let store = try MailStore(path: scratch(name), options: options)
    let credentials = try PasswordHasher.credentials(for: "x", cost: .fast)
    let inbox = try await store.write { tx in
        let a = try tx.createAccount(name: "bench", credentials: credentials)
        return try tx.requireMailbox(of: a.id, named: "INBOX").id
    }
    return (store, inbox)
}

let benchmarks: @Sendable () -> Void = {
    Benchmark.defaultConfiguration = .init(
        metrics: [.wallClock, .throughput], timeUnits: .microseconds,
        maxDuration: .seconds(4), maxIterations: 30)

    // MARK: Durable appends

    // The last is what an append costs without the disk: the CPU of the caller's preparing,
    // the writer's append, index and commit (LMDB's page writes to the page cache), no fsync.
    for (writers, durable) in [(1, true), (8, true), (16, true), (64, true), (1, false)] {
        let name = durable ? "store append 4KiB durable, \(writers) writers" : "store append 4KiB no fsync, \(writers) writer"
        Benchmark("\(name) (\(batch)/iter)") { benchmark async throws in
            var options = MailStore.Options()
            options.unsafeNoSync = !durable
            let (store, inbox) = try await benchStore("append\(writers)", options: options)
            var counter = 0
            benchmark.startMeasurement()
            for _ in benchmark.scaledIterations {
                let base = counter
                counter += batch
                try await concurrently(writers, batch) { i in
                    let m = PreparedMessage(fourKiBMessage(base + i))
                    try await store.write { tx in _ = try tx.append(to: inbox, m) }
                }
            }
            benchmark.stopMeasurement()
            store.close()
        }
    }

    // The writer's round trip alone: a write that changes nothing (so LMDB skips the fsync),
    // from submitting it to resuming its caller.
    Benchmark("store write no-op, 1 writer (\(batch)/iter)") { benchmark async throws in
        let (store, _) = try await benchStore("noop")
        benchmark.startMeasurement()
        for _ in benchmark.scaledIterations {
            for _ in 0..<batch { try await store.write { _ in } }
        }
        benchmark.stopMeasurement()
        store.close()
    }

    // The shape of the LMTP benchmark (Tools/bench/lmtp-bench.py): each writer delivers to a
    // user of its own, so a commit cannot share the B-tree pages of one mailbox.
    Benchmark("store append 4KiB durable, 16 writers to 16 users (\(batch)/iter)") { benchmark async throws in
        let store = try MailStore(path: scratch("append16users"))
        let credentials = try PasswordHasher.credentials(for: "x", cost: .fast)
        let inboxes = try await store.write { tx in
            try (0..<16).map { u in
                try tx.requireMailbox(of: try tx.createAccount(name: "bench\(u)", credentials: credentials).id, named: "INBOX").id
            }
        }
        var counter = 0
        benchmark.startMeasurement()
        for _ in benchmark.scaledIterations {
            let base = counter
            counter += batch
            try await concurrently(16, batch) { i in
                let m = PreparedMessage(fourKiBMessage(base + i))
                try await store.write { tx in _ = try tx.append(to: inboxes[i % 16], m) }
            }
        }
        benchmark.stopMeasurement()
        store.close()
    }

    // What each append above costs its caller before the write: the parse, hash and words of
    // the message, on one core.
    Benchmark("prepare 4KiB message (\(batch)/iter)") { benchmark in
        let messages = (0..<batch).map { fourKiBMessage($0) }
        benchmark.startMeasurement()
        for _ in benchmark.scaledIterations {
            for m in messages { blackHole(PreparedMessage(m)) }
        }
        benchmark.stopMeasurement()
    }

    // The baseline is LMDB as it ships: commits that grow the file. The store keeps the file
    // written ahead of its pages (`Environment.Options.reserveBytes`), which makes its fsyncs
    // cheaper; the second figure is the same baseline with that reserve, for comparison.
    for reserve in [false, true] {
        Benchmark("raw LMDB put 4KiB, fsync per commit\(reserve ? ", file reserve" : "") (\(batch)/iter)") { benchmark in
            var options = Environment.Options()
            options.reserveBytes = reserve ? Environment.defaultReserveBytes : 0
            let env = try Environment.open(path: scratch("rawcommit"), options: options)
            let db = try env.openDatabases(["raw"])[0]
            var n: UInt64 = 0
            let value = fourKiBMessage(0)
            benchmark.startMeasurement()
            for _ in benchmark.scaledIterations {
                for _ in 0..<batch {
                    n += 1
                    var key = n.bigEndian
                    try withUnsafeBytes(of: &key) { k in try env.write { try $0.put(db, Array(k), value) } }
                }
            }
            benchmark.stopMeasurement()
        }
    }

    Benchmark("raw LMDB put 4KiB, one transaction (\(batch)/iter)") { benchmark in
        let env = try Environment.open(path: scratch("rawbatch"))
        let db = try env.openDatabases(["raw"])[0]
        var n: UInt64 = 0
        let value = fourKiBMessage(0)
        benchmark.startMeasurement()
        for _ in benchmark.scaledIterations {
            try env.write { tx in
                for _ in 0..<batch {
                    n += 1
                    var key = n.bigEndian
                    try withUnsafeBytes(of: &key) { try tx.put(db, Array($0), value) }
                }
            }
        }
        benchmark.stopMeasurement()
    }

    // MARK: Flag updates

    for writers in [1, 64] {
        Benchmark("store flag update durable, \(writers) writers (\(batch)/iter)") { benchmark async throws in
            let (store, inbox) = try await benchStore("flags\(writers)")
            let m = PreparedMessage(fourKiBMessage(0))
            try await store.write { tx in for _ in 0..<batch { _ = try tx.append(to: inbox, m) } }
            var toggle = false
            benchmark.startMeasurement()
            for _ in benchmark.scaledIterations {
                toggle.toggle()
                let change = FlagChange(toggle ? .add : .remove, flags: .seen)
                try await concurrently(writers, batch) { i in
                    let uid = UID(UInt32(i + 1))
                    try await store.write { tx in _ = try tx.store(in: inbox, uids: [uid], change) }
                }
            }
            benchmark.stopMeasurement()
            store.close()
        }
    }

    // MARK: Reads

    let readCount = 2048
    Benchmark("store read whole 4KiB messages (\(readCount)/iter, 8 MiB)") { benchmark async throws in
        let (store, inbox) = try await benchStore("read")
        try await store.write { tx in
            for i in 0..<readCount { _ = try tx.append(to: inbox, PreparedMessage(fourKiBMessage(i))) }
        }
        let contents = try store.read { tx in try tx.messages(in: inbox).map(\.content) }
        benchmark.startMeasurement()
        for _ in benchmark.scaledIterations {
            let total = try store.read { tx in
                var total = 0
                for c in contents { try tx.forEachPiece(of: c) { total &+= $0.count &+ Int($0[0]) } }
                return total
            }
            blackHole(total)
        }
        benchmark.stopMeasurement()
        store.close()
    }

    Benchmark("raw LMDB read whole 4KiB values (\(readCount)/iter, 8 MiB)") { benchmark in
        let env = try Environment.open(path: scratch("rawread"))
        let db = try env.openDatabases(["raw"])[0]
        try env.write { tx in
            for i in 0..<readCount {
                var key = UInt64(i).bigEndian
                try withUnsafeBytes(of: &key) { try tx.put(db, Array($0), fourKiBMessage(i)) }
            }
        }
        benchmark.startMeasurement()
        for _ in benchmark.scaledIterations {
            let total = try env.read { tx in
                var total = 0
                for i in 0..<readCount {
                    var key = UInt64(i).bigEndian
                    try withUnsafeBytes(of: &key) { k in
                        try tx.withValue(db, Array(k)) { total &+= $0!.count &+ Int($0![0]) }
                    }
                }
                return total
            }
            blackHole(total)
        }
        benchmark.stopMeasurement()
    }

    // MARK: Open

    Benchmark("store open with 1,000,000 messages", configuration: .init(maxDuration: .seconds(10), maxIterations: 20)) { benchmark async throws in
        let path = NSTemporaryDirectory() + "mstore-bench-open-1m"
        if !FileManager.default.fileExists(atPath: path + "/data.mdb") {
            var options = MailStore.Options()
            options.unsafeNoSync = true
            let store = try MailStore(path: path, options: options)
            let credentials = try PasswordHasher.credentials(for: "x", cost: .fast)
            let inbox = try await store.write { tx in
                let a = try tx.createAccount(name: "bench", credentials: credentials)
                return try tx.requireMailbox(of: a.id, named: "INBOX").id
            }
            for chunk in 0..<100 {
                let messages = (0..<10_000).map { PreparedMessage(Array("Subject: \(chunk * 10_000 + $0)\r\n\r\nx\r\n".utf8)) }
                try await store.write { tx in for m in messages { _ = try tx.append(to: inbox, m) } }
            }
            store.close()
        }
        benchmark.startMeasurement()
        for _ in benchmark.scaledIterations {
            // A separate process would open it cold; here the environment is opened anew each time
            // because the previous instance was released.
            let store = try MailStore(path: path)
            blackHole(try store.read { try $0.account(named: "bench")?.usedMessages })
            store.close()
        }
        benchmark.stopMeasurement()
    }

    // MARK: Search (SearchBench.swift)

    searchBenchmarks()
}
