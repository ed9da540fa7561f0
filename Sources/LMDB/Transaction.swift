import CLMDB
#if canImport(Glibc)
import Glibc
#elseif canImport(Darwin)
import Darwin
#endif

/// A named database (an LMDB `MDB_dbi`) inside an environment.
public struct Database: Sendable, Hashable {
    let dbi: MDB_dbi
}

/// A read snapshot. It exists only inside `Environment.read` or `write`, and every borrowed
/// view it hands out is valid only until the closure that received it returns.
///
/// Not Sendable: a transaction belongs to the closure that received it.
public class ReadTransaction {
    let handle: OpaquePointer
    var isOpen = true

    init(handle: OpaquePointer) { self.handle = handle }

    /// Calls `body` with a borrowed view of the value for `key`, or nil when there is none.
    /// The view must not escape `body`.
    public func withValue<K: ContiguousKey, T>(
        _ db: Database, _ key: K, _ body: (UnsafeRawBufferPointer?) throws -> T
    ) throws -> T {
        try precondition()
        return try key.withKeyBytes { keyBytes in
            var k = MDB_val(mv_size: keyBytes.count, mv_data: UnsafeMutableRawPointer(mutating: keyBytes.baseAddress))
            var v = MDB_val()
            let rc = mdb_get(handle, db.dbi, &k, &v)
            if rc == MDB_NOTFOUND { return try body(nil) }
            try check(rc)
            return try body(UnsafeRawBufferPointer(start: v.mv_data, count: v.mv_size))
        }
    }

    /// The value for `key`, copied out, or nil.
    public func get<K: ContiguousKey>(_ db: Database, _ key: K) throws -> [UInt8]? {
        try withValue(db, key) { $0.map { Array($0) } }
    }

    /// Whether `key` has a value.
    public func contains<K: ContiguousKey>(_ db: Database, _ key: K) throws -> Bool {
        try withValue(db, key) { $0 != nil }
    }

    /// Visits the entries with `lower <= key < upper` in key order (or reverse order), with
    /// borrowed views. `upper == nil` means no upper bound. `body` returns false to stop.
    public func scan(
        _ db: Database, from lower: [UInt8], to upper: [UInt8]?, reverse: Bool = false,
        _ body: (_ key: UnsafeRawBufferPointer, _ value: UnsafeRawBufferPointer) throws -> Bool
    ) throws {
        guard reverse else {
            return try scanForward(db, from: lower, while: { key in
                upper.map { u in u.withUnsafeBytes { lexicographicCompare(key, $0) < 0 } } ?? true
            }, body)
        }
        try withCursor(db) { cursor in
            var k = MDB_val()
            var v = MDB_val()
            var rc: Int32
            if let upper {
                rc = upper.withUnsafeBytes { ub in
                    k = MDB_val(mv_size: ub.count, mv_data: UnsafeMutableRawPointer(mutating: ub.baseAddress))
                    return mdb_cursor_get(cursor, &k, &v, MDB_SET_RANGE)
                }
                // Positioned at the first key >= upper: step back one.
                rc = rc == MDB_NOTFOUND ? mdb_cursor_get(cursor, &k, &v, MDB_LAST)
                    : (rc == 0 ? mdb_cursor_get(cursor, &k, &v, MDB_PREV) : rc)
            } else {
                rc = mdb_cursor_get(cursor, &k, &v, MDB_LAST)
            }
            while rc == 0 {
                let key = UnsafeRawBufferPointer(start: k.mv_data, count: k.mv_size)
                if lower.withUnsafeBytes({ lexicographicCompare(key, $0) < 0 }) { return }
                if try !body(key, UnsafeRawBufferPointer(start: v.mv_data, count: v.mv_size)) { return }
                rc = mdb_cursor_get(cursor, &k, &v, MDB_PREV)
            }
            if rc != MDB_NOTFOUND { try check(rc) }
        }
    }

    /// Visits the entries from the first key >= `lower` in key order, while `inRange` holds
    /// for the key: the one forward loop of both range and prefix scans.
    @inline(__always)
    private func scanForward(
        _ db: Database, from lower: [UInt8], while inRange: (UnsafeRawBufferPointer) -> Bool,
        _ body: (_ key: UnsafeRawBufferPointer, _ value: UnsafeRawBufferPointer) throws -> Bool
    ) throws {
        try withCursor(db) { cursor in
            var k = MDB_val()
            var v = MDB_val()
            var rc = lower.isEmpty ? mdb_cursor_get(cursor, &k, &v, MDB_FIRST) : lower.withUnsafeBytes { lb in
                k = MDB_val(mv_size: lb.count, mv_data: UnsafeMutableRawPointer(mutating: lb.baseAddress))
                return mdb_cursor_get(cursor, &k, &v, MDB_SET_RANGE)
            }
            while rc == 0 {
                let key = UnsafeRawBufferPointer(start: k.mv_data, count: k.mv_size)
                guard inRange(key), try body(key, UnsafeRawBufferPointer(start: v.mv_data, count: v.mv_size)) else { return }
                rc = mdb_cursor_get(cursor, &k, &v, MDB_NEXT)
            }
            if rc != MDB_NOTFOUND { try check(rc) }
        }
    }

