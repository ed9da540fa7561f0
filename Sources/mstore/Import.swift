import ArgumentParser
import CMemmem
import Foundation
import IMAPProtocol
import MailMessage
import MailStore

/// `mstore import USER SOURCE [--mailbox NAME]`: an mbox file or a Maildir (with its Maildir++
/// folders), detected. Resumable: run again after an interruption, it skips the messages the
/// mailbox already holds (`ImportLedger`), so nothing is stored twice.
struct Import: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        abstract: "Import an mbox file or a Maildir (and its Maildir++ folders) into a mailbox (default INBOX).")
    @OptionGroup var store: StoreOptions
    @Argument var user: String
    @Argument var source: String
    @Option(name: .long) var mailbox: String = "INBOX"

    /// Messages committed per durable write, at most. Bigger batches make fewer, larger index
    /// segments to merge and fewer commits: measured on 100k messages, 4,000 imports 1.26x
    /// faster than 1,000.
    static let batchSize = 4000
    /// Source bytes per batch, at most, so that memory stays bounded whatever the messages' sizes
    /// (100,000 typical messages in batches of 4,000 peak at about 500 MB of heap).
    static let batchBytes = 16 << 20

    /// A batch is parsed in this many slices, as tasks on the cooperative pool: more slices than
    /// cores, so that they share the cores evenly with the batch before's segment build.
    static let prepareTasks = 8

    /// Batches read but not yet committed: each is parsed and builds its segment while the one
    /// before commits, and reading waits when this many are pending.
    static let batchesInFlight = 2

    struct Item: Sendable {
        /// The message as read; parsed in `flush`, and only when it is not skipped.
        var raw: [UInt8]
        var flags: MessageFlags
        var keywords: [String] = []
        var date: ZonedDate?
        /// Where the message ends in an mbox file, for progress.
        var sourceEnd = 0
    }

    /// How far an import has come, over all its folders.
    final class Progress {
        let bar: ProgressBar
        let isMbox: Bool
        var messages = 0

        init(source: String, folders: [String], isMaildir: Bool) {
            isMbox = !isMaildir
            if isMaildir {
                // Counting a Maildir's files is only worth it for a bar that is drawn.
                let total = ProgressBar.isTerminal ? folders.reduce(0) { $0 + Maildir.messageCount($1) } : 0
                bar = ProgressBar(label: "import", total: total)
            } else {
                let size = (try? FileManager.default.attributesOfItem(atPath: source)[.size] as? Int) ?? nil
                bar = ProgressBar(label: "import", total: size ?? 0, unit: .bytes)
            }
        }

        func add(_ item: Item) {
            messages += 1
            bar.update(isMbox ? item.sourceEnd : messages, messages: isMbox ? messages : nil)
        }
    }

    func run() async throws {
        var isDirectory: ObjCBool = false
        guard FileManager.default.fileExists(atPath: source, isDirectory: &isDirectory) else {
            throw UserError("no such file or directory: \(source)")
        }
        // Reject a bad source before anything is written.
        if isDirectory.boolValue { try Maildir.validate(source) } else { try Mbox.validate(source) }
        // A Maildir++ tree (RFC-less but universal: Courier, Dovecot) also holds folders as
        // `.Sub.Folder` directories beside cur/ and new/; each becomes `Sub/Folder`.
        var sources = [(path: source, mailbox: mailbox)]
        if isDirectory.boolValue {
            let prefix = mailbox == "INBOX" ? "" : mailbox + "/"
            sources += Maildir.subfolders(source).map { (source + "/." + $0, prefix + Maildir.mailboxName(ofFolder: $0)) }
        }
        // Every folder's dovecot-keywords is read (and a bad one refused) before the first write.
        let keywords = try sources.map { isDirectory.boolValue ? try Maildir.keywords(in: $0.path) : [:] }
        let s = try store.open()
        let progress = Progress(source: source, folders: sources.map(\.path), isMaildir: isDirectory.boolValue)
        for ((path, name), keywords) in zip(sources, keywords) {
            let (total, skipped) = try await importOne(s, path: path, isMaildir: isDirectory.boolValue, keywords: keywords,
                                                       into: name, progress: progress)
            print("imported \(total) messages into \(name)" + (skipped > 0 ? " (\(skipped) already there, skipped)" : ""))
        }
        progress.bar.finish(progress.isMbox ? nil : progress.messages, messages: progress.messages)
    }

    /// Parses a batch, in `prepareTasks` slices at once; the results keep the batch's order.
    static func prepare(_ items: [Item]) async -> [PreparedMessage] {
        let slice = max(1, (items.count + prepareTasks - 1) / prepareTasks)
        return await withTaskGroup(of: (Int, [PreparedMessage]).self) { group in
            for start in stride(from: 0, to: items.count, by: slice) {
                let part = items[start..<min(start + slice, items.count)].map(\.raw)
                group.addTask { (start, part.map { PreparedMessage($0) }) }
            }
            var parts: [(Int, [PreparedMessage])] = []
            for await part in group { parts.append(part) }
            return parts.sorted { $0.0 < $1.0 }.flatMap(\.1)
        }
    }

    /// Imports one mbox file or one Maildir folder into `name`, creating it if needed. Returns
    /// the number of messages stored, and of those skipped because the mailbox already held them.
    private func importOne(_ s: MailStore, path: String, isMaildir: Bool, keywords: [Int: String],
                           into name: String, progress: Progress) async throws -> (Int, Int) {
        let user = user
        let target = try await s.write { tx in
            let account = try tx.requireAccount(named: user)
            return try tx.mailbox(of: account.id, named: name)?.id
                ?? tx.createMailbox(account: account.id, name: name).id
        }
        // What the mailbox holds already, by content: an earlier, interrupted run of this import
        // stored those, so they are skipped. Empty for a new mailbox, which costs no lookups.
        var ledger = try s.read { tx in try tx.importLedger(for: target) }
        var batch: [Item] = []
        var batchBytes = 0
        var total = 0, skipped = 0
        // Read batches are parsed, build their segments and commit in order on other tasks,
        // while the next is read here.
        var committing: [Task<Void, any Error>] = []
        func flush() async throws {
            let read = batch
            batch.removeAll(keepingCapacity: true)
            batchBytes = 0
            let items = ledger.isEmpty ? read : try s.read { tx in
                try read.filter { !(try tx.isAlreadyImported(sha256: PreparedMessage.contentHash(of: $0.raw), ledger: &ledger)) }
            }
            skipped += read.count - items.count
            if committing.count >= Self.batchesInFlight { try await committing.removeFirst().value }
            // The batch is parsed and its index segment built off the writer thread, while the
            // next is read and the batch before commits; batches commit in order, since UIDs
            // follow the source.
            let before = committing.last
            committing.append(Task {
                let entries = zip(items, await Self.prepare(items)).map { item, message in
                    PreparedBatch.Entry(message, flags: item.flags, keywords: item.keywords, internalDate: item.date)
                }
                let prepared = PreparedBatch(entries)
                try await before?.value
                try await s.write { tx in _ = try tx.append(to: target, prepared) }
            })
            total += items.count
        }
        let add: (Item) async throws -> Void = { item in
            progress.add(item)
            batch.append(item)
            batchBytes += item.raw.count
            if batch.count >= Self.batchSize || batchBytes >= Self.batchBytes { try await flush() }
        }
        if isMaildir {
            try await Maildir.read(path, keywords: keywords, add)
        } else {
            try await Mbox.read(path, add)
        }
        if !batch.isEmpty { try await flush() }
        for task in committing { try await task.value }
        return (total, skipped)
    }
}

