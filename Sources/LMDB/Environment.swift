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
        /// How far ahead of the data LMDB has committed the data file is kept written (with
        /// zeros), 0 for not at all: see `keepReserve`.
        public var reserveBytes: Int = Environment.defaultReserveBytes

        public init() {}
    }

    let handle: OpaquePointer
    public let path: String
    private var resizeLock = pthread_rwlock_t()
    private let reserveBytes: Int
    private let pageSize: Int
    /// The data file's size when last looked at; only read and written inside a write
    /// transaction, which LMDB runs one at a time.
    private var knownFileSize = 0
    /// The end of the committed pages when last looked at, to tell how much a commit grows.
    private var lastCommittedEnd = 0

    /// The default of `Options.reserveBytes`.
    public static let defaultReserveBytes = 1 << 20

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
        self.reserveBytes = options.noSync ? 0 : options.reserveBytes
        var stat = MDB_stat()
        mdb_env_stat(env, &stat)
        self.pageSize = Int(stat.ms_psize)
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
                if tx.changed { keepReserve() }
                try check(mdb_txn_commit(txn))
                return result
            } catch LMDBError.mapFull {
                try grow()
            }
        }
    }

    /// Keeps the data file written `reserveBytes` beyond the pages LMDB has committed.
    ///
    /// A commit that writes pages past the end of the file makes the file system allocate blocks
    /// and change the file's size, so its fdatasync also commits the file system's journal;
    /// overwriting blocks that are already there needs only the data flushed. On ext4 here that
    /// made a small commit about a quarter faster. So the file is extended with zeros a
    /// `reserveBytes` at a time, flushed at once, and the commits that follow land on blocks
    /// that exist. Runs just before a commit that changed something (a write that changed
    /// nothing, such as opening a store's copy to count it, leaves the file as it was), inside
    /// its transaction: LMDB's writer lock keeps every process's commits out, and the zeros go
    /// only past the last committed page and the end of the file, where no reader looks and
    /// where this transaction's own pages, written by the commit that follows, overwrite them.
    /// A failure here costs only the saving, so it is not reported.
    private func keepReserve() {
        guard reserveBytes > 0 else { return }
        var info = MDB_envinfo()
        mdb_env_info(handle, &info)
        let committedEnd = (info.me_last_pgno + 1) * pageSize
        // Commits that each grow the file by more than half the reserve (an import's batches)
        // run past it anyway: for them the zeros would only be written twice.
        let grown = committedEnd - lastCommittedEnd
        lastCommittedEnd = committedEnd
        guard grown <= reserveBytes / 2, knownFileSize < committedEnd + reserveBytes / 2 else { return }
        var fd: Int32 = -1
        var st = stat()
        guard mdb_env_get_fd(handle, &fd) == 0, fstat(fd, &st) == 0 else { return }
        knownFileSize = Int(st.st_size)
        guard knownFileSize < committedEnd + reserveBytes / 2 else { return }
        let from = max(knownFileSize, committedEnd)
        let count = committedEnd + reserveBytes - from
        guard let zeros = calloc(count, 1) else { return }
        defer { free(zeros) }
        guard pwrite(fd, zeros, count, off_t(from)) == count, fdatasync(fd) == 0 else { return }
        knownFileSize = from + count
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
