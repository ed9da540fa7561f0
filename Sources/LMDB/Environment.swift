import CLMDB
#if canImport(Glibc)
import Glibc
#elseif canImport(Darwin)
import Darwin
#endif

/// An open LMDB environment: one directory holding `data.mdb` and `lock.mdb`.
///
/// LMDB allows an environment to be opened only once per process, so `open(path:options:)`
/// hands back the same instance for the same path while it is alive.
///
/// `@unchecked Sendable`: the `MDB_env` handle is thread-safe by LMDB's contract once opened
/// (`MDB_NOTLS` lets read transactions move between threads). The only mutable state, the map
/// size, is changed under `resizeLock` held exclusively, which waits for every transaction of
/// this process to end, as `mdb_env_set_mapsize` requires.
public final class Environment: @unchecked Sendable {
    /// How to open an environment.
    public struct Options: Sendable {
        /// Initial map size in bytes. The map grows on `MDB_MAP_FULL`, so this is only a start.
        public var mapSize: Int = 64 << 20
        /// The maximum number of named databases.
        public var maxDatabases: UInt32 = 32
        /// The maximum number of concurrent read transactions across all processes.
        public var maxReaders: UInt32 = 512
        /// Skip the fsync at commit. Only for benchmarks that measure the cost of durability.
        public var noSync: Bool = false
        /// File mode of the created files.
        public var fileMode: mode_t = 0o600

        public init() {}
    }

    let handle: OpaquePointer
    public let path: String
    private var resizeLock = pthread_rwlock_t()

    private static let registryLock = Lock()
    nonisolated(unsafe) private static var registry: [String: WeakEnvironment] = [:]

    /// Opens the environment in directory `path`, creating the directory if needed, or returns
    /// the instance this process already holds for it.
    public static func open(path: String, options: Options = Options()) throws -> Environment {
        if mkdir(path, 0o700) != 0 && errno != EEXIST { throw LMDBError.system(errno) }
        guard let real = realpath(path, nil) else { throw LMDBError.system(errno) }
        let key = String(cString: real)
        free(real)
        return try registryLock.withLock {
            if let existing = registry[key]?.environment { return existing }
            let env = try Environment(path: key, options: options)
            registry[key] = WeakEnvironment(environment: env)
            return env
        }
    }

    private init(path: String, options: Options) throws {
        var env: OpaquePointer?
        try check(mdb_env_create(&env))
        guard let env else { throw LMDBError.invalid }
        do {
            try check(mdb_env_set_maxdbs(env, options.maxDatabases))
            try check(mdb_env_set_maxreaders(env, options.maxReaders))
            try check(mdb_env_set_mapsize(env, options.mapSize))
            var flags = UInt32(MDB_NOTLS)
            if options.noSync { flags |= UInt32(MDB_NOSYNC) }
            try check(mdb_env_open(env, path, flags, options.fileMode))
        } catch {
            mdb_env_close(env)
            throw error
        }
        self.handle = env
        self.path = path
        pthread_rwlock_init(&resizeLock, nil)
        // Another process may have grown the file beyond our configured size: adopt its size.
        _ = mdb_env_set_mapsize(env, 0)
    }

    deinit {
        mdb_env_close(handle)
        pthread_rwlock_destroy(&resizeLock)
    }

    // MARK: Databases

    /// Opens (creating if needed) the named databases, in one write transaction.
    public func openDatabases(_ names: [String]) throws -> [Database] {
        try write { txn in try names.map { try txn.openDatabase(named: $0) } }
    }

    // MARK: Transactions

    /// Runs `body` in a read snapshot. The transaction ends when `body` returns; nothing read
    /// through borrowed views may outlive it.
    public func read<T>(_ body: (ReadTransaction) throws -> T) throws -> T {
        pthread_rwlock_rdlock(&resizeLock)
        defer { pthread_rwlock_unlock(&resizeLock) }
        let txn = try begin(parent: nil, flags: UInt32(MDB_RDONLY))
        let tx = ReadTransaction(handle: txn)
        defer { mdb_txn_abort(txn); tx.isOpen = false }
        return try body(tx)
    }