/// Maildir reading: `cur/` and `new/`, flags from the `:2,` info, keywords from Dovecot's
/// `dovecot-keywords`, the date from the mtime.
enum Maildir {
    /// Dovecot's keyword table, beside cur/ and new/ in each folder.
    static let keywordsFile = "dovecot-keywords"
    /// Keywords `a` to `z` in the info: at most 26 a folder.
    static let maxKeywords = 26

    static func directories(_ path: String) -> [String] {
        ["cur", "new"].map { path + "/" + $0 }.filter { FileManager.default.fileExists(atPath: $0) }
    }

    /// The number of message files in the folder's cur/ and new/.
    static func messageCount(_ path: String) -> Int {
        directories(path).reduce(0) { n, dir in
            n + ((try? FileManager.default.contentsOfDirectory(atPath: dir)) ?? []).filter { !$0.hasPrefix(".") }.count
        }
    }

    static func validate(_ path: String) throws {
        guard !directories(path).isEmpty else { throw UserError("\(path) is not a Maildir (no cur/ or new/)") }
    }

    /// The Maildir++ folders under a Maildir, without their leading dot (`Sub.Folder`), sorted so
    /// a parent comes before its children.
    static func subfolders(_ path: String) -> [String] {
        let names = (try? FileManager.default.contentsOfDirectory(atPath: path)) ?? []
        return names.filter { $0.hasPrefix(".") && $0 != "." && $0 != ".." && !directories(path + "/" + $0).isEmpty }
            .map { String($0.dropFirst()) }.filter { !$0.isEmpty }.sorted()
    }

