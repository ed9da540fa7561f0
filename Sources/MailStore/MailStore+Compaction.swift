import Foundation

/// The data file's size around `MailStore.compact`.
public struct CompactionResult: Sendable, Codable, Equatable {
    public var bytesBefore: Int
    public var bytesAfter: Int
}

extension MailStore {
    /// Where `compact` writes its copy: a directory inside the data directory, so that the final
    /// rename stays on one file system. A copy left behind by an interrupted compaction is
    /// removed by the next one.
    public static func compactionDirectory(for path: String) -> String { path + "/compact.tmp" }

    /// The size of the copy a running `compact` has written so far, for progress.
    public static func compactionProgress(for path: String) -> Int {
        LMDBBackend.fileSize(LMDBBackend.dataFile(in: compactionDirectory(for: path)))
    }

    /// Gives the store's free pages back to the file system: a compacting copy of the store
    /// beside its data file, then an atomic rename over it.
    ///
    /// - Refused (`storeBusy`) while any other process has the store open (`mstored`, another
    ///   `mstore`, a program using this library), because a process that kept the old file open
    ///   would go on writing into it after the swap. While it runs, opening the store is refused
    ///   the same way.
    /// - Safe to interrupt: the original file is whole until the rename, and the rename is atomic.
    /// - A store of a newer schema is refused untouched, as opening it would be.
    public static func compact(path: String) throws -> CompactionResult {
        let lock = try StoreLock(directory: path, mode: .exclusive)
        defer { withExtendedLifetime(lock) {} }
        let temporary = compactionDirectory(for: path)
        let fm = FileManager.default
        do {
            if fm.fileExists(atPath: temporary) { try fm.removeItem(atPath: temporary) }
            try fm.createDirectory(atPath: temporary, withIntermediateDirectories: false)
            defer { try? fm.removeItem(atPath: temporary) }
            let sizes = try LMDBBackend.compact(path: path, temporary: temporary) { kv in
                let found = try kv.withValue(.meta, Keys.schemaVersion) { v in v.map { Int(readU32($0, at: 0)) } }
                if let found, found > schemaVersion {
                    throw MailStoreError.unsupportedSchema(found: found, supported: schemaVersion)
                }
            }
            return CompactionResult(bytesBefore: sizes.before, bytesAfter: sizes.after)
        } catch let error as MailStoreError {
            throw error
        } catch {
            throw MailStoreError.storage("cannot compact \(path): \(error)")
        }
    }
}
