import ArgumentParser
import Foundation
import MailStore

/// `mstore`: maintenance of a mail store, much as `doveadm`.
struct MStore: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "mstore",
        abstract: "Maintain an mstore mail store.",
        subcommands: [UserCommand.self, MailboxCommand.self, Deliver.self, Import.self, Export.self, Fetch.self,
                      Expunge.self, Check.self, Stats.self, Backup.self, Restore.self, Compact.self, QuotaUpkeep.self,
                      AppendLoop.self, Search.self, Reindex.self])
}

/// Options every verb takes.
struct StoreOptions: ParsableArguments {
    @Option(name: .long, help: "The data directory (default: $MSTORE_DATA, else ./mstore-data).")
    var data: String?

    /// Opens the store, saying on stderr when opening it upgraded it from an older schema.
    func open() throws -> MailStore {
        let store = try MailStore(path: MailStore.defaultPath(data: data))
        if let backup = store.upgradeBackup {
            FileHandle.standardError.write(Data(
                "mstore: upgraded the store to schema \(MailStore.schemaVersion); a copy of it as it was is in \(backup)\n".utf8))
        }
        return store
    }
}

/// `--json` for listing verbs.
struct OutputOptions: ParsableArguments {
    @Flag(name: .long, help: "Print JSON.")
    var json = false

    func print<T: Encodable>(_ value: T, text: () -> String) throws {
        if json {
            let encoder = JSONEncoder()
            encoder.outputFormatting = [.prettyPrinted, .sortedKeys]
            Swift.print(String(decoding: try encoder.encode(value), as: UTF8.self))
        } else {
            let t = text()
            if !t.isEmpty { Swift.print(t) }
        }
    }
}

/// A mistake of the user's, reported on one line with exit status 1.
struct UserError: Error, CustomStringConvertible {
    var description: String
    init(_ description: String) { self.description = description }
}

@main
enum Main {
    static func main() async {
        let status: Int32
        do {
            var command = try MStore.parseAsRoot()
            if var async = command as? AsyncParsableCommand {
                try await async.run()
            } else {
                try command.run()
            }
            status = 0
        } catch let error as UserError {
            status = fail(error.description, 1)
        } catch let error as MailStoreError {
            switch error {
            case .storage, .corrupt, .upgradeFailed: status = fail("\(error)", 3)
            default: status = fail("\(error)", 1)
            }
        } catch let error as ExitCode {
            status = error.rawValue
        } catch {
            // ArgumentParser: help requests exit 0, usage mistakes exit 2.
            let code = MStore.exitCode(for: error)
            if code == .success {
                print(MStore.fullMessage(for: error))
                status = 0
            } else if code == .validationFailure || error is ValidationError {
                status = fail(MStore.message(for: error), 2)
            } else {
                status = fail(MStore.message(for: error), 3)
            }
        }
        exit(status)
    }

    static func fail(_ message: String, _ code: Int32) -> Int32 {
        let line = message.split(separator: "\n").first.map(String.init) ?? message
        FileHandle.standardError.write(Data("mstore: \(line)\n".utf8))
        return code
    }
}

/// Reads a password from stdin or a file: the first line, without its line ending.
func readPassword(stdin: Bool, file: String?) throws -> String {
    let data: Data
    if let file {
        guard let d = FileManager.default.contents(atPath: file) else { throw UserError("cannot read \(file)") }
        data = d
    } else if stdin {
        data = FileHandle.standardInput.readDataToEndOfFile()
    } else {
        throw ValidationError("give --password-stdin or --password-file")
    }
    let text = String(decoding: data, as: UTF8.self)
    let line = text.split(omittingEmptySubsequences: false, whereSeparator: { $0 == "\n" || $0 == "\r\n" }).first ?? ""
    guard !line.isEmpty else { throw UserError("empty password") }
    return String(line)
}
