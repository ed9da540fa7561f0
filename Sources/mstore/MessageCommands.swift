import ArgumentParser
import Foundation
import MailStore

/// The largest message `deliver` accepts from standard input.
let maxDeliverySize = 64 << 20

struct Deliver: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        abstract: "Deliver a message from standard input, like an LDA. A missing --mailbox falls back to INBOX.")
    @OptionGroup var store: StoreOptions
    @Argument var user: String
    @Option(name: .long) var mailbox: String?
    @Option(name: .long, help: "The envelope sender, for Return-Path.") var from: String?

    /// Goes through the same delivery path as LMTP and SMTP: trace headers, one durable write.
    func run() async throws {
        let data = FileHandle.standardInput.readDataToEndOfFile()
        guard !data.isEmpty else { throw UserError("empty message on standard input") }
        guard data.count <= maxDeliverySize else { throw UserError("message larger than \(maxDeliverySize) bytes") }
        let trace = TraceHeaders(
            returnPath: from, recipients: [user],
            received: TraceHeaders.Received(heloName: "localhost", remoteIP: "local", host: TraceHeaders.localHostName,
                                            protocolName: "local", id: "\(getpid())"))
        let message = PreparedMessage(trace.bytes() + Array(data))
        let results = try await store.open().deliver(message, to: [DeliveryAddress(user: user, mailbox: mailbox)],
                                                     mode: .perRecipient)
        switch results[0] {
        case .success(let uid): print("delivered uid \(uid)")
        case .failure(.unknownUser): throw MailStoreError.unknownAccount(user)
        case .failure(.overQuota(let resource)): throw MailStoreError.overQuota(resource)
        }
    }
}

struct Fetch: ParsableCommand {
    static let configuration = CommandConfiguration(abstract: "Print a message's raw bytes.")
    @OptionGroup var store: StoreOptions
    @Argument var user: String
    @Argument var mailbox: String
    @Argument var uid: UInt32

    func run() throws {
        let bytes = try store.open().read { tx in
            let account = try tx.requireAccount(named: user)
            let box = try tx.requireMailbox(of: account.id, named: mailbox)
            guard let record = try tx.message(in: box.id, uid: UID(uid)) else {
                throw MailStoreError.unknownMessage(UID(uid))
            }
            return try tx.content(record.content)
        }
        FileHandle.standardOutput.write(Data(bytes))
    }
}

struct Stats: ParsableCommand {
    static let configuration = CommandConfiguration(abstract: "Show store figures.")
    @OptionGroup var store: StoreOptions
    @OptionGroup var output: OutputOptions
    @Option(name: .long, help: "How many of the largest mailboxes to show.") var top = 10
    @Flag(name: .long, help: "Also measure the decoded text the full-text index covers (reads every message).")
    var indexedText = false

    struct MailboxRow: Encodable { var user: String, mailbox: String, messages: Int, bytes: Int }

    struct Row: Encodable {
        var users: Int, mailboxes: Int, messages: Int, logicalBytes: Int, storage: BackendStatistics
        /// Distinct stored contents and their bytes.
        var contents: Int, contentBytes: Int
        /// logicalBytes / contentBytes: above 1 when messages share content (multi-recipient
        /// delivery, COPY); 1 for an empty store.
        var dedupRatio: Double
        /// The largest mailboxes by bytes, largest first.
        var largestMailboxes: [MailboxRow]
        var textIndex: TextIndexStatistics
    }

    func validate() throws {
        if top < 0 { throw ValidationError("--top must not be negative") }
    }

    func run() throws {
        let s = try store.open()
        let (top, indexedText) = (top, indexedText)
        let row = try s.read { tx in
            var mailboxes = 0, messages = 0, bytes = 0
            var all: [MailboxRow] = []
            let accounts = try tx.accounts()
            for a in accounts {
                let boxes = try tx.mailboxes(of: a.id)
                mailboxes += boxes.count
                messages += a.usedMessages
                bytes += a.usedBytes
                all += boxes.map { MailboxRow(user: a.name, mailbox: $0.name, messages: $0.messages, bytes: $0.size) }
            }
            let content = try tx.contentStatistics()
            let largest = all.sorted { ($0.bytes, $1.user, $1.mailbox) > ($1.bytes, $0.user, $0.mailbox) }.prefix(top)
            return Row(users: accounts.count, mailboxes: mailboxes, messages: messages, logicalBytes: bytes,
                       storage: try s.storageStatistics(), contents: content.contents, contentBytes: content.bytes,
                       dedupRatio: content.bytes == 0 ? 1 : Double(bytes) / Double(content.bytes),
                       largestMailboxes: Array(largest), textIndex: try tx.textIndexStatistics(measureText: indexedText))
        }
        try output.print(row) {
            "users=\(row.users) mailboxes=\(row.mailboxes) messages=\(row.messages) logical_bytes=\(row.logicalBytes) "
                + "file_bytes=\(row.storage.fileSize) map_size=\(row.storage.mapSize) readers=\(row.storage.readers) "
                + "contents=\(row.contents) content_bytes=\(row.contentBytes) "
                + "dedup_ratio=\((row.dedupRatio * 100).rounded() / 100) "
                + "text_index_segments=\(row.textIndex.segments) text_index_bytes=\(row.textIndex.bytes)"
                + (row.textIndex.decodedTextBytes.map { text in
                    " indexed_text_bytes=\(text) index_to_text=\(text == 0 ? 0 : (Double(row.textIndex.bytes) / Double(text) * 1000).rounded() / 1000)"
                } ?? "")
        }
    }
}

/// Test support for the crash test: appends numbered messages forever, printing each UID once
/// its append is durable. Hidden from help.
struct AppendLoop: AsyncParsableCommand {
    static let configuration = CommandConfiguration(commandName: "debug-append-loop", shouldDisplay: false)
    @OptionGroup var store: StoreOptions
    @Argument var user: String
    @Option var count: Int = .max

    func run() async throws {
        let s = try store.open()
        let user = user
        let inbox = try s.read { tx in try tx.requireMailbox(of: try tx.requireAccount(named: user).id, named: "INBOX") }
        for i in 0..<count {
            let message = PreparedMessage(Array("Subject: crash \(i)\r\n\r\nbody \(i)\r\n".utf8))
            let uid = try await s.write { tx in try tx.append(to: inbox.id, message).uid }
            FileHandle.standardOutput.write(Data("\(uid)\n".utf8))
        }
    }
}
