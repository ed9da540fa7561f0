/// The key-value seam between the engine and its storage.
///
/// Every store operation is get/put/delete/range inside a transaction, so an ordered key-value
/// store (LMDB today; a distributed engine later) can implement it. No LMDB type appears here.
package protocol StorageBackend: AnyObject, Sendable {
    /// Runs `body` in a consistent read snapshot.
    func read<T>(_ body: (any KVReader) throws -> T) throws -> T

    /// Runs `jobs` in one durable commit. Each job runs in a nested unit of its own, so that a
    /// job that throws discards only its own changes; its error is returned at its index.
    /// Returns only after the commit is on disk. Throws if the commit itself fails, in which case
    /// no job's changes were kept. A job may be run more than once (for example after the
    /// backend grew its storage), so it must have no effect outside the transaction.
    ///
    /// Each attempt at the commit calls `start` first and, once the jobs have run, `end` in the
    /// same transaction: work the jobs leave for the whole group (a failing `end` fails them all).
    func commitGroup(_ jobs: [(any KVWriter) throws -> Void], start: () -> Void,
                     end: (any KVWriter) throws -> Void) throws -> [(any Error)?]

    /// A number that changes whenever any process commits. Cheap to read.
    var commitSequence: Int { get }

    /// Facts for `mstore stats`.
    func statistics() throws -> BackendStatistics

    /// Writes a consistent copy of the whole store into the empty directory `path`.
    func backup(to path: String, compact: Bool) throws
}

/// Reads within a transaction. Borrowed views are valid only inside the callback.
package protocol KVReader {
    func withValue<T>(_ space: Subspace, _ key: [UInt8], _ body: (UnsafeRawBufferPointer?) throws -> T) throws -> T
    /// Visits `lower <= key < upper` (no upper bound when nil); the callback returns false to stop.
    func scan(_ space: Subspace, from lower: [UInt8], to upper: [UInt8]?, reverse: Bool,
              _ body: (_ key: UnsafeRawBufferPointer, _ value: UnsafeRawBufferPointer) throws -> Bool) throws
    /// Visits every key that starts with `prefix`.
    func scan(_ space: Subspace, prefix: [UInt8], reverse: Bool,
              _ body: (_ key: UnsafeRawBufferPointer, _ value: UnsafeRawBufferPointer) throws -> Bool) throws
    /// Visits the values of `prefix` + big-endian `suffix` for ascending `suffixes` (nil where
    /// absent), cheaply when the keys are near each other; the callback returns false to stop.
    func lookup(_ space: Subspace, prefix: [UInt8], suffixes: [UInt32],
                _ body: (_ suffix: UInt32, _ value: UnsafeRawBufferPointer?) throws -> Bool) throws
    func count(_ space: Subspace) throws -> Int
}

/// Reads and writes within a write transaction.
package protocol KVWriter: KVReader {
    func put(_ space: Subspace, _ key: [UInt8], _ value: UnsafeRawBufferPointer) throws
    @discardableResult func delete(_ space: Subspace, _ key: [UInt8]) throws -> Bool
    func clear(_ space: Subspace) throws
}

extension KVReader {
    func get(_ space: Subspace, _ key: [UInt8]) throws -> [UInt8]? {
        try withValue(space, key) { $0.map { Array($0) } }
    }

    func scan(_ space: Subspace, prefix: [UInt8],
              _ body: (_ key: UnsafeRawBufferPointer, _ value: UnsafeRawBufferPointer) throws -> Bool) throws {
        try scan(space, prefix: prefix, reverse: false, body)
    }
}

extension KVWriter {
    func put(_ space: Subspace, _ key: [UInt8], _ value: [UInt8]) throws {
        try value.withUnsafeBytes { try put(space, key, $0) }
    }
}

/// The key spaces of the store. Each is an ordered map of its own.
package enum Subspace: UInt8, CaseIterable, Sendable {
    /// Counters and the schema version, keyed by ASCII name.
    case meta = 1
    /// AccountID → account record.
    case accounts
    /// lowercased name → AccountID.
    case accountNames
    /// MailboxID → mailbox record.
    case mailboxes
    /// AccountID + name → MailboxID.
    case mailboxNames
    /// MailboxID + UID → message record.
    case messages
    /// MailboxID + ModSeq + UID → change kind. One entry per live message at its current modseq,
    /// plus one per expunged UID.
    case changes
    /// ContentID → content record (reference count, size, hash, parsed structure).
    case contents
    /// SHA-256 → ContentID.
    case contentHashes
    /// ContentID + chunk index → bytes.
    case chunks
    /// AccountID + 0 + folded name → KeywordID; AccountID + 1 + KeywordID → name.
    case keywords
    /// AccountID + mailbox name → empty.
    case subscriptions
    /// MailboxID + segment id → segment facts: the mailbox's full-text index, oldest first.
    case textSegments
    /// Segment id + piece index → segment bytes.
    case textChunks
    /// MailboxID + UID → the message's sort keys (`SortKeys`).
    case sortKeys
    /// AccountID + MailboxID (0 for the account) + name → value (`Annotation`).
    case annotations
    /// MailboxID + flag tag + UID → empty: the messages that have each system flag and keyword
    /// (`RecordIndex`).
    case flagIndex
    /// MailboxID + day of the internal date + UID → empty (`RecordIndex`).
    case dateIndex
    /// MailboxID + size class + UID → empty (`RecordIndex`).
    case sizeIndex

    var name: String { "s\(rawValue)-\(self)" }

    /// Whether new keys of this subspace come from a store-wide counter (content and segment
    /// ids), so that a new entry usually sorts after every other and the backend can append it.
    var keysAscend: Bool { self == .chunks || self == .contents || self == .textChunks }
}

/// Storage figures for `mstore stats`.
public struct BackendStatistics: Sendable, Codable {
    public var mapSize: Int
    public var pageSize: Int
    public var pagesUsed: Int
    public var lastTransactionID: Int
    public var readers: Int
    public var maxReaders: Int
    public var fileSize: Int
}