    /// Runs `body` with a cursor on `db`, closed when it returns.
    @inline(__always)
    private func withCursor<T>(_ db: Database, _ body: (OpaquePointer?) throws -> T) throws -> T {
        try precondition()
        var cursor: OpaquePointer?
        try check(mdb_cursor_open(handle, db.dbi, &cursor))
        defer { mdb_cursor_close(cursor) }
        return try body(cursor)
    }

    /// Visits the values of the keys `prefix` + big-endian `suffix` for each of `suffixes`,
    /// which must ascend, with borrowed views (nil where a key has no value). One cursor serves
    /// them all, and LMDB finds a key on the page the cursor is on without searching from the
    /// root, so a run of nearby keys costs little more than a scan over them. `body` returns
    /// false to stop.
    public func lookup(
        _ db: Database, prefix: [UInt8], suffixes: [UInt32],
        _ body: (_ suffix: UInt32, _ value: UnsafeRawBufferPointer?) throws -> Bool
    ) throws {
        var key = prefix + [0, 0, 0, 0]
        let at = prefix.count
        try withCursor(db) { cursor in
            try key.withUnsafeMutableBytes { kb in
                var v = MDB_val()
                for suffix in suffixes {
                    kb.storeBytes(of: suffix.bigEndian, toByteOffset: at, as: UInt32.self)
                    var k = MDB_val(mv_size: kb.count, mv_data: kb.baseAddress)
                    let rc = mdb_cursor_get(cursor, &k, &v, MDB_SET)
                    if rc != 0 && rc != MDB_NOTFOUND { try check(rc) }
                    let value = rc == 0 ? UnsafeRawBufferPointer(start: v.mv_data, count: v.mv_size) : nil
                    if try !body(suffix, value) { return }
                }
            }
        }
    }

    /// Visits every entry whose key starts with `prefix`. Forward, each key is checked against
    /// the prefix itself, so that the scan (the hot path of reading a message's pieces) needs no
    /// upper bound built.
    public func scan(
        _ db: Database, prefix: [UInt8], reverse: Bool = false,
        _ body: (_ key: UnsafeRawBufferPointer, _ value: UnsafeRawBufferPointer) throws -> Bool
    ) throws {
        if reverse { return try scan(db, from: prefix, to: prefixUpperBound(prefix), reverse: true, body) }
        try prefix.withUnsafeBytes { p in
            try scanForward(db, from: prefix, while: { key in
                key.count >= p.count && (p.isEmpty || memcmp(key.baseAddress!, p.baseAddress!, p.count) == 0)
            }, body)
        }
    }

    /// The number of entries in `db`.
    public func count(_ db: Database) throws -> Int {
        try precondition()
        var s = MDB_stat()
        try check(mdb_stat(handle, db.dbi, &s))
        return s.ms_entries
    }

    /// Page figures of `db`: branch, leaf and overflow page counts.
    public func pages(_ db: Database) throws -> (branch: Int, leaf: Int, overflow: Int) {
        try precondition()
        var s = MDB_stat()
        try check(mdb_stat(handle, db.dbi, &s))
        return (s.ms_branch_pages, s.ms_leaf_pages, s.ms_overflow_pages)
    }

    func precondition() throws {
        guard isOpen else { throw LMDBError.usage("transaction used after it ended") }
    }
}

/// A write transaction: reads see its own writes.
public final class WriteTransaction: ReadTransaction {
    /// Whether a put, delete or clear has run in it (or in a nested transaction it kept).
    private(set) var changed = false

    /// Opens (creating if needed) a named database.
    public func openDatabase(named name: String) throws -> Database {
        var dbi = MDB_dbi()
        try check(mdb_dbi_open(handle, name, UInt32(MDB_CREATE), &dbi))
        return Database(dbi: dbi)
    }

    /// `mdb_put` of `value` under `key` with `flags`; its return code.
    private func rawPut<K: ContiguousKey>(_ db: Database, _ key: K, _ value: UnsafeRawBufferPointer, flags: Int32) throws -> Int32 {
        try precondition()
        changed = true
        return key.withKeyBytes { keyBytes in
            var k = MDB_val(mv_size: keyBytes.count, mv_data: UnsafeMutableRawPointer(mutating: keyBytes.baseAddress))
            var v = MDB_val(mv_size: value.count, mv_data: UnsafeMutableRawPointer(mutating: value.baseAddress))
            return mdb_put(handle, db.dbi, &k, &v, UInt32(flags))
        }
    }

