import ArgumentParser
import Foundation
import MailStore

/// `mstore check [--repair]`: verifies every invariant of the store and, with `--repair`,
/// rebuilds what is derived from the messages.
///
/// ```
/// $ mstore check --repair
/// problem: INBOX: counts 3/3/0/312, recomputed 4/4/0/418
/// repaired: INBOX: counts 3/3/0/312 recomputed as 4/4/0/418
/// store is consistent: 1 problem found, 1 repair made
/// ```
struct Check: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        abstract: "Verify the store's invariants; with --repair, rebuild what is derived from the messages.",
        discussion: """
            --repair rebuilds parsed structures, content reference counts, the content hash index, \
            counts, usage, UIDNEXT/HIGHESTMODSEQ, change logs, sort keys and the full-text index, and \
            removes content and index pieces nothing refers to. It never removes a message. Exit \
            status 1 when problems remain.
            """)
    @OptionGroup var store: StoreOptions
    @OptionGroup var output: OutputOptions
    @Flag(name: .long, help: "Rebuild what is derived, then check again.") var repair = false

    struct Report: Encodable { var problems: [String], repairs: [String], remaining: [String] }

    func run() async throws {
        let s = try store.open()
        let messages = try s.read { tx in try tx.accounts().reduce(0) { $0 + $1.usedMessages } }
        let problems = try check(s, label: "check", messages: messages)
        guard repair else {
            try output.print(problems) { problems.isEmpty ? "store is consistent" : problems.joined(separator: "\n") }
            if !problems.isEmpty { throw ExitCode(1) }
            return
        }
        var repairs: [String] = [], remaining: [String] = []
        if !problems.isEmpty {
            let bar = ProgressBar(label: "repair", total: messages)
            repairs = try await s.repair { bar.update($0) }.map(\.description)
            bar.finish()
            remaining = try check(s, label: "recheck", messages: messages)
        }
        let report = Report(problems: problems, repairs: repairs, remaining: remaining)
        try output.print(report) {
            func count(_ n: Int, _ what: String) -> String { "\(n) \(what)\(n == 1 ? "" : "s")" }
            let lines = problems.map { "problem: \($0)" } + repairs.map { "repaired: \($0)" }
                + remaining.map { "remaining: \($0)" }
            let summary = problems.isEmpty ? "store is consistent"
                : "store is \(remaining.isEmpty ? "consistent" : "still inconsistent"): "
                    + "\(count(problems.count, "problem")) found, \(count(repairs.count, "repair")) made"
                    + (remaining.isEmpty ? "" : ", \(count(remaining.count, "problem")) remain")
            return (lines + [summary]).joined(separator: "\n")
        }
        if !remaining.isEmpty { throw ExitCode(1) }
    }

    private func check(_ s: MailStore, label: String, messages: Int) throws -> [String] {
        let bar = ProgressBar(label: label, total: messages)
        let problems = try s.checkConsistency { bar.update($0) }.map(\.description)
        bar.finish()
        return problems
    }
}
