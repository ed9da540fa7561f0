import ArgumentParser
import Foundation
import IMAPProtocol
import MailStore

/// `mstore export USER MAILBOX DEST [--format mbox|maildir]` and `mstore export USER --all DEST`.
/// Everything is written under a temporary name beside DEST and renamed into place at the end,
/// so a failure leaves nothing behind and an existing DEST is never touched.
struct Export: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        abstract: "Export a mailbox (or, with --all, every mailbox into a directory) as mbox or Maildir.",
        usage: "mstore export USER MAILBOX DEST [--format mbox|maildir]\nmstore export USER --all DEST [--format mbox|maildir]")

    enum Format: String, ExpressibleByArgument, CaseIterable { case mbox, maildir }

    @OptionGroup var store: StoreOptions
    @Argument var user: String
    @Argument(help: "MAILBOX DEST, or DEST alone with --all.") var rest: [String]
    @Option(name: .long) var format: Format = .mbox
    @Flag(name: .long, help: "Export every mailbox; DEST is then a directory.") var all = false

    func validate() throws {
        if all && rest.count != 1 { throw ValidationError("with --all give USER DEST") }
        if !all && rest.count != 2 { throw ValidationError("give USER MAILBOX DEST, or USER --all DEST") }
    }

    func run() async throws {
        let dest = rest.last!
        if FileManager.default.fileExists(atPath: dest) { throw UserError("\(dest) already exists") }
        let s = try store.open()
        let (user, only) = (user, all ? nil : rest.first)
        let boxes = try s.read { tx in
            let account = try tx.requireAccount(named: user)
            if let only { return [try tx.requireMailbox(of: account.id, named: only)] }
            return try tx.mailboxes(of: account.id).filter { !$0.isNoSelect }
        }
        let temporary = dest + ".mstore-export-\(getpid())"
        let bar = ProgressBar(label: "export", total: boxes.reduce(0) { $0 + $1.messages })
        var total = 0
        do {
            if all { try FileManager.default.createDirectory(atPath: temporary, withIntermediateDirectories: false) }
            for box in boxes {
                let path = all ? temporary + "/" + Self.relativePath(of: box.name, format: format) : temporary
                if all && format == .mbox {
                    try FileManager.default.createDirectory(atPath: (path as NSString).deletingLastPathComponent,
                                                            withIntermediateDirectories: true)
                }
                let before = total
                switch format {
                case .mbox: total += try MboxWriter.export(s, box, to: path) { bar.update(before + $0) }
                case .maildir: total += try MaildirWriter.export(s, box, to: path) { bar.update(before + $0) }
                }
            }
            // Checked again: DEST may have appeared while we wrote.
            if FileManager.default.fileExists(atPath: dest) { throw UserError("\(dest) already exists") }
            guard rename(temporary, dest) == 0 else { throw UserError("cannot rename into \(dest): \(errnoText())") }
        } catch {
            try? FileManager.default.removeItem(atPath: temporary)
            if let error = error as? CocoaError, let path = error.filePath {
                throw UserError("cannot write \(path): \(error.localizedDescription)")
            }
            throw error
        }
        bar.finish(total)
        print("exported \(total) messages from \(boxes.count) mailbox\(boxes.count == 1 ? "" : "es") to \(dest)")
    }

    /// Where a mailbox goes inside an `--all` directory: `Name.mbox` (with `/` levels as
    /// directories), or the Maildir++ layout: INBOX at the top, `Old/Box` as `.Old.Box`, in
    /// modified UTF-7 as Dovecot writes it (`Sentä` as `.Sent&AOQ-`).
    static func relativePath(of name: String, format: Format) -> String {
        switch format {
        case .mbox: name + ".mbox"
        case .maildir: name == "INBOX" ? "" : "." + ModifiedUTF7.encode(name).replacingOccurrences(of: "/", with: ".")
        }
    }
}

func errnoText() -> String { String(cString: strerror(errno)) }