    /// The mailbox name of a Maildir++ folder (without its leading dot): Dovecot and Courier
    /// write names in IMAP's modified UTF-7 (`Sent&AOQ-` is `Sentä`), with `.` between levels.
    /// A folder name that is not modified UTF-7 (raw UTF-8, a lone `&`) is taken as it is.
    static func mailboxName(ofFolder folder: String) -> String {
        let name = folder.replacingOccurrences(of: ".", with: "/")
        return (try? ModifiedUTF7.decode(name)) ?? name
    }

    /// The folder's Dovecot keyword table, `N name` a line (N from 0 to 25 stands for the info
    /// letter `a` to `z`); empty when the folder has none. A line that is not `N name`, or a
    /// name that is not an IMAP keyword, is a user error naming the line.
    static func keywords(in path: String) throws -> [Int: String] {
        let file = path + "/" + keywordsFile
        guard FileManager.default.fileExists(atPath: file) else { return [:] }
        guard let data = FileManager.default.contents(atPath: file), let text = String(data: data, encoding: .utf8) else {
            throw UserError("cannot read \(file)")
        }
        var table: [Int: String] = [:]
        for (index, line) in text.split(omittingEmptySubsequences: false, whereSeparator: \.isNewline).enumerated()
            where !line.isEmpty {
            let parts = line.split(separator: " ", maxSplits: 1)
            guard parts.count == 2, let n = Int(parts[0]), n >= 0, n < maxKeywords else {
                throw UserError("\(file) line \(index + 1): expected a number from 0 to 25, a space and a keyword")
            }
            let name = String(parts[1])
            do {
                try StoreWriter.validateKeyword(name)
            } catch {
                throw UserError("\(file) line \(index + 1): \(error)")
            }
            table[n] = name
        }
        return table
    }

    static func read(_ path: String, keywords: [Int: String], _ add: (Import.Item) async throws -> Void) async throws {
        let fm = FileManager.default
        for dir in directories(path) {
            for name in try fm.contentsOfDirectory(atPath: dir).sorted() where !name.hasPrefix(".") {
                let file = dir + "/" + name
                guard let data = fm.contents(atPath: file) else { continue }
                let mtime = (try? fm.attributesOfItem(atPath: file)[.modificationDate] as? Date) ?? nil
                let (flags, letters) = info(fromName: name)
                try await add(Import.Item(raw: Array(data), flags: flags,
                                          keywords: letters.compactMap { keywords[$0] },
                                          date: mtime.map { ZonedDate(seconds: Int64($0.timeIntervalSince1970)) }))
            }
        }
    }

