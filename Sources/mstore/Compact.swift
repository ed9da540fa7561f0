import ArgumentParser
import Foundation
import MailStore

/// `mstore compact`: gives the store's free pages back to the file system.
///
/// ```
/// $ mstore compact
/// compacted ./mstore-data: 52269056 bytes before, 9043968 after (83% smaller)
/// ```
struct Compact: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        abstract: "Rewrite the store without its free pages: a compacting copy beside it, then an atomic swap.",
        discussion: """
            Refused while mstored, another mstore or any other program has the store open: stop \
            mstored first. Interrupting it is safe: the original stays until the final rename.
            """)
    @OptionGroup var store: StoreOptions

    func run() async throws {
        let path = MailStore.defaultPath(data: store.data)
        let before = MailStore.dataFileSize(at: path)
        guard before > 0 else { throw UserError("no store in \(path)") }
        let bar = ProgressBar(label: "compact", total: before, unit: .bytes)
        let result = try await bar.follow({ MailStore.compactionProgress(for: path) }) { try MailStore.compact(path: path) }
        bar.finish(result.bytesAfter)
        let saved = result.bytesBefore > 0 ? 100 * (result.bytesBefore - result.bytesAfter) / result.bytesBefore : 0
        print("compacted \(path): \(result.bytesBefore) bytes before, \(result.bytesAfter) after (\(saved)% smaller)")
    }
}