    /// Runs `body` in a write transaction and commits it (with an fsync unless `noSync`).
    /// Throwing aborts. When the map is full, the transaction is aborted, the map grows and
    /// `body` runs again, so `body` must have no effects outside the transaction.
    /// Must begin and end on one thread, which a synchronous call guarantees.
    public func write<T>(_ body: (WriteTransaction) throws -> T) throws -> T {
        while true {
            do {
                pthread_rwlock_rdlock(&resizeLock)
                defer { pthread_rwlock_unlock(&resizeLock) }
                let txn = try begin(parent: nil, flags: 0)
                let tx = WriteTransaction(handle: txn)
                let result: T
                do {
                    result = try body(tx)
                } catch {
                    tx.isOpen = false
                    mdb_txn_abort(txn)
                    throw error
                }
                tx.isOpen = false
                try check(mdb_txn_commit(txn))
                return result
            } catch LMDBError.mapFull {
                try grow()
            }
        }
    }

    private func begin(parent: OpaquePointer?, flags: UInt32) throws -> OpaquePointer {
        var attempts = 0
        while true {
            var txn: OpaquePointer?
            let rc = mdb_txn_begin(handle, parent, flags, &txn)
            if rc == 0, let txn { return txn }
            if rc == MDB_MAP_RESIZED && attempts < 3 {
                // Another process grew the map. Adopting its size needs every transaction of
                // this process to have ended; we hold the lock shared, so do it from outside.
                attempts += 1
                pthread_rwlock_unlock(&resizeLock)
                adoptSize()
                pthread_rwlock_rdlock(&resizeLock)
                continue
            }
            throw LMDBError(code: rc)
        }
    }

    private func adoptSize() {
        pthread_rwlock_wrlock(&resizeLock)
        defer { pthread_rwlock_unlock(&resizeLock) }
        _ = mdb_env_set_mapsize(handle, 0)
    }

    /// Doubles the map size (at least +64 MiB), waiting for this process's transactions to end.
    private func grow() throws {
        pthread_rwlock_wrlock(&resizeLock)
        defer { pthread_rwlock_unlock(&resizeLock) }
        let current = info().mapSize
        let next = current + max(current, 64 << 20)
        try check(mdb_env_set_mapsize(handle, next))
    }

    // MARK: Facts

    /// Figures about the environment, read without a transaction.
    public struct Info: Sendable {
        public var mapSize: Int
        public var lastPageNumber: Int
        public var lastTransactionID: Int
        public var maxReaders: Int
        public var readers: Int
        public var pageSize: Int
        public var entriesInMainDatabase: Int
    }

    public func info() -> Info {
        var i = MDB_envinfo()
        mdb_env_info(handle, &i)
        var s = MDB_stat()
        mdb_env_stat(handle, &s)
        return Info(
            mapSize: i.me_mapsize, lastPageNumber: i.me_last_pgno, lastTransactionID: i.me_last_txnid,
            maxReaders: Int(i.me_maxreaders), readers: Int(i.me_numreaders), pageSize: Int(s.ms_psize),
            entriesInMainDatabase: s.ms_entries)
    }

    /// The id of the newest committed transaction, by any process. Cheap: no transaction needed.
    public var lastTransactionID: Int {
        var i = MDB_envinfo()
        mdb_env_info(handle, &i)
        return i.me_last_txnid
    }

    /// Copies the environment to the directory `path` (which must exist and be empty) as a
    /// consistent snapshot, while others keep reading and writing.
    public func copy(to path: String, compact: Bool = false) throws {
        try check(mdb_env_copy2(handle, path, compact ? UInt32(MDB_CP_COMPACT) : 0))
    }

    /// Flushes the data buffers to disk. Only needed with `noSync`.
    public func sync() throws { try check(mdb_env_sync(handle, 1)) }

    /// Clears reader slots left behind by processes that died. Returns how many were cleared.
    @discardableResult
    public func clearStaleReaders() -> Int {
        var dead: Int32 = 0
        mdb_reader_check(handle, &dead)
        return Int(dead)
    }
}

private struct WeakEnvironment {
    weak var environment: Environment?
}