    /// Maildir info `:2,FLAGS`: D draft, F flagged, R replied, S seen, T trashed; and Dovecot's
    /// keyword letters `a` to `z`, as numbers 0 to 25.
    static func info(fromName name: String) -> (MessageFlags, [Int]) {
        guard let info = name.range(of: ":2,") else { return ([], []) }
        var flags: MessageFlags = []
        var keywords: [Int] = []
        for c in name[info.upperBound...].unicodeScalars {
            switch c {
            case "D": flags.insert(.draft)
            case "F": flags.insert(.flagged)
            case "R": flags.insert(.answered)
            case "S": flags.insert(.seen)
            case "T": flags.insert(.deleted)
            case "a"..."z": keywords.append(Int(c.value - UnicodeScalar("a").value))
            default: break
            }
        }
        return (flags, keywords)
    }
}

/// mbox reading, streamed in bounded memory: messages start at `From ` lines; `>From `
/// quoting is undone (mboxrd: one `>` removed from `>+From `); Content-Length is ignored.
enum Mbox {
    static let chunkSize = 1 << 20
    /// What starts a message's separator line, and what `>` quoting protects in the content.
    static let fromPrefix = Array("From ".utf8)

    /// An mbox starts with a `From ` line.
    static func validate(_ path: String) throws {
        guard let handle = FileHandle(forReadingAtPath: path) else { throw UserError("cannot read \(path)") }
        defer { try? handle.close() }
        let head = handle.readData(ofLength: 5)
        guard Array(head) == fromPrefix else {
            throw UserError("\(path) is not an mbox file (it does not start with a From line)")
        }
    }

    /// Calls `add` with each message of the mbox at `path`, unquoted (mboxrd), in file order.
    /// Messages are found by searching for `\nFrom `; only a message with `>From ` in it is
    /// unquoted line by line.
    static func read(_ path: String, _ add: (Import.Item) async throws -> Void) async throws {
        guard let handle = FileHandle(forReadingAtPath: path) else { throw UserError("cannot read \(path)") }
        defer { try? handle.close() }
        // The bytes read and not yet given out; `start` is where the next From line (or, before
        // the first, the next line) begins, `offset` the file offset of `buffer[0]`.
        var buffer: [UInt8] = []
        var start = 0, offset = 0
        var atEnd = false
        func readMore() {
            if start > 0 {
                buffer.removeFirst(start)
                offset += start
                start = 0
            }
            let data = handle.readData(ofLength: chunkSize)
            if data.isEmpty { atEnd = true } else { buffer.append(contentsOf: data) }
        }
        // The first line starting with `From `; anything before it is not a message.
        while !buffer[start...].starts(with: fromPrefix) {
            if let next = find(separator, in: buffer, from: start) {
                start = next + 1
            } else if atEnd {
                return
            } else {
                // Keep the last line, which may be a From line cut short by the read.
                start = max(start, (buffer.lastIndex(of: 10) ?? -1) + 1)
                readMore()
            }
        }
        while true {
            // buffer[start...] starts with a From line; its end, then the next message's start.
            var lineEnd: Int?
            var next: Int?
            var searched = start
            while true {
                lineEnd = lineEnd ?? buffer[start...].firstIndex(of: 10)
                if let lineEnd, let found = find(separator, in: buffer, from: max(searched, lineEnd)) {
                    next = found + 1
                    break
                }
                if atEnd { break }
                let consumedBefore = start
                searched = max(start, buffer.count - separator.count + 1)
                readMore()
                searched -= consumedBefore
                if let e = lineEnd { lineEnd = e - consumedBefore }
            }
            let end = next ?? buffer.count
            let contentStart = min((lineEnd ?? end - 1) + 1, end)
            var message = unquoted(buffer[contentStart..<end])
            // The blank line before the next From line separates messages; it is not content.
            if message.suffix(2).elementsEqual([10, 10]) { message.removeLast() }
            else if message.suffix(4).elementsEqual([13, 10, 13, 10]) { message.removeLast(2) }
            let date = date(fromLine: buffer[start..<contentStart])
            try await add(Import.Item(raw: message, flags: [], date: date, sourceEnd: offset + end))
            guard next != nil else { return }
            start = end
        }
    }

