import ArgumentParser
import Foundation
import MailStore

/// `mstore check`: verifies every invariant of the store.
struct Check: AsyncParsableCommand {
    static let configuration = CommandConfiguration(abstract: "Verify the store's invariants.")
    @OptionGroup var store: StoreOptions
    @OptionGroup var output: OutputOptions

    func run() async throws {
        let s = try store.open()
        let messages = try s.read { tx in try tx.accounts().reduce(0) { $0 + $1.usedMessages } }
        let bar = ProgressBar(label: "check", total: messages)
        let problems = try s.checkConsistency { bar.update($0) }.map(\.description)
        bar.finish()
        try output.print(problems) { problems.isEmpty ? "store is consistent" : problems.joined(separator: "\n") }
        if !problems.isEmpty { throw ExitCode(1) }
    }
}
