import Foundation

/// An embedded mailbox store: accounts, mailboxes, messages, flags, UIDs and modseqs in one
/// LMDB environment, behind two verbs.
///
/// ```swift
/// let store = try MailStore(path: "/var/lib/mstore")
/// let inbox = try await store.write { tx in
///     let alice = try tx.createAccount(name: "alice", credentials: creds)
///     return try tx.requireMailbox(of: alice.id, named: "INBOX")
/// }
/// let count = try store.read { tx in try tx.mailbox(inbox.id)?.messages }
/// ```
///
/// - `read` runs a consistent snapshot on the calling thread; keep it off event loops.
/// - `write` runs one atomic change on the single writer thread, group-committed with other
///   concurrent writes, and returns only once the change is durable on disk.
public final class MailStore: Sendable {
    /// How to open a store.
    public struct Options: Sendable {
        /// The initial storage map size; it grows on demand.
        public var initialMapSize: Int = 256 << 20
        /// Skip fsync at commit. For benchmarks that measure the cost of durability only.
        public var unsafeNoSync = false
        /// How often the change feed looks for other processes' commits.
        public var feedPollInterval: Duration = .milliseconds(200)

        public init() {}
    }

    /// The schema version this binary writes and understands. 2 added the full-text index; 3
    /// folds search text with NFKD (i;unicode-casemap), so older indexes are built again; 4 adds
    /// the flag and date indexes (`RecordIndex`), built from the message records; 5 the size
    /// index; 6 keeps small text segments inline in their records
    /// (`SearchLimits.inlineSegmentBytes`). Segments written before stay as they are, so 5 to
    /// 6 changes only the version, which keeps binaries that cannot read inline segments out.
    /// 7 enters new contents in the hash index in groups (`HashIndex`), behind a mark that 6 to
    /// 7 sets past every content there is. 8 leaves a mailbox's newest messages out of its
    /// full-text index until `SearchLimits.deferredMessages` UIDs have been given since its last
    /// segment, and searches read them; a store of 7 is a valid 8, but a binary of 7 would miss
    /// those messages, so the version keeps it out.
    public static let schemaVersion = 8

    let backend: any StorageBackend
    private let writer: GroupCommitWriter
    private let feed: ChangeFeed
    private let segmentCache = TextSegmentCache()
    /// Held shared while the store is open, so that `compact` can tell it is in use.
    private let lock: StoreLock
    public let path: String
    /// Where opening this store saved a copy of it before upgrading it from an older schema;
    /// nil when no upgrade was needed.
    public let upgradeBackup: String?

    /// Opens (creating if needed) the store in directory `path`. An older store is upgraded
    /// (see `upgradeBackupPrefix`); a newer one is refused, untouched.
    public init(path: String, options: Options = Options()) throws {
        lock = try StoreLock(directory: path, mode: .shared)
        do {
            backend = try LMDBBackend(path: path, mapSize: options.initialMapSize, noSync: options.unsafeNoSync)
        } catch {
            throw MailStoreError.storage("cannot open \(path): \(error)")
        }
        self.path = path
        upgradeBackup = try Self.upgradeSchema(backend, path: path)
        writer = GroupCommitWriter(backend: backend, deferredTerms: segmentCache.deferredTerms)
        feed = ChangeFeed(interval: options.feedPollInterval)
        feed.store = self
    }

    deinit { writer.stop() }

    /// Waits for queued writes, then stops the writer. Later writes fail.
    public func close() { writer.stop() }

    /// The store's path for a CLI or daemon: `--data`, else `$MSTORE_DATA`, else `./mstore-data`.
    public static func defaultPath(data: String?) -> String {
        data ?? ProcessInfo.processInfo.environment["MSTORE_DATA"] ?? "./mstore-data"
    }

    /// The name of the directory, inside the data directory, into which opening an older store
    /// copies it before the upgrade: `pre-upgrade-schema-1-20261129T213000Z`.
    public static let upgradeBackupPrefix = "pre-upgrade-schema-"

