import LMDB
#if canImport(Glibc)
import Glibc
#endif

/// The LMDB implementation of `StorageBackend`. The only file of the engine that sees LMDB.
package final class LMDBBackend: StorageBackend {
    let environment: Environment
    private let databases: [Database]

    /// Opens the environment in `path` and its subspaces.
    package init(path: String, mapSize: Int, noSync: Bool) throws {
        var options = Environment.Options()
        options.mapSize = mapSize
        options.noSync = noSync
        environment = try Environment.open(path: path, options: options)
        environment.clearStaleReaders()
        databases = try environment.openDatabases(Subspace.allCases.map(\.name))
    }

    package func read<T>(_ body: (any KVReader) throws -> T) throws -> T {
        try environment.read { try body(Reader(txn: $0, databases: databases)) }
    }

    package func commitGroup(_ jobs: [(any KVWriter) throws -> Void], start: () -> Void,
                             end: (any KVWriter) throws -> Void) throws -> [(any Error)?] {
        // Optimistic pass: every job straight in the one transaction, with no nested
        // transactions (each costs LMDB a 2 MiB dirty-page list). Failures are rare; when one
        // happens, everything is aborted and the group runs again with a nested transaction
        // per job, so that only the failing job's changes are discarded.
        do {
            return try environment.write { txn in
                start()
                let writer = Writer(txn: txn, databases: databases)
                for job in jobs {
                    do { try job(writer) } catch let error as LMDBError where error == .mapFull { throw error }
                    catch { throw JobFailed(error: error) }
                }
                try end(writer)
                return Array(repeating: nil, count: jobs.count)
            }
        } catch let failed as JobFailed {
            if jobs.count == 1 { return [failed.error] }
        }
        return try environment.write { txn in
            start()
            let errors = try jobs.map { job -> (any Error)? in
                do {
                    try txn.nested { try job(Writer(txn: $0, databases: databases)) }
                    return nil
                } catch let error as LMDBError where error == .mapFull {
                    throw error
                } catch {
                    return error
                }
            }
            try end(Writer(txn: txn, databases: databases))
            return errors
        }
    }

    package var commitSequence: Int { environment.lastTransactionID }

    package func statistics() throws -> BackendStatistics {
        let info = environment.info()
        let fileSize = Self.fileSize(Self.dataFile(in: environment.path))
        return BackendStatistics(
            mapSize: info.mapSize, pageSize: info.pageSize, pagesUsed: info.lastPageNumber + 1,
            lastTransactionID: info.lastTransactionID, readers: info.readers, maxReaders: info.maxReaders,
            fileSize: fileSize)
    }

    package func backup(to path: String, compact: Bool) throws {
        try environment.copy(to: path, compact: compact)
    }

    /// The data file of the environment in `path`.
    package static func dataFile(in path: String) -> String { path + "/data.mdb" }

    /// Rewrites the environment in `path` without its free pages: a compacting copy into the
    /// empty directory `temporary` (on the same file system), flushed to disk, then renamed over
    /// the data file. Until that rename the original is whole, so a crash leaves either it or the
    /// complete copy. `check` reads the store first and may refuse by throwing. The caller must
    /// make sure no other process has the environment open: one that did would go on using the
    /// replaced file. Returns the data file's size before and after.
    package static func compact(path: String, temporary: String,
                                check: (any KVReader) throws -> Void) throws -> (before: Int, after: Int) {
        let file = dataFile(in: path), copy = dataFile(in: temporary)
        let before = fileSize(file)
        do {
            // The environment is closed when `backend` goes, at the end of this block.
            let backend = try LMDBBackend(path: path, mapSize: 64 << 20, noSync: false)
            try backend.read(check)
            try backend.environment.copy(to: temporary, compact: true)
        }
        try syncFile(copy)
        guard rename(copy, file) == 0 else { throw LMDBError.system(errno) }
        try syncFile(path)
        return (before, fileSize(file))
    }

    /// The size of a file in bytes; 0 if it is missing.
    package static func fileSize(_ path: String) -> Int {
        var st = stat()
        return stat(path, &st) == 0 ? Int(st.st_size) : 0
    }

    /// Flushes a file or directory to disk.
    private static func syncFile(_ path: String) throws {
        let fd = open(path, O_RDONLY)
        guard fd >= 0 else { throw LMDBError.system(errno) }
        defer { close(fd) }
        guard fsync(fd) == 0 else { throw LMDBError.system(errno) }
    }
}

/// A job's error, carried out of the aborted optimistic transaction.
private struct JobFailed: Error { let error: any Error }

private struct Reader: KVReader {
    let txn: ReadTransaction
    let databases: [Database]

    func db(_ s: Subspace) -> Database { databases[Int(s.rawValue) - 1] }

    func withValue<T>(_ space: Subspace, _ key: [UInt8], _ body: (UnsafeRawBufferPointer?) throws -> T) throws -> T {
        try txn.withValue(db(space), key, body)
    }
    func scan(_ space: Subspace, from lower: [UInt8], to upper: [UInt8]?, reverse: Bool,
              _ body: (UnsafeRawBufferPointer, UnsafeRawBufferPointer) throws -> Bool) throws {
        try txn.scan(db(space), from: lower, to: upper, reverse: reverse, body)
    }
    func scan(_ space: Subspace, prefix: [UInt8], reverse: Bool,
              _ body: (UnsafeRawBufferPointer, UnsafeRawBufferPointer) throws -> Bool) throws {
        try txn.scan(db(space), prefix: prefix, reverse: reverse, body)
    }
    func lookup(_ space: Subspace, prefix: [UInt8], suffixes: [UInt32],
                _ body: (UInt32, UnsafeRawBufferPointer?) throws -> Bool) throws {
        try txn.lookup(db(space), prefix: prefix, suffixes: suffixes, body)
    }
    func count(_ space: Subspace) throws -> Int { try txn.count(db(space)) }
}

private struct Writer: KVWriter {
    let txn: WriteTransaction
    let databases: [Database]
    var reader: Reader { Reader(txn: txn, databases: databases) }

    func withValue<T>(_ space: Subspace, _ key: [UInt8], _ body: (UnsafeRawBufferPointer?) throws -> T) throws -> T {
        try reader.withValue(space, key, body)
    }
    func scan(_ space: Subspace, from lower: [UInt8], to upper: [UInt8]?, reverse: Bool,
              _ body: (UnsafeRawBufferPointer, UnsafeRawBufferPointer) throws -> Bool) throws {
        try reader.scan(space, from: lower, to: upper, reverse: reverse, body)
    }
    func scan(_ space: Subspace, prefix: [UInt8], reverse: Bool,
              _ body: (UnsafeRawBufferPointer, UnsafeRawBufferPointer) throws -> Bool) throws {
        try reader.scan(space, prefix: prefix, reverse: reverse, body)
    }
    func lookup(_ space: Subspace, prefix: [UInt8], suffixes: [UInt32],
                _ body: (UInt32, UnsafeRawBufferPointer?) throws -> Bool) throws {
        try reader.lookup(space, prefix: prefix, suffixes: suffixes, body)
    }
    func count(_ space: Subspace) throws -> Int { try reader.count(space) }
    func put(_ space: Subspace, _ key: [UInt8], _ value: UnsafeRawBufferPointer) throws {
        try txn.put(reader.db(space), key, value, likelyLast: space.keysAscend)
    }
    func delete(_ space: Subspace, _ key: [UInt8]) throws -> Bool { try txn.delete(reader.db(space), key) }
    func clear(_ space: Subspace) throws { try txn.clear(reader.db(space)) }
}