/// mboxrd output: a `From sender asctime-date` line, the message with `>*From ` lines given one
/// more `>`, and a blank line. The stored CRLF line ends are kept, so `import` gives back the
/// same bytes; a message that does not end in a line end gets one.
enum MboxWriter {
    /// Writes the mailbox to `path`; `progress` gets the number of messages written so far.
    static func export(_ store: MailStore, _ box: Mailbox, to path: String, progress: (Int) -> Void) throws -> Int {
        guard FileManager.default.createFile(atPath: path, contents: nil),
              let handle = FileHandle(forWritingAtPath: path) else { throw UserError("cannot create \(path)") }
        defer { try? handle.close() }
        var out: [UInt8] = []
        var count = 0
        try store.read { tx in
            try tx.forEachMessage(in: box.id) { record in
                let bytes = try tx.content(record.content)
                out += Array("From \(envelopeSender(bytes)) \(asctime(record.internalDate.seconds))\n".utf8)
                appendQuoted(bytes, to: &out)
                if bytes.last != 10 { out.append(10) }
                out.append(10)
                count += 1
                progress(count)
                if out.count >= 1 << 20 {
                    try handle.write(contentsOf: out)
                    out.removeAll(keepingCapacity: true)
                }
                return true
            }
        }
        try handle.write(contentsOf: out)
        try handle.synchronize()
        return count
    }

    /// mboxrd quoting: every line that matches `>*From ` gets one more `>`.
    static func appendQuoted(_ bytes: [UInt8], to out: inout [UInt8]) {
        let from = Array("From ".utf8)
        var start = 0
        while start < bytes.count {
            let end = bytes[start...].firstIndex(of: 10).map { $0 + 1 } ?? bytes.count
            var i = start
            while i < end && bytes[i] == UInt8(ascii: ">") { i += 1 }
            if bytes[i..<end].starts(with: from) { out.append(UInt8(ascii: ">")) }
            out.append(contentsOf: bytes[start..<end])
            start = end
        }
    }

    /// The address of the first `Return-Path` header field, or `MAILER-DAEMON` when there is
    /// none or it is the null sender `<>`.
    static func envelopeSender(_ bytes: [UInt8]) -> String {
        let name = Array("return-path:".utf8)
        var start = 0
        while start < bytes.count {
            let end = bytes[start...].firstIndex(of: 10).map { $0 + 1 } ?? bytes.count
            let line = bytes[start..<end]
            if line.first == 13 || line.first == 10 { break }  // end of the header section
            if line.count > name.count, zip(line.prefix(name.count), name).allSatisfy({ ($0 | 0x20) == $1 }) {
                let value = String(decoding: line.dropFirst(name.count), as: UTF8.self)
                    .trimmingCharacters(in: CharacterSet(charactersIn: " \t\r\n<>"))
                let address = value.filter { !$0.isWhitespace }
                return address.isEmpty ? "MAILER-DAEMON" : address
            }
            start = end
        }
        return "MAILER-DAEMON"
    }

    /// `Www Mmm dd hh:mm:ss yyyy` in UTC, as C's asctime writes it (day padded with a space).
    static func asctime(_ seconds: Int64) -> String {
        var t = time_t(seconds)
        var tmv = tm()
        gmtime_r(&t, &tmv)
        let days = ["Sun", "Mon", "Tue", "Wed", "Thu", "Fri", "Sat"]
        let months = ["Jan", "Feb", "Mar", "Apr", "May", "Jun", "Jul", "Aug", "Sep", "Oct", "Nov", "Dec"]
        func two(_ v: Int32) -> String { v < 10 ? "0\(v)" : "\(v)" }
        let day = tmv.tm_mday < 10 ? " \(tmv.tm_mday)" : "\(tmv.tm_mday)"
        return "\(days[Int(tmv.tm_wday)]) \(months[Int(tmv.tm_mon)]) \(day) "
            + "\(two(tmv.tm_hour)):\(two(tmv.tm_min)):\(two(tmv.tm_sec)) \(tmv.tm_year + 1900)"
    }
}

