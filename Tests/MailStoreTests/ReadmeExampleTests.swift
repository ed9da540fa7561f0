import Foundation
import Testing
import MailStore

// README-EXAMPLE-BEGIN
func readmeExample(directory: String) async throws -> String {
    let store = try MailStore(path: directory)
    defer { store.close() }
    // Hash the password outside the write: it is slow by design.
    let credentials = try PasswordHasher.credentials(for: "secret")
    let message = PreparedMessage(Array("Subject: hello\r\n\r\nHi Alice!\r\n".utf8))
    let (mailbox, uid) = try await store.write { tx in
        let alice = try tx.createAccount(name: "alice@example.org", credentials: credentials)
        let work = try tx.createMailbox(account: alice.id, name: "Work/Projects")
        let record = try tx.append(to: work.id, message, flags: [.seen])
        return (work.id, record.uid)
    }
    // write returned: the message is on disk.
    return try store.read { tx in
        let record = try tx.message(in: mailbox, uid: uid)!
        return String(decoding: try tx.content(record.content), as: UTF8.self)
    }
}
// README-EXAMPLE-END

@Test func readmeExampleRunsAndMatchesTheReadme() async throws {
    let path = temporaryStorePath()
    defer { try? FileManager.default.removeItem(atPath: path) }
    #expect(try await readmeExample(directory: path) == "Subject: hello\r\n\r\nHi Alice!\r\n")

    // The README shows exactly this code.
    let here = URL(fileURLWithPath: #filePath)
    let root = here.deletingLastPathComponent().deletingLastPathComponent().deletingLastPathComponent()
    let source = try String(contentsOf: here, encoding: .utf8)
    let readme = try String(contentsOf: root.appendingPathComponent("README.md"), encoding: .utf8)
    let begin = source.range(of: "// README-EXAMPLE-BEGIN\n")!, end = source.range(of: "// README-EXAMPLE-END")!
    let example = String(source[begin.upperBound..<end.lowerBound])
    #expect(readme.contains(example))
}
