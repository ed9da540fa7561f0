import ArgumentParser
import Foundation
import MailStore

struct UserCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "user", abstract: "Manage users.",
        subcommands: [Add.self, Delete.self, List.self, Passwd.self, QuotaCommand.self, ImportPasswd.self])

    struct Add: AsyncParsableCommand {
        static let configuration = CommandConfiguration(abstract: "Create a user with an INBOX.")
        @OptionGroup var store: StoreOptions
        @Argument(help: "A bare name (alice) or an address (alice@example.org).") var name: String
        @Flag(name: .long, help: "Read the password from standard input.") var passwordStdin = false
        @Option(name: .long, help: "Read the password from a file.") var passwordFile: String?
        @Option(name: .long, help: ArgumentHelp(
            "Take an existing hash, as in a Dovecot passwd-file.",
            discussion: "{ARGON2ID}, {BLF-CRYPT}, {SHA512-CRYPT}, {SHA256-CRYPT} or {PLAIN} (hashed to Argon2id).",
            valueName: "{SCHEME}hash"))
        var passwordHash: String?

        func validate() throws {
            if passwordHash != nil && (passwordStdin || passwordFile != nil) {
                throw ValidationError("give --password-hash or a password, not both")
            }
        }

        func run() async throws {
            let credentials: Credentials
            if let passwordHash {
                credentials = try PasswordScheme.credentials(for: passwordHash)
            } else {
                credentials = try PasswordHasher.credentials(for: try readPassword(stdin: passwordStdin, file: passwordFile))
            }
            let name = name
            let account = try await store.open().write { try $0.createAccount(name: name, credentials: credentials) }
            print("created user \(account.name)")
        }
    }

    struct Delete: AsyncParsableCommand {
        static let configuration = CommandConfiguration(commandName: "del", abstract: "Delete a user and all their mail.")
        @OptionGroup var store: StoreOptions
        @Argument var name: String

        func run() async throws {
            let s = try store.open()
            let name = name
            try await s.write { tx in try tx.deleteAccount(try tx.requireAccount(named: name).id) }
        }
    }

    struct List: ParsableCommand {
        static let configuration = CommandConfiguration(abstract: "List users.")
        @OptionGroup var store: StoreOptions
        @OptionGroup var output: OutputOptions

        struct Row: Encodable {
            var name: String, messages: Int, bytes: Int, quotaBytes: Int?, quotaMessages: Int?
        }

        func run() throws {
            let rows = try store.open().read { tx in
                try tx.accounts().map {
                    Row(name: $0.name, messages: $0.usedMessages, bytes: $0.usedBytes,
                        quotaBytes: $0.quota.storageBytes, quotaMessages: $0.quota.messages)
                }
            }
            try output.print(rows) { rows.map(\.name).joined(separator: "\n") }
        }
    }

    struct Passwd: AsyncParsableCommand {
        static let configuration = CommandConfiguration(abstract: "Set a user's password.")
        @OptionGroup var store: StoreOptions
        @Argument var name: String
        @Flag(name: .long) var passwordStdin = false
        @Option(name: .long) var passwordFile: String?

        func run() async throws {
            let password = try readPassword(stdin: passwordStdin, file: passwordFile)
            let credentials = try PasswordHasher.credentials(for: password)
            let name = name
            try await store.open().write { tx in
                try tx.setCredentials(try tx.requireAccount(named: name).id, credentials)
            }
        }
    }

    struct QuotaCommand: AsyncParsableCommand {
        static let configuration = CommandConfiguration(
            commandName: "quota", abstract: "Show or set a user's quota (0 means unlimited).")
        @OptionGroup var store: StoreOptions
        @OptionGroup var output: OutputOptions
        @Argument var name: String
        @Option(name: .long, help: "Storage limit in bytes.") var storage: Int?
        @Option(name: .long, help: "Message count limit.") var messages: Int?

        struct Row: Encodable { var name: String, usedBytes: Int, usedMessages: Int, storage: Int?, messages: Int? }

        func validate() throws {
            if let storage, storage < 0 { throw ValidationError("--storage must not be negative") }
            if let messages, messages < 0 { throw ValidationError("--messages must not be negative") }
        }

        func run() async throws {
            let s = try store.open()
            let (name, storage, messages) = (name, storage, messages)
            let account = try await s.write { tx in
                var account = try tx.requireAccount(named: name)
                if storage != nil || messages != nil {
                    var quota = account.quota
                    if let storage { quota.storageBytes = storage == 0 ? nil : storage }
                    if let messages { quota.messages = messages == 0 ? nil : messages }
                    try tx.setQuota(account.id, quota)
                    account.quota = quota
                }
                return account
            }
            let row = Row(name: account.name, usedBytes: account.usedBytes, usedMessages: account.usedMessages,
                          storage: account.quota.storageBytes, messages: account.quota.messages)
            try output.print(row) {
                "storage \(row.usedBytes)/\(row.storage.map(String.init) ?? "unlimited") bytes\n"
                    + "messages \(row.usedMessages)/\(row.messages.map(String.init) ?? "unlimited")"
            }
        }
    }
}
