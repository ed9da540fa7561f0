import ArgumentParser
import Crypto
import Foundation
import MailStore

/// What `backup` writes beside the copied files as `manifest.json`, and `restore` checks.
struct BackupManifest: Codable {
    struct File: Codable { var name: String, size: Int, sha256: String }

    static let fileName = "manifest.json"
    static let currentFormat = 1

    var format: Int
    var schemaVersion: Int
    var createdAt: String
    var compact: Bool
    var users: Int, mailboxes: Int, messages: Int
    /// Bytes of all files of the copy.
    var size: Int
    /// The files of the copy, with their SHA-256: for LMDB, the one data file.
    var files: [File]
}

/// SHA-256 of a file, read in 1 MiB pieces, as lowercase hex; with the number of bytes.
func sha256(ofFile path: String, copyingTo target: FileHandle? = nil) throws -> (String, Int) {
    guard let handle = FileHandle(forReadingAtPath: path) else { throw UserError("cannot read \(path)") }
    defer { try? handle.close() }
    var hasher = SHA256()
    var size = 0
    while let data = try handle.read(upToCount: 1 << 20), !data.isEmpty {
        hasher.update(data: data)
        size += data.count
        try target?.write(contentsOf: data)
    }
    return (hasher.finalize().map { String(format: "%02x", $0) }.joined(), size)
}

/// `mstore backup DEST [--compact]`: an online, consistent copy while the store stays in use.
struct Backup: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        abstract: "Copy the store, while it is in use, into the new directory DEST, with a manifest.json.")
    @OptionGroup var store: StoreOptions
    @Argument var dest: String
    @Flag(name: .long, help: "Compact while copying (much slower when messages are large).") var compact = false

    func run() async throws {
        let fm = FileManager.default
        if fm.fileExists(atPath: dest) { throw UserError("\(dest) already exists") }
        let s = try store.open()
        do {
            try fm.createDirectory(atPath: dest, withIntermediateDirectories: false)
        } catch {
            throw UserError("cannot create \(dest): \((error as NSError).localizedDescription)")
        }
        do {
            let storage = try s.storageStatistics()
            let bar = ProgressBar(label: "backup", total: storage.pagesUsed * storage.pageSize, unit: .bytes)
            let (dest, compact) = (dest, compact)
            try await bar.follow({ MailStore.dataFileSize(at: dest) }) { try s.backup(to: dest, compact: compact) }
            bar.finish(MailStore.dataFileSize(at: dest))
            // Checksums first: opening the copy to count it may add files of its own (a lock
            // file), which the manifest leaves out and restore does not copy.
            var files: [BackupManifest.File] = []
            for name in try fm.contentsOfDirectory(atPath: dest).sorted() {
                let (digest, size) = try sha256(ofFile: dest + "/" + name)
                files.append(.init(name: name, size: size, sha256: digest))
            }
            let copy = try MailStore(path: dest)
            let (users, mailboxes, messages) = try copy.read { tx in
                let accounts = try tx.accounts()
                return (accounts.count, try accounts.reduce(0) { $0 + (try tx.mailboxes(of: $1.id).count) },
                        accounts.reduce(0) { $0 + $1.usedMessages })
            }
            copy.close()
            let manifest = BackupManifest(
                format: BackupManifest.currentFormat, schemaVersion: MailStore.schemaVersion,
                createdAt: ISO8601DateFormatter().string(from: Date()), compact: compact,
                users: users, mailboxes: mailboxes, messages: messages,
                size: files.reduce(0) { $0 + $1.size }, files: files)
            let encoder = JSONEncoder()
            encoder.outputFormatting = [.prettyPrinted, .sortedKeys]
            try encoder.encode(manifest).write(to: URL(fileURLWithPath: dest + "/" + BackupManifest.fileName),
                                               options: .atomic)
            print("backed up \(users) users, \(mailboxes) mailboxes, \(messages) messages (\(manifest.size) bytes) to \(dest)")
        } catch {
            try? fm.removeItem(atPath: dest)
            throw error
        }
    }
}

/// `mstore restore SRC [--data DIR]`: checks the backup against its manifest and puts it in
/// place as the data directory, which must not exist or be empty.
struct Restore: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        abstract: "Restore a backup into the data directory, which must be missing or empty.")
    @OptionGroup var store: StoreOptions
    @Argument var source: String

    func run() async throws {
        let fm = FileManager.default
        let manifestPath = source + "/" + BackupManifest.fileName
        guard let data = fm.contents(atPath: manifestPath) else { throw UserError("no \(manifestPath)") }
        let manifest: BackupManifest
        do {
            manifest = try JSONDecoder().decode(BackupManifest.self, from: data)
        } catch {
            throw UserError("\(manifestPath) is not a backup manifest")
        }
        guard manifest.schemaVersion <= MailStore.schemaVersion else {
            throw UserError("backup schema \(manifest.schemaVersion) is newer than this program supports (\(MailStore.schemaVersion))")
        }
        guard !manifest.files.isEmpty,
              manifest.files.allSatisfy({ !$0.name.contains("/") && $0.name != ".." && $0.name != "." }) else {
            throw UserError("\(manifestPath) lists no usable files")
        }
        let target = MailStore.defaultPath(data: store.data)
        var isDirectory: ObjCBool = false
        if fm.fileExists(atPath: target, isDirectory: &isDirectory) {
            guard isDirectory.boolValue else { throw UserError("\(target) exists and is not a directory") }
            guard (try fm.contentsOfDirectory(atPath: target)).isEmpty else {
                throw UserError("\(target) is not empty; restore only into a new or empty directory")
            }
        }
        // Copy and hash in one pass into a sibling directory, then rename it into place.
        let temporary = target + ".mstore-restore-\(getpid())"
        do {
            try fm.createDirectory(atPath: temporary, withIntermediateDirectories: false)
            for file in manifest.files {
                let to = temporary + "/" + file.name
                guard fm.createFile(atPath: to, contents: nil, attributes: [.posixPermissions: 0o600]),
                      let out = FileHandle(forWritingAtPath: to) else { throw UserError("cannot create \(to)") }
                defer { try? out.close() }
                let (digest, size) = try sha256(ofFile: source + "/" + file.name, copyingTo: out)
                guard digest == file.sha256, size == file.size else {
                    throw UserError("\(source)/\(file.name) does not match the manifest's checksum")
                }
                try out.synchronize()
            }
            if fm.fileExists(atPath: target) { try fm.removeItem(atPath: target) }  // empty, checked above
            guard rename(temporary, target) == 0 else { throw UserError("cannot rename into \(target): \(errnoText())") }
        } catch {
            try? fm.removeItem(atPath: temporary)
            throw error
        }
        print("restored \(manifest.users) users, \(manifest.mailboxes) mailboxes, \(manifest.messages) messages into \(target)")
    }
}