/// Maildir output: `cur/<internaldate>.<uid>.mstore:2,<flags>` with the flag letters in ASCII
/// order and the mtime set to the internal date; `new/` and `tmp/` are created empty. The UID
/// is zero-padded so that a name sort (which `import` uses) keeps UID order within one second.
/// Keywords become Dovecot's letters `a` to `z`, in the order they first appear, with their
/// names in `dovecot-keywords`; a Maildir has no letter for more than 26 (a warning says so).
enum MaildirWriter {
    /// Writes the mailbox into the Maildir `path`; `progress` gets the number of messages written so far.
    static func export(_ store: MailStore, _ box: Mailbox, to path: String, progress: (Int) -> Void) throws -> Int {
        let fm = FileManager.default
        for sub in ["cur", "new", "tmp"] {
            try fm.createDirectory(atPath: path + "/" + sub, withIntermediateDirectories: true)
        }
        var count = 0
        var letterOf: [KeywordID: Character] = [:]
        var table: [String] = []
        var dropped: Set<KeywordID> = []
        try store.read { tx in
            let names = try tx.keywords(of: box.account)
            try tx.forEachMessage(in: box.id) { record in
                for id in record.keywords where letterOf[id] == nil && !dropped.contains(id) {
                    guard let name = names[id], table.count < Maildir.maxKeywords else { dropped.insert(id); continue }
                    letterOf[id] = Character(UnicodeScalar(UInt8(ascii: "a") + UInt8(table.count)))
                    table.append(name)
                }
                let bytes = try tx.content(record.content)
                let file = path + "/cur/" + fileName(record, keywords: String(record.keywords.compactMap { letterOf[$0] }.sorted()))
                try write(bytes, to: file, mtime: record.internalDate.seconds)
                count += 1
                progress(count)
                return true
            }
        }
        if !table.isEmpty {
            let text = table.enumerated().map { "\($0.offset) \($0.element)\n" }.joined()
            guard fm.createFile(atPath: path + "/" + Maildir.keywordsFile, contents: Data(text.utf8)) else {
                throw UserError("cannot create \(path)/\(Maildir.keywordsFile)")
            }
        }
        if !dropped.isEmpty {
            FileHandle.standardError.write(Data(
                "mstore: warning: \(box.name): \(dropped.count) keywords beyond the first \(Maildir.maxKeywords) are not exported\n".utf8))
        }
        return count
    }

    static func fileName(_ record: MessageRecord, keywords: String) -> String {
        let uid = String(record.uid.rawValue)
        return "\(record.internalDate.seconds).\(String(repeating: "0", count: max(0, 10 - uid.count)) + uid)"
            + ".mstore:2,\(letters(record.flags))\(keywords)"
    }

    /// Maildir info letters, in ASCII order: D draft, F flagged, R replied, S seen, T trashed.
    static func letters(_ flags: MessageFlags) -> String {
        let table: [(Character, MessageFlags)] = [("D", .draft), ("F", .flagged), ("R", .answered), ("S", .seen),
                                                  ("T", .deleted)]
        return String(table.filter { flags.contains($0.1) }.map(\.0))
    }

    static func write(_ bytes: [UInt8], to file: String, mtime: Int64) throws {
        let fd = open(file, O_WRONLY | O_CREAT | O_EXCL, 0o600)
        guard fd >= 0 else { throw UserError("cannot create \(file): \(errnoText())") }
        defer { close(fd) }
        var written = 0
        while written < bytes.count {
            let n = bytes[written...].withUnsafeBytes { Glibc.write(fd, $0.baseAddress, $0.count) }
            guard n > 0 else { throw UserError("cannot write \(file): \(errnoText())") }
            written += n
        }
        fsync(fd)
        var times = [timespec(tv_sec: time_t(mtime), tv_nsec: 0), timespec(tv_sec: time_t(mtime), tv_nsec: 0)]
        guard futimens(fd, &times) == 0 else { throw UserError("cannot set the time of \(file): \(errnoText())") }
    }
}