    /// Stores `value` under `key`, replacing any value.
    public func put<K: ContiguousKey>(_ db: Database, _ key: K, _ value: UnsafeRawBufferPointer) throws {
        try check(rawPut(db, key, value, flags: 0))
    }

    /// Stores `value` under `key`, replacing any value. `likelyLast`: the caller expects `key`
    /// to sort after every key of `db`; LMDB then appends it (`MDB_APPEND`), which leaves full
    /// pages behind instead of splitting the last one in half. When the key is not last, it is
    /// put the usual way.
    public func put<K: ContiguousKey>(_ db: Database, _ key: K, _ value: UnsafeRawBufferPointer, likelyLast: Bool) throws {
        let rc = try rawPut(db, key, value, flags: likelyLast ? MDB_APPEND : 0)
        try check(rc == MDB_KEYEXIST ? rawPut(db, key, value, flags: 0) : rc)
    }

    /// Stores `value` under `key`, replacing any value.
    public func put<K: ContiguousKey>(_ db: Database, _ key: K, _ value: [UInt8]) throws {
        try value.withUnsafeBytes { try put(db, key, $0) }
    }

    /// Stores `value` under `key` only if `key` has no value. Returns false if it had one.
    public func insert<K: ContiguousKey>(_ db: Database, _ key: K, _ value: [UInt8]) throws -> Bool {
        let rc = try value.withUnsafeBytes { try rawPut(db, key, $0, flags: MDB_NOOVERWRITE) }
        if rc == MDB_KEYEXIST { return false }
        try check(rc)
        return true
    }

    /// Removes `key`. Returns whether it had a value.
    @discardableResult
    public func delete<K: ContiguousKey>(_ db: Database, _ key: K) throws -> Bool {
        try precondition()
        changed = true
        return try key.withKeyBytes { keyBytes in
            var k = MDB_val(mv_size: keyBytes.count, mv_data: UnsafeMutableRawPointer(mutating: keyBytes.baseAddress))
            let rc = mdb_del(handle, db.dbi, &k, nil)
            if rc == MDB_NOTFOUND { return false }
            try check(rc)
            return true
        }
    }

    /// Removes every entry of `db`.
    public func clear(_ db: Database) throws {
        try precondition()
        changed = true
        try check(mdb_drop(handle, db.dbi, 0))
    }

    /// Runs `body` in a nested transaction. Throwing aborts only the nested changes; the
    /// parent stays usable. The parent must not be used while `body` runs.
    public func nested<T>(_ body: (WriteTransaction) throws -> T) throws -> T {
        try precondition()
        var child: OpaquePointer?
        try check(mdb_txn_begin(mdb_txn_env(handle), handle, 0, &child))
        guard let child else { throw LMDBError.badTransaction }
        let tx = WriteTransaction(handle: child)
        isOpen = false
        defer { isOpen = true }
        do {
            let result = try body(tx)
            tx.isOpen = false
            try check(mdb_txn_commit(child))
            changed = changed || tx.changed
            return result
        } catch {
            if tx.isOpen { tx.isOpen = false; mdb_txn_abort(child) }
            throw error
        }
    }
}

/// Bytes usable as a key without copying.
public protocol ContiguousKey {
    func withKeyBytes<T>(_ body: (UnsafeRawBufferPointer) throws -> T) rethrows -> T
}

extension Array: ContiguousKey where Element == UInt8 {
    public func withKeyBytes<T>(_ body: (UnsafeRawBufferPointer) throws -> T) rethrows -> T {
        try withUnsafeBytes(body)
    }
}

extension ArraySlice: ContiguousKey where Element == UInt8 {
    public func withKeyBytes<T>(_ body: (UnsafeRawBufferPointer) throws -> T) rethrows -> T {
        try withUnsafeBytes(body)
    }
}

extension UnsafeRawBufferPointer: ContiguousKey {
    public func withKeyBytes<T>(_ body: (UnsafeRawBufferPointer) throws -> T) rethrows -> T {
        try body(self)
    }
}

/// Byte-wise comparison, as LMDB's default key order.
@inline(__always)
func lexicographicCompare(_ a: UnsafeRawBufferPointer, _ b: UnsafeRawBufferPointer) -> Int {
    let n = min(a.count, b.count)
    if n > 0, let pa = a.baseAddress, let pb = b.baseAddress {
        let c = memcmp(pa, pb, n)
        if c != 0 { return Int(c) }
    }
    return a.count - b.count
}

/// The smallest key greater than every key that starts with `prefix`, or nil if none exists.
func prefixUpperBound(_ prefix: [UInt8]) -> [UInt8]? {
    var bound = prefix
    while let last = bound.last {
        if last < 0xFF {
            bound[bound.count - 1] = last + 1
            return bound
        }
        bound.removeLast()
    }
    return nil
}
