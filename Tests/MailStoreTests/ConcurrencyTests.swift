import Foundation
import TestSupport
import Testing
@testable import MailStore

/// Runs a product of this package with `arguments`, feeding `input`; returns its status and stdout.
@discardableResult
func run(_ product: String, _ arguments: [String], input: [UInt8] = [], environment: [String: String] = [:]) throws -> (Int32, String) {
    let result = try runProcess(productPath(product), arguments, input: input, environment: environment)
    return (result.status, result.out)
}

@Suite struct ConcurrencyTests {
    @Test func concurrentAppendersAndReaders() async throws {
        try await withStore { store in
            let (_, inbox) = try await makeAlice(store)
            let writers = 32, perWriter = 25
            let uids = try await withThrowingTaskGroup(of: [UID].self) { group in
                for w in 0..<writers {
                    group.addTask {
                        var mine: [UID] = []
                        for i in 0..<perWriter {
                            let m = message(w * 1000 + i)
                            mine.append(try await store.write { tx in try tx.append(to: inbox.id, m).uid })
                        }
                        return mine
                    }
                }
                for _ in 0..<8 {
                    group.addTask {
                        // Readers see a consistent snapshot: the count equals the UIDs listed.
                        for _ in 0..<50 {
                            let (count, listed) = try store.read { tx in
                                (try tx.requireMailbox(inbox.id).messages, try tx.uids(in: inbox.id).count)
                            }
                            #expect(count == listed)
                            await Task.yield()
                        }
                        return []
                    }
                }
                var all: [UID] = []
                for try await part in group {
                    #expect(part == part.sorted(), "one writer's UIDs increase")
                    all += part
                }
                return all
            }
            #expect(uids.count == writers * perWriter)
            #expect(Set(uids).count == uids.count)
            let box = try store.read { try $0.requireMailbox(inbox.id) }
            #expect(box.messages == writers * perWriter)
            #expect(box.uidNext == UID(UInt32(writers * perWriter + 1)))
            #expect(try store.read { try $0.uids(in: inbox.id) } == uids.sorted())
        }
    }

    @Test func killedAppenderLosesNothingAcknowledged() async throws {
        for round in 0..<3 {
            let path = temporaryStorePath()
            defer { try? FileManager.default.removeItem(atPath: path) }
            do {
                let store = try MailStore(path: path)
                try await store.write { tx in try tx.createAccount(name: "crash", credentials: testCredentials) }
                store.close()
            }
            let process = Process()
            process.executableURL = URL(fileURLWithPath: productPath("mstore"))
            process.arguments = ["debug-append-loop", "crash", "--data", path]
            let stdout = Pipe()
            process.standardOutput = stdout
            try process.run()
            // Let it run for a random moment, then SIGKILL.
            try await Task.sleep(for: .milliseconds(Int.random(in: 150...600) + round * 50))
            kill(process.processIdentifier, SIGKILL)
            process.waitUntilExit()
            let reported = String(decoding: stdout.fileHandleForReading.readDataToEndOfFile(), as: UTF8.self)
                .split(separator: "\n").compactMap { UInt32($0) }.map { UID($0) }
            let store = try MailStore(path: path)
            let stored = Set(try store.read { tx in try tx.uids(in: try tx.requireMailbox(of: try tx.requireAccount(named: "crash").id, named: "INBOX").id) })
            #expect(!reported.isEmpty, "the appender reported at least one UID")
            #expect(reported.allSatisfy { stored.contains($0) }, "every acknowledged UID survives")
            #expect(try store.checkConsistency() == [])
            store.close()
        }
    }

    @Test func twoProcessesDeliverIntoOneStore() async throws {
        let path = temporaryStorePath()
        defer { try? FileManager.default.removeItem(atPath: path) }
        let store = try MailStore(path: path)
        let account = try await store.write { tx in try tx.createAccount(name: "bob", credentials: testCredentials) }
        let events = store.events(for: account.id)
        let perProcess = 10
        try await withThrowingTaskGroup(of: Void.self) { group in
            for p in 0..<2 {
                group.addTask {
                    for i in 0..<perProcess {
                        let (status, _) = try run("mstore", ["deliver", "bob", "--data", path],
                                                  input: Array("Subject: p\(p) m\(i)\r\n\r\nbody\r\n".utf8))
                        #expect(status == 0)
                    }
                }
            }
            try await group.waitForAll()
        }
        let inbox = try store.read { try $0.requireMailbox(of: account.id, named: "INBOX") }
        #expect(inbox.messages == 2 * perProcess)
        #expect(try store.checkConsistency() == [])
        // The change feed saw the other processes' commits.
        var iterator = events.makeAsyncIterator()
        var last = ModSeq.zero
        while last < inbox.highestModSeq, let event = await iterator.next() {
            if case .mailboxChanged(_, inbox.id, let m) = event { last = m }
        }
        #expect(last == inbox.highestModSeq)
        // Their messages wait outside the text index; appends here bring the mailbox to
        // `deferredMessages` UIDs, and the segment made then reads the others' from their content.
        let own = SearchLimits.deferredMessages - 2 * perProcess
        for i in 0..<own { try await store.write { try $0.append(to: inbox.id, message(i, body: "own")) } }
        let segments = try store.read { try $0.segmentList(inbox.id).map(\.info.messageCount) }
        #expect(segments == [SearchLimits.deferredMessages])
        let found = try store.read { try $0.search(in: inbox.id, .text(.subject, "p1")) }
        #expect(found.uids.count == perProcess && found.contentReads == 0, "\(found.plan)")
        #expect(try store.checkConsistency() == [])
        store.close()
    }
}