    /// What separates messages: a line starting with `From `.
    private static let separator = Array("\nFrom ".utf8)
    /// What every line that mboxrd quoting changed holds.
    private static let quotedFrom = Array(">From ".utf8)

    /// The offset of the first `needle` in `bytes` at or after `from`.
    private static func find(_ needle: [UInt8], in bytes: [UInt8], from: Int) -> Int? {
        guard from < bytes.count else { return nil }
        return bytes.withUnsafeBufferPointer { b in
            needle.withUnsafeBufferPointer { n in
                cmemmem(b.baseAddress! + from, b.count - from, n.baseAddress!, n.count).map {
                    b.baseAddress!.distance(to: $0.assumingMemoryBound(to: UInt8.self))
                }
            }
        }
    }

    /// A message's content with mboxrd quoting undone: one `>` less on each line that is
    /// `>`s then `From `.
    private static func unquoted(_ content: ArraySlice<UInt8>) -> [UInt8] {
        let bytes = Array(content)
        let quoted = bytes.withUnsafeBufferPointer { RareBytes.contains(quotedFrom, in: $0) }
        guard quoted else { return bytes }
        var out: [UInt8] = []
        out.reserveCapacity(bytes.count)
        var lineStart = 0
        while lineStart < bytes.count {
            let lineEnd = bytes[lineStart...].firstIndex(of: 10).map { $0 + 1 } ?? bytes.count
            let line = bytes[lineStart..<lineEnd]
            if line.first == UInt8(ascii: ">"), let i = line.firstIndex(where: { $0 != UInt8(ascii: ">") }),
               line[i...].starts(with: fromPrefix) {
                out.append(contentsOf: line.dropFirst())
            } else {
                out.append(contentsOf: line)
            }
            lineStart = lineEnd
        }
        return out
    }

    /// The date of a `From sender Www Mmm dd hh:mm:ss yyyy` line, as UTC, or nil.
    static func date(fromLine line: ArraySlice<UInt8>) -> ZonedDate? {
        let parts = line.split(whereSeparator: { $0 == 32 || $0 == 9 || $0 == 13 || $0 == 10 })
        guard parts.count >= 7 else { return nil }
        func number(_ digits: ArraySlice<UInt8>) -> Int? {
            guard !digits.isEmpty, digits.count <= 4, digits.allSatisfy({ $0 &- 48 < 10 }) else { return nil }
            return digits.reduce(0) { $0 * 10 + Int($1 - 48) }
        }
        let time = parts[5].split(separator: UInt8(ascii: ":"), omittingEmptySubsequences: false).compactMap(number)
        guard let month = monthNames.firstIndex(where: { $0.elementsEqual(parts[3].lazy.map { $0 | 0x20 }) }),
              let day = number(parts[4]), (1...31).contains(day), let year = number(parts[6]), time.count == 3,
              time[0] < 24, time[1] < 60, time[2] < 61 else { return nil }
        let days = IMAPDateFormatting.days(from: .init(year: year, month: month + 1, day: day))
        return ZonedDate(seconds: days * 86400 + Int64(time[0] * 3600 + time[1] * 60 + time[2]))
    }

    private static let monthNames = ["jan", "feb", "mar", "apr", "may", "jun", "jul", "aug", "sep", "oct", "nov", "dec"]
        .map { Array($0.utf8) }
}
