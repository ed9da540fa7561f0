import ArgumentParser
import Foundation
import IMAPProtocol
import IMAPSearch
import MailStore

/// `mstore search USER MAILBOX KEY...`: IMAP SEARCH syntax, answered by the store's planner.
struct Search: ParsableCommand {
    static let configuration = CommandConfiguration(
        abstract: "Print the UIDs of the messages that match an IMAP search program.",
        discussion: """
            The keys are IMAP SEARCH keys (RFC 9051 §6.4.4), e.g. `FROM alice SINCE 1-Jan-2026` or \
            `OR SUBJECT report BODY "quarterly budget"`. Quote strings with spaces IMAP-style inside \
            one shell argument. Sequence numbers count the mailbox's messages in UID order.
            """)
    @OptionGroup var store: StoreOptions
    @OptionGroup var output: OutputOptions
    @Argument var user: String
    @Argument var mailbox: String
    @Argument(parsing: .captureForPassthrough, help: "The search keys.") var keys: [String] = []
    @Flag(name: .long, help: "Print on stderr how the planner answered (index or scan, per key).") var plan = false

    struct Result: Encodable { var uids: [UInt32], plan: String }

    func run() throws {
        let program = keys.isEmpty ? "ALL" : keys.joined(separator: " ")
        guard !program.contains("\r"), !program.contains("\n") else { throw UserError("search keys cannot contain line breaks") }
        let key: SearchKey
        switch CommandParser.parse(Array("s SEARCH \(program)".utf8)) {
        case .success(let tagged):
            guard case .search(let command, _) = tagged.command else { throw UserError("not a search program: \(program)") }
            key = command.key
        case .failure(let error):
            throw UserError("bad search program: \(error.message)")
        }
        let s = try store.open()
        let result = try s.read { tx in
            let box = try tx.requireMailbox(of: try tx.requireAccount(named: user).id, named: mailbox)
            let uids = try tx.uids(in: box.id)
            let found = try SearchEvaluator(tx: tx, mailbox: box.id, uids: uids, now: ZonedDate.now().seconds).run(key)
            return Result(uids: found.seqs.map { uids[$0 - 1].rawValue }, plan: found.plan)
        }
        if plan { FileHandle.standardError.write(Data("plan: \(result.plan)\n".utf8)) }
        try output.print(result) { result.uids.map(String.init).joined(separator: "\n") }
    }
}

/// `mstore reindex [USER [MAILBOX]]`: rebuilds full-text indexes from the stored messages.
struct Reindex: AsyncParsableCommand {
    static let configuration = CommandConfiguration(abstract: "Rebuild the full-text index of mailboxes.")
    @OptionGroup var store: StoreOptions
    @Argument(help: "Only this user's mailboxes.") var user: String?
    @Argument(help: "Only this mailbox.") var mailbox: String?

    func run() async throws {
        let s = try store.open()
        let (user, mailbox) = (user, mailbox)
        let targets: [(name: String, id: MailboxID, messages: Int)] = try s.read { tx in
            let accounts = try user.map { [try tx.requireAccount(named: $0)] } ?? tx.accounts()
            return try accounts.flatMap { account in
                let boxes = try mailbox.map { [try tx.requireMailbox(of: account.id, named: $0)] } ?? tx.mailboxes(of: account.id)
                return boxes.map { ("\(account.name)/\($0.name)", $0.id, $0.messages) }
            }
        }
        let bar = ProgressBar(label: "reindex", total: targets.reduce(0) { $0 + $1.messages })
        var done = 0
        for target in targets {
            let before = done
            let indexed = try await s.write { tx in
                try tx.reindex(target.id) { bar.update(before + $0) }
            }
            done += indexed
        }
        bar.finish(done)
        print("reindexed \(done) message\(done == 1 ? "" : "s") in \(targets.count) mailbox\(targets.count == 1 ? "" : "es")")
    }
}
