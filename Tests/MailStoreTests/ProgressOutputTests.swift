import Foundation
import TestSupport
import Testing
@testable import MailStore

/// An mbox of `count` generated messages of about `size` bytes each.
func writeMbox(_ path: String, count: Int, size: Int = 1000, tag: String = "upkeep") throws {
    let filler = String(repeating: "x", count: max(0, size - 60))
    var text = ""
    for i in 0..<count {
        text += "From gen@example.org Sat Jan  3 01:05:34 2026\nSubject: \(tag) \(i)\n\nbody \(i)\n\(filler)\n\n"
    }
    try text.write(toFile: path, atomically: true, encoding: .utf8)
}

@Suite struct ProgressOutputTests {
    /// Without a terminal, long work writes no bar: one plain summary line on stderr at the end,
    /// and no control characters anywhere.
    @Test func plainSummaryLineWithoutATerminal() async throws {
        try await withScratch { dir, data in
            try addUser("ann", data)
            try writeMbox(dir + "/in.mbox", count: 300)
            let runs: [(label: String, arguments: [String])] = [
                ("import", ["import", "ann", dir + "/in.mbox"]),
                ("export", ["export", "ann", "INBOX", dir + "/out.mbox"]),
                ("backup", ["backup", dir + "/bk"]),
                ("check", ["check"]),
                ("reindex", ["reindex"]),
                ("compact", ["compact"]),
            ]
            for (label, arguments) in runs {
                let result = try mstore(arguments + ["--data", data])
                #expect(result.status == 0, "\(label): \(result.err)")
                let lines = result.err.split(separator: "\n", omittingEmptySubsequences: false)
                #expect(lines.count == 2 && lines[1].isEmpty, "\(label): \(result.err.debugDescription)")
                #expect(lines.first?.hasPrefix("\(label): ") == true, "\(label): \(result.err.debugDescription)")
                #expect(lines.first.map { $0.contains(" in ") && $0.hasSuffix("/s)") } == true, "\(result.err.debugDescription)")
                let control = (result.out + result.err).unicodeScalars.filter { $0.value < 0x20 && $0 != "\n" || $0.value == 0x7F }
                #expect(control.isEmpty, "\(label): control characters \(control.map(\.value))")
            }
            let imported = try mstore(["import", "ann", dir + "/in.mbox", "--mailbox", "Two", "--data", data])
            #expect(imported.err.hasPrefix("import: 300 messages, "), "\(imported.err)")
        }
    }
}