    /// Brings a store of an older schema to `schemaVersion`: first a plain copy of it into a new
    /// directory inside `path` (`upgradeBackupPrefix`), then every step in one transaction, so a
    /// failure leaves the store as it was and says where the copy is. Returns the copy's path,
    /// or nil when nothing was upgraded. A store newer than this binary is refused untouched.
    private static func upgradeSchema(_ backend: any StorageBackend, path: String) throws -> String? {
        let (found, hasAccounts) = try backend.read { kv in
            (try kv.withValue(.meta, Keys.schemaVersion) { v in v.map { Int(readU32($0, at: 0)) } },
             try kv.count(.accounts) > 0)
        }
        if let found, found > schemaVersion {
            throw MailStoreError.unsupportedSchema(found: found, supported: schemaVersion)
        }
        if found == schemaVersion { return nil }
        // No version and no accounts: a new store, with nothing to keep. Otherwise schema 1,
        // from before the full-text index, which did not always record its version.
        let from = found ?? 1
        var copy: String?
        if found != nil || hasAccounts {
            let stamp = ISO8601DateFormatter.string(from: Date(), timeZone: TimeZone(identifier: "UTC")!,
                                                    formatOptions: [.withYear, .withMonth, .withDay, .withTime, .withTimeZone])
            // A second attempt in the same second (after a failed one) gets its own directory.
            let base = path + "/" + upgradeBackupPrefix + "\(from)-" + stamp
            var directory = base, n = 1
            while FileManager.default.fileExists(atPath: directory) {
                n += 1
                directory = base + "-\(n)"
            }
            do {
                try FileManager.default.createDirectory(atPath: directory, withIntermediateDirectories: false)
                try backend.backup(to: directory, compact: false)
            } catch {
                try? FileManager.default.removeItem(atPath: directory)
                throw MailStoreError.upgradeFailed(from: from, to: schemaVersion, backup: "nowhere: the copy failed",
                                                   reason: "\(error)")
            }
            copy = directory
        }
        let results: [(any Error)?]
        do {
            results = try backend.commitGroup([{ kv in
                let tx = StoreWriter(kv: kv, now: ZonedDate.now())
                // 1 or 2 to 3: index what the store holds (again, for 2: the folding changed).
                if from < 3 {
                    for account in try tx.accounts() {
                        for mailbox in try tx.mailboxes(of: account.id) { try tx.reindex(mailbox.id) }
                    }
                }
                // 3 or 4 to 5: the record indexes (flags and dates since 4, sizes since 5).
                if from < 5 { try tx.rebuildRecordIndexes() }
                // 6 and before to 7: the hash index held every content; it now marks how far it goes.
                if from < 7 { try tx.markHashIndexed(through: tx.newestContentID()) }
                try kv.put(.meta, Keys.schemaVersion, ByteWriter.u32Bytes(UInt32(schemaVersion)))
            }], start: {}, end: { _ in })
        } catch {
            results = [error]
        }
        if let error = results.first ?? nil {
            guard let copy else { throw MailStoreError.storage("\(error)") }
            throw MailStoreError.upgradeFailed(from: from, to: schemaVersion, backup: copy, reason: "\(error)")
        }
        return copy
    }

    // MARK: The two verbs

    /// Runs `body` in a read snapshot on the calling thread.
    public func read<T>(_ body: (StoreReader) throws -> T) throws -> T {
        do {
            return try backend.read { try body(StoreReader(kv: $0, segmentCache: segmentCache)) }
        } catch let error as MailStoreError {
            throw error
        } catch {
            throw MailStoreError.storage("\(error)")
        }
    }

    /// Runs `body` as one atomic change, and returns once it is durable. Throwing from `body`
    /// discards the change. `body` runs on the writer thread and may run more than once (when
    /// the storage must grow), so it must have no effects outside `tx`.
    @discardableResult
    public func write<T: Sendable>(_ body: @escaping @Sendable (StoreWriter) throws -> T) async throws -> T {
        try await withCheckedThrowingContinuation { continuation in
            write(body) { continuation.resume(with: $0) }
        }
    }

    /// `write`, for a caller that is not a task: `completion` gets the result on the writer
    /// thread once the change is durable, and must return quickly (a server hands it to its
    /// event loop), since the next commit waits for it.
    public func write<T: Sendable>(_ body: @escaping @Sendable (StoreWriter) throws -> T,
                                   completion: @escaping @Sendable (Result<T, any Error>) -> Void) {
        let box = WriteResult<T>()
        let now = ZonedDate.now()
        writer.submit(GroupCommitWriter.Job(
            run: { kv, pending in
                // What this change queues for the indexes is the commit's to write, unless
                // the change fails.
                let tx = StoreWriter(kv: kv, now: now, pending: pending)
                box.value = try pending.change { try body(tx) }
                box.events = tx.events
            },
            finish: { [feed] error in
                if let error {
                    completion(.failure(error is MailStoreError ? error : MailStoreError.storage("\(error)")))
                } else if let value = box.value {
                    feed.publish(box.events)
                    completion(.success(value))
                } else {
                    completion(.failure(MailStoreError.storage("write produced no result")))
                }
            }))
    }

    // MARK: Change feed

    /// Events for `account`'s mailboxes, from this process and (within about
    /// `feedPollInterval`) from other processes using the same directory.
    public func events(for account: AccountID) -> AsyncStream<StoreEvent> {
        feed.subscribe(account: account)
    }

    // MARK: Conveniences

    /// Creates an account with a hashed password (hashing happens before the write).
    @discardableResult
    public func createAccount(name: String, password: String, cost: PasswordHasher.Cost = .standard) async throws -> Account {
        let credentials = try PasswordHasher.credentials(for: password, cost: cost)
        return try await write { try $0.createAccount(name: name, credentials: credentials) }
    }

    /// The account if `password` is right for `name`, else nil. Slow by design. It changes
    /// nothing: a server also upgrades imported hashes after a success (`PasswordHasher.needsUpgrade`).
    public func authenticate(name: String, password: String) throws -> Account? {
        guard let account = try read({ try $0.account(named: name) }) else { return nil }
        return PasswordHasher.verify(password, against: account.passwordHash) ? account : nil
    }

    /// Storage figures.
    public func storageStatistics() throws -> BackendStatistics { try backend.statistics() }

    /// Writes a consistent copy of the store into the empty directory `path`.
    public func backup(to path: String, compact: Bool = false) throws { try backend.backup(to: path, compact: compact) }

    /// The size in bytes of the data file of the store (or backup) in directory `path`; 0 if
    /// there is none. It grows while `backup` writes it, which gives progress.
    public static func dataFileSize(at path: String) -> Int { LMDBBackend.fileSize(LMDBBackend.dataFile(in: path)) }
}

/// Carries a write's result from the job to its completion, both on the writer thread.
/// `@unchecked Sendable`: only the writer thread touches it.
private final class WriteResult<T>: @unchecked Sendable {
    var value: T?
    var events: [StoreEvent] = []
}
