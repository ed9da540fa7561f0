import Foundation
import TestSupport
import Testing
@testable import MailStore

func temporaryStorePath() -> String {
    scratchPath("store")
}

/// A fresh store in a temporary directory, with the consistency check run when `body` ends.
func withStore<T>(_ body: (MailStore) async throws -> T) async throws -> T {
    let path = temporaryStorePath()
    defer { try? FileManager.default.removeItem(atPath: path) }
    var options = MailStore.Options()
    options.feedPollInterval = .milliseconds(50)
    let store = try MailStore(path: path, options: options)
    let result = try await body(store)
    let problems = try store.checkConsistency()
    #expect(problems == [], "consistency: \(problems)")
    store.close()
    return result
}

let testCredentials = try! PasswordHasher.credentials(for: "secret", cost: .fast)

func message(_ n: Int, body: String = "hello", extra: Int = 0) -> PreparedMessage {
    PreparedMessage(Array("Subject: test \(n)\r\nMessage-ID: <\(n)@test>\r\n\r\n\(body)\r\n\(String(repeating: "x", count: extra))".utf8))
}

/// Creates `alice` and returns her account and INBOX.
func makeAlice(_ store: MailStore) async throws -> (Account, Mailbox) {
    try await store.write { tx in
        let a = try tx.createAccount(name: "alice", credentials: testCredentials)
        return (a, try tx.requireMailbox(of: a.id, named: "INBOX"))
    }
}

extension StoreWriter {
    /// The hash index as schema 6 and before kept it, for stores written in an older schema:
    /// every content entered, and no mark.
    func keepHashIndexAsBeforeSchemaSeven() throws {
        try indexContentHashes(newest: try newestContentID(), minimum: 0)
        try w.delete(.meta, Keys.hashIndexedThrough)
    }
}
