import ArgumentParser
import Foundation
import MailStore

extension UserCommand {
    /// `mstore user import PASSWD-FILE [--update]`: accounts from a Dovecot passwd-file, with
    /// their password hashes kept as they are (no password reset).
    ///
    /// The whole file is checked before anything is written, and every account is written in
    /// one transaction: a file with one bad line changes nothing.
    struct ImportPasswd: AsyncParsableCommand {
        static let configuration = CommandConfiguration(
            commandName: "import",
            abstract: "Create users from a Dovecot passwd-file, keeping their password hashes.",
            discussion: """
                Lines are user:{SCHEME}hash[:uid:gid:gecos:home:shell:extra]; the fields after the \
                password are ignored, as are blank lines and # comments. Schemes: \
                \(PasswordScheme.allCases.map { "{\($0.rawValue)}" }.joined(separator: ", ")) \
                ({PLAIN} is hashed to Argon2id). A user that already exists is skipped, or with \
                --update given the file's password (its mail is kept).
                """)
        @OptionGroup var store: StoreOptions
        @Argument(help: "The passwd-file.") var file: String
        @Flag(name: .long, help: "Replace the password of users that already exist instead of skipping them.")
        var update = false

        enum Outcome: String, Sendable { case created, updated, skipped }

        func run() async throws {
            let entries = try PasswdFile.parse(path: file)
            let s = try store.open()
            let existing = try s.read { tx in try Set(entries.filter { try tx.account(named: $0.name) != nil }.map(\.line)) }
            // Hashing ({PLAIN}) is slow: done before the write, and only for accounts it will touch.
            var plan: [(name: String, credentials: Credentials?)] = []
            for entry in entries {
                let skip = existing.contains(entry.line) && !update
                do {
                    plan.append((entry.name, skip ? nil : try PasswordScheme.credentials(for: entry.password)))
                } catch let error as MailStoreError {
                    throw UserError("\(file) line \(entry.line): \(error)")
                }
            }
            let (changes, update) = (plan, update)
            let outcomes = try await s.write { tx in
                try changes.map { name, credentials -> Outcome in
                    guard let credentials else { return .skipped }
                    guard let account = try tx.account(named: name) else {
                        try tx.createAccount(name: name, credentials: credentials)
                        return .created
                    }
                    // Without --update, an account created since the read above is skipped too.
                    guard update else { return .skipped }
                    try tx.setCredentials(account.id, credentials)
                    return .updated
                }
            }
            for (entry, outcome) in zip(entries, outcomes) {
                print("\(outcome) user \(entry.name)" + (outcome == .skipped ? ": it exists (--update replaces its password)" : ""))
            }
            func count(_ outcome: Outcome) -> Int { outcomes.filter { $0 == outcome }.count }
            print("imported \(file): \(count(.created)) created, \(count(.updated)) updated, \(count(.skipped)) skipped")
        }
    }
}

/// A Dovecot passwd-file: `user:password:uid:gid:gecos:home:shell:extra_fields`, one account a
/// line, with blank lines and `#` comments. Only the first two fields matter here.
enum PasswdFile {
    struct Entry {
        var line: Int
        var name: String
        /// `{SCHEME}hash`, checked for shape but not hashed.
        var password: String
    }

    /// The entries of the file at `path`; a user error naming the line for the first bad one.
    static func parse(path: String) throws -> [Entry] {
        guard let data = FileManager.default.contents(atPath: path) else { throw UserError("cannot read \(path)") }
        guard !data.contains(0), let text = String(data: data, encoding: .utf8) else {
            throw UserError("\(path) is not a text file")
        }
        var entries: [Entry] = []
        var seen: [String: Int] = [:]
        // Lines end in LF or CRLF (one Character in Swift, so not split at "\n").
        for (index, line) in text.split(omittingEmptySubsequences: false, whereSeparator: \.isNewline).enumerated() {
            let number = index + 1
            func bad(_ why: String) -> UserError { UserError("\(path) line \(number): \(why)") }
            let trimmed = line.trimmingCharacters(in: .whitespaces)
            if trimmed.isEmpty || trimmed.hasPrefix("#") { continue }
            let fields = line.split(separator: ":", maxSplits: 2, omittingEmptySubsequences: false)
            guard fields.count >= 2 else { throw bad("expected user:{SCHEME}hash[:…]") }
            let name = String(fields[0]), password = String(fields[1])
            do {
                try StoreWriter.validateAccountName(name)
            } catch {
                throw bad("\(error)")
            }
            guard !password.isEmpty else { throw bad("user \(name) has no password") }
            do {
                _ = try PasswordScheme.scheme(of: password)
            } catch {
                throw bad("\(error)")
            }
            if let first = seen[StoreReader.fold(name)] { throw bad("user \(name) is already on line \(first)") }
            seen[StoreReader.fold(name)] = number
            entries.append(Entry(line: number, name: name, password: password))
        }
        return entries
    }
}
