import ArgumentParser
import Foundation
import MailStore

struct MailboxCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "mailbox", abstract: "Manage a user's mailboxes ('/' separates levels).",
        subcommands: [List.self, Create.self, Delete.self, Rename.self, Status.self])

    /// What `mailbox status` and `mailbox list --json` show.
    struct StatusRow: Encodable {
        var name: String, messages: Int, unseen: Int, uidnext: UInt32, uidvalidity: UInt32
        var highestmodseq: UInt64, size: Int, specialUse: [String], noselect: Bool

        init(_ m: Mailbox) {
            name = m.name; messages = m.messages; unseen = m.unseen; uidnext = m.uidNext.rawValue
            uidvalidity = m.uidValidity; highestmodseq = m.highestModSeq.rawValue; size = m.size
            specialUse = m.specialUse.attributeNames; noselect = m.isNoSelect
        }
    }

    struct List: ParsableCommand {
        static let configuration = CommandConfiguration(abstract: "List a user's mailboxes.")
        @OptionGroup var store: StoreOptions
        @OptionGroup var output: OutputOptions
        @Argument var user: String

        func run() throws {
            let rows = try store.open().read { tx in
                try tx.mailboxes(of: try tx.requireAccount(named: user).id).map(StatusRow.init)
            }
            try output.print(rows) {
                rows.map { ([$0.name] + $0.specialUse + ($0.noselect ? ["\\Noselect"] : [])).joined(separator: " ") }
                    .joined(separator: "\n")
            }
        }
    }

    struct Create: AsyncParsableCommand {
        static let configuration = CommandConfiguration(abstract: "Create a mailbox and any missing parents.")
        @OptionGroup var store: StoreOptions
        @Argument var user: String
        @Argument var name: String
        @Option(name: .long, help: "An RFC 6154 attribute such as '\\Sent'.") var specialUse: [String] = []

        func run() async throws {
            var use = SpecialUse()
            for n in specialUse {
                guard let u = SpecialUse(name: n) else { throw ValidationError("unknown special-use \(n)") }
                use.insert(u)
            }
            let (user, name, special) = (user, name, use)
            try await store.open().write { tx in
                try tx.createMailbox(account: try tx.requireAccount(named: user).id, name: name, specialUse: special)
            }
        }
    }

    struct Delete: AsyncParsableCommand {
        static let configuration = CommandConfiguration(abstract: "Delete a mailbox and its messages.")
        @OptionGroup var store: StoreOptions
        @Argument var user: String
        @Argument var name: String

        func run() async throws {
            let (user, name) = (user, name)
            try await store.open().write { tx in
                let account = try tx.requireAccount(named: user)
                try tx.deleteMailbox(try tx.requireMailbox(of: account.id, named: name).id)
            }
        }
    }

    struct Rename: AsyncParsableCommand {
        static let configuration = CommandConfiguration(abstract: "Rename a mailbox and its children.")
        @OptionGroup var store: StoreOptions
        @Argument var user: String
        @Argument var old: String
        @Argument var new: String

        func run() async throws {
            let (user, old, new) = (user, old, new)
            try await store.open().write { tx in
                let account = try tx.requireAccount(named: user)
                try tx.renameMailbox(try tx.requireMailbox(of: account.id, named: old).id, to: new)
            }
        }
    }

    struct Status: ParsableCommand {
        static let configuration = CommandConfiguration(
            abstract: "Show messages, unseen, uidnext, uidvalidity, highestmodseq and size.")
        @OptionGroup var store: StoreOptions
        @OptionGroup var output: OutputOptions
        @Argument var user: String
        @Argument var name: String

        func run() throws {
            let row = try store.open().read { tx in
                StatusRow(try tx.requireMailbox(of: try tx.requireAccount(named: user).id, named: name))
            }
            try output.print(row) {
                "messages=\(row.messages) unseen=\(row.unseen) uidnext=\(row.uidnext) "
                    + "uidvalidity=\(row.uidvalidity) highestmodseq=\(row.highestmodseq) size=\(row.size)"
            }
        }
    }
}
