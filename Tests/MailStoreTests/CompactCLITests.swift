import Foundation
import TestSupport
import Testing
@testable import MailStore

@Suite struct CompactCLITests {
    /// Deleting most of a store leaves free pages; compact gives them back and keeps the rest.
    @Test func compactShrinksTheFileAndKeepsTheMessages() async throws {
        try await withScratch { dir, data in
            try addUser("ann", data)
            try writeMbox(dir + "/big.mbox", count: 3000, size: 3000, tag: "big")
            try writeMbox(dir + "/small.mbox", count: 300, size: 3000, tag: "small")
            #expect(try mstore(["import", "ann", dir + "/big.mbox", "--mailbox", "Big", "--data", data]).status == 0)
            #expect(try mstore(["import", "ann", dir + "/small.mbox", "--mailbox", "Small", "--data", data]).status == 0)
            #expect(try mstore(["mailbox", "delete", "ann", "Big", "--data", data]).status == 0)
            let before = try snapshot(data, "ann", "Small")
            let result = try mstore(["compact", "--data", data])
            #expect(result.status == 0, "\(result.err)")
            let sizes = result.out.split(separator: " ").compactMap { Int($0) }
            #expect(result.out.hasPrefix("compacted \(data): ") && sizes.count == 2, "\(result.out)")
            #expect(sizes.count == 2 && sizes[1] < sizes[0], "\(result.out)")
            #expect(sizes.last == MailStore.dataFileSize(at: data))
            #expect(!FileManager.default.fileExists(atPath: MailStore.compactionDirectory(for: data)))
            #expect(sameMessages(try snapshot(data, "ann", "Small"), before))
            #expect(try mstore(["check", "--data", data]).status == 0)
            expectUserError(try mstore(["compact", "--data", dir + "/none"]), "no store in")
        }
    }

    /// Refused with one line while another process, or this one, has the store open; and the
    /// store cannot be opened while a compaction holds it.
    @Test func refusedWhileTheStoreIsOpen() async throws {
        try await withScratch { dir, data in
            try addUser("ann", data)
            do {
                let store = try MailStore(path: data)
                defer { store.close() }
                expectUserError(try mstore(["compact", "--data", data]), "is open in another process")
            }
            do {
                let exclusive = try StoreLock(directory: data, mode: .exclusive)
                #expect(throws: MailStoreError.self) { try MailStore(path: data) }
                expectUserError(try mstore(["user", "list", "--data", data]), "is being compacted")
                withExtendedLifetime(exclusive) {}
            }

            // A running mstored: refused, and allowed once it has stopped.
            let daemon = Process()
            daemon.executableURL = URL(fileURLWithPath: productPath("mstored"))
            daemon.arguments = ["--data", data, "--imap", "127.0.0.1:0", "--pop3", "127.0.0.1:0", "--lmtp", "127.0.0.1:0"]
            let stdout = Pipe()
            daemon.standardOutput = stdout
            daemon.standardError = FileHandle.nullDevice
            try daemon.run()
            let watchdog = killAfter(childTimeout, daemon)
            defer { watchdog.cancel() }
            var text = ""
            while !text.contains("mstored: ready\n") {
                let data = stdout.fileHandleForReading.availableData
                if data.isEmpty { break }
                text += String(decoding: data, as: UTF8.self)
            }
            #expect(text.contains("mstored: ready"), "\(text)")
            expectUserError(try mstore(["compact", "--data", data]), "is open in another process (mstored")
            kill(daemon.processIdentifier, SIGTERM)
            daemon.waitUntilExit()
            #expect(try mstore(["compact", "--data", data]).status == 0)
        }
    }

    /// `kill -9` at some moment of a compaction loses nothing: the store opens, checks clean and
    /// holds every message, and the next compaction clears what the killed one left.
    @Test func killedMidwayLosesNothing() async throws {
        try await withScratch { dir, data in
            try addUser("ann", data)
            try writeMbox(dir + "/in.mbox", count: 4000, size: 5000)
            #expect(try mstore(["import", "ann", dir + "/in.mbox", "--data", data]).status == 0)
            let before = try snapshot(data, "ann", "INBOX")
            for delay in [0, 20, 60] {
                let process = Process()
                process.executableURL = URL(fileURLWithPath: productPath("mstore"))
                process.arguments = ["compact", "--data", data]
                process.standardOutput = FileHandle.nullDevice
                process.standardError = FileHandle.nullDevice
                try process.run()
                let deadline = Date().addingTimeInterval(30)
                while MailStore.compactionProgress(for: data) == 0 && process.isRunning && Date() < deadline {
                    try await Task.sleep(for: .milliseconds(1))
                }
                try await Task.sleep(for: .milliseconds(delay))
                kill(process.processIdentifier, SIGKILL)
                process.waitUntilExit()
                #expect(sameMessages(try snapshot(data, "ann", "INBOX"), before), "killed after \(delay) ms")
                #expect(try mstore(["check", "--data", data]).status == 0)
            }
            #expect(try mstore(["compact", "--data", data]).status == 0)
            #expect(!FileManager.default.fileExists(atPath: MailStore.compactionDirectory(for: data)))
            #expect(sameMessages(try snapshot(data, "ann", "INBOX"), before))
        }
    }
}
