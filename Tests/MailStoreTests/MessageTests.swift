import Foundation
import Testing
@testable import MailStore

@Suite struct MessageTests {
    @Test func appendAssignsUIDsAndKeepsCounts() async throws {
        try await withStore { store in
            let (_, inbox) = try await makeAlice(store)
            let date = ZonedDate(seconds: 1_700_000_000, zoneMinutes: -300)
            let r1 = try await store.write { tx in
                try tx.append(to: inbox.id, message(1), flags: [.seen, .flagged], keywords: ["$Forwarded", "work"],
                              internalDate: date)
            }
            let r2 = try await store.write { tx in try tx.append(to: inbox.id, message(2), flags: .deleted) }
            #expect(r1.uid == UID(1))
            #expect(r2.uid == UID(2))
            #expect(r2.modSeq > r1.modSeq)
            let box = try store.read { try $0.requireMailbox(inbox.id) }
            #expect(box.messages == 2)
            #expect(box.unseen == 1)
            #expect(box.deleted == 1)
            #expect(box.uidNext == UID(3))
            #expect(box.highestModSeq == r2.modSeq)
            #expect(box.size == r1.size + r2.size)
            let stored = try store.read { try $0.message(in: inbox.id, uid: UID(1)) }
            #expect(stored?.internalDate == date)
            #expect(stored?.flags == [.seen, .flagged])
            let names = try store.read { tx in
                let names = try tx.keywords(of: inbox.account)
                return stored!.keywords.compactMap { names[$0] }
            }
            #expect(Set(names) == ["$Forwarded", "work"])
            #expect(try store.read { try $0.uids(in: inbox.id) } == [UID(1), UID(2)])
        }
    }

    @Test func contentIsNormalisedToCRLFAndReadableByRange() async throws {
        try await withStore { store in
            let (_, inbox) = try await makeAlice(store)
            let raw = Array("Subject: x\nFrom: a@b\r\n\nline1\rline2\n".utf8)
            let record = try await store.write { tx in try tx.append(to: inbox.id, PreparedMessage(raw)) }
            // Bare LF becomes CRLF; a bare CR is not a line ending and stays as it is.
            let expected = Array("Subject: x\r\nFrom: a@b\r\n\r\nline1\rline2\r\n".utf8)
            #expect(record.size == expected.count)
            #expect(try store.read { try $0.content(record.content) } == expected)
            #expect(try store.read { try $0.content(record.content, range: 2..<9) } == Array(expected[2..<9]))
            #expect(try store.read { try $0.content(record.content, range: 30..<999) } == Array(expected[30...]))
            #expect(try store.read { try $0.content(record.content, range: 999..<1000) } == [])
            // The parsed structure was stored with the content.
            let structure = try store.read { try $0.structure(of: record.content) }
            #expect(structure?.envelope.subject == "x")
            #expect(structure?.size == expected.count)
        }
    }

    @Test(arguments: [0, 1, 1999, 2000, 2001, 4000, 4001, 4079, 4080, 4081, 8175, 65_520, 65_521, 300_000, 1_000_003])
    func largeContentRoundTripsThroughPieces(size: Int) async throws {
        try await withStore { store in
            let (_, inbox) = try await makeAlice(store)
            var bytes = Array("Subject: big\r\n\r\n".utf8)
            var rng = SystemRandomNumberGenerator()
            while bytes.count < size { bytes.append(UInt8.random(in: 0x21...0x7E, using: &rng)) }
            let prepared = PreparedMessage(bytes)
            let record = try await store.write { tx in try tx.append(to: inbox.id, prepared) }
            #expect(try store.read { try $0.content(record.content) } == bytes)
            let mid = bytes.count / 3
            #expect(try store.read { try $0.content(record.content, range: mid..<mid + 5000) }
                == Array(bytes[mid..<min(bytes.count, mid + 5000)]))
            #expect(ContentLayout.pieces(forSize: bytes.count).reduce(0, +) == bytes.count)
        }
    }

    @Test func identicalContentIsStoredOnce() async throws {
        try await withStore { store in
            let (alice, inbox) = try await makeAlice(store)
            let other = try await store.write { tx in try tx.createMailbox(account: alice.id, name: "Other") }
            let a = try await store.write { tx in try tx.append(to: inbox.id, message(7, extra: 10_000)) }
            let b = try await store.write { tx in try tx.append(to: other.id, message(7, extra: 10_000)) }
            #expect(a.content == b.content)
            let pairs = try await store.write { tx in try tx.copy(uids: [a.uid], from: inbox.id, to: other.id) }
            #expect(pairs.count == 1)
            #expect(try store.read { try $0.contentRecord(a.content)?.references } == 3)
            try await store.write { tx in try tx.expunge(in: inbox.id, uids: [a.uid]) }
            try await store.write { tx in try tx.expunge(in: other.id, uids: [UID(1), UID(2)]) }
            #expect(try store.read { try $0.contentRecord(a.content) } == nil)
            #expect(try store.read { try $0.content(a.content) } == [])
        }
    }

    /// New contents enter the hash index in groups of `HashIndex.deferredContents`: a message
    /// whose bytes are stored already is found whether they are in the index or past its mark,
    /// and contents past the mark can be released.
    @Test func identicalContentIsFoundBeforeAndPastTheHashIndexMark() async throws {
        try await withStore { store in
            let (_, inbox) = try await makeAlice(store)
            let group = Int(HashIndex.deferredContents)
            // One short of a group, then the message that completes it: all entered at once.
            let first = try await store.write { tx in try (1..<group).map { try tx.append(to: inbox.id, message($0)) } }
            #expect(try store.read { try $0.hashIndexedThrough() } == 0)
            _ = try await store.write { tx in try tx.append(to: inbox.id, message(group)) }
            let mark = try store.read { try $0.hashIndexedThrough() }
            #expect(mark == first[0].content.rawValue + UInt64(group) - 1)
            // Five more, past the mark, one of them expunged.
            let past = try await store.write { tx in try (1...5).map { try tx.append(to: inbox.id, message(group + $0)) } }
            #expect(past.allSatisfy { $0.content.rawValue > mark })
            try await store.write { tx in try tx.expunge(in: inbox.id, uids: [past[4].uid]) }
            // The same bytes again, from before the mark and from past it, add references.
            let again = try await store.write { tx in
                [try tx.append(to: inbox.id, message(1)), try tx.append(to: inbox.id, message(group + 2))]
            }
            #expect(again[0].content == first[0].content)
            #expect(again[1].content == past[1].content)
            #expect(try store.read { try $0.contentRecord(past[1].content)?.references } == 2)
            // The expunged one's bytes are stored anew.
            let stored = try await store.write { tx in try tx.append(to: inbox.id, message(group + 5)) }
            #expect(stored.content.rawValue > past[4].content.rawValue)
            // And within one change: stored, released, stored again.
            let twice = try await store.write { tx in
                let first = try tx.append(to: inbox.id, message(group + 6))
                try tx.expunge(in: inbox.id, uids: [first.uid])
                return try tx.append(to: inbox.id, message(group + 6))
            }
            #expect(try store.read { try $0.content(twice.content) } == message(group + 6).bytes)
        }
    }

    /// Within one commit, a change that fails after storing new bytes leaves nothing the next
    /// change could mistake for them: the content ID it took is given again, to other bytes.
    @Test func aFailedChangeLeavesNoContentForTheNextChangeOfItsCommit() async throws {
        try await withStore { store in
            let (_, inbox) = try await makeAlice(store)
            _ = try await store.write { tx in try tx.append(to: inbox.id, message(1)) }
            let pending = PendingIndex()
            nonisolated(unsafe) var records: [MessageRecord] = []
            let errors = try store.backend.commitGroup([
                { kv in
                    try pending.change {
                        _ = try StoreWriter(kv: kv, now: .now(), pending: pending).append(to: inbox.id, message(2))
                        throw MailStoreError.storage("fails")
                    }
                },
                { kv in
                    try pending.change {
                        let tx = StoreWriter(kv: kv, now: .now(), pending: pending)
                        records = [try tx.append(to: inbox.id, message(3)), try tx.append(to: inbox.id, message(2))]
                    }
                },
            ], start: { pending.reset() }, end: { kv in try StoreWriter(kv: kv, now: .now(), pending: pending).flushIndex() })
            #expect(errors[0] != nil && errors[1] == nil)
            #expect(records[0].content != records[1].content)
            #expect(try store.read { try $0.content(records[1].content) } == message(2).bytes)
        }
    }

    @Test func copyAndMoveKeepFlagsDatesAndEmailID() async throws {
        try await withStore { store in
            let (alice, inbox) = try await makeAlice(store)
            let target = try await store.write { tx in try tx.createMailbox(account: alice.id, name: "Archive") }
            let originals = try await store.write { tx in
                try (1...3).map { try tx.append(to: inbox.id, message($0), flags: .flagged, keywords: ["k\($0)"]) }
            }
            let copied = try await store.write { tx in try tx.copy(uids: [UID(3), UID(1), UID(99)], from: inbox.id, to: target.id) }
            #expect(copied.map(\.0) == [UID(1), UID(3)])
            #expect(copied.map(\.1) == [UID(1), UID(2)])
            let copy = try store.read { try $0.message(in: target.id, uid: UID(2)) }
            #expect(copy?.flags == .flagged)
            #expect(copy?.keywords == originals[2].keywords)
            #expect(copy?.emailID == originals[2].emailID)
            #expect(copy?.internalDate == originals[2].internalDate)
            let moved = try await store.write { tx in try tx.move(uids: [UID(2)], from: inbox.id, to: target.id) }
            #expect(moved.map(\.1) == [UID(3)])
            #expect(try store.read { try $0.uids(in: inbox.id) } == [UID(1), UID(3)])
            #expect(try store.read { try $0.mailbox(target.id)?.messages } == 3)
            #expect(try store.read { try $0.account(alice.id)?.usedMessages } == 5)
        }
    }

    @Test func storeFlagsWithUnchangedSince() async throws {
        try await withStore { store in
            let (_, inbox) = try await makeAlice(store)
            try await store.write { tx in for i in 1...3 { try tx.append(to: inbox.id, message(i)) } }
            let base = try store.read { try $0.requireMailbox(inbox.id).highestModSeq }
            let r1 = try await store.write { tx in
                try tx.store(in: inbox.id, uids: [UID(1), UID(2)], FlagChange(.add, flags: .seen, keywords: ["todo"]))
            }
            #expect(r1.updated.map(\.uid) == [UID(1), UID(2)])
            #expect(Set(r1.updated.map(\.modSeq)).count == 1)
            #expect(try store.read { try $0.requireMailbox(inbox.id).unseen } == 1)
            // A no-op change takes no modseq.
            let noop = try await store.write { tx in try tx.store(in: inbox.id, uids: [UID(1)], FlagChange(.add, flags: .seen)) }
            #expect(noop.updated.isEmpty)
            // UNCHANGEDSINCE: messages 1 and 2 changed after `base`, 3 did not.
            let r2 = try await store.write { tx in
                try tx.store(in: inbox.id, uids: [UID(1), UID(2), UID(3)], FlagChange(.replace, flags: .deleted), unchangedSince: base)
            }
            #expect(r2.modified == [UID(1), UID(2)])
            #expect(r2.updated.map(\.uid) == [UID(3)])
            let r3 = try await store.write { tx in
                try tx.store(in: inbox.id, uids: [UID(1)], FlagChange(.remove, flags: .seen, keywords: ["todo", "never-defined"]))
            }
            #expect(r3.updated.first?.flags == [])
            #expect(r3.updated.first?.keywords == [])
            await #expect(throws: MailStoreError.invalidKeyword("bad keyword")) {
                try await store.write { tx in try tx.store(in: inbox.id, uids: [UID(1)], FlagChange(.add, flags: [], keywords: ["bad keyword"])) }
            }
        }
    }

    @Test func expungeAndChangeLog() async throws {
        try await withStore { store in
            let (_, inbox) = try await makeAlice(store)
            try await store.write { tx in for i in 1...5 { try tx.append(to: inbox.id, message(i)) } }
            let mark = try store.read { try $0.requireMailbox(inbox.id).highestModSeq }
            try await store.write { tx in
                try tx.store(in: inbox.id, uids: [UID(2), UID(4)], FlagChange(.add, flags: .deleted))
            }
            try await store.write { tx in try tx.store(in: inbox.id, uids: [UID(5)], FlagChange(.add, flags: .seen)) }
            let expunged = try await store.write { tx in try tx.expungeDeleted(in: inbox.id) }
            #expect(expunged == [UID(2), UID(4)])
            let changes = try store.read { try $0.changes(in: inbox.id, since: mark) }
            #expect(changes.map(\.uid) == [UID(5), UID(2), UID(4)])
            #expect(changes.map(\.kind) == [.updated, .expunged, .expunged])
            #expect(try store.read { try $0.changes(in: inbox.id, since: ModSeq(0)) }.filter { $0.kind == .updated }.count == 3)
            let box = try store.read { try $0.requireMailbox(inbox.id) }
            #expect(box.messages == 3)
            #expect(box.deleted == 0)
            #expect(try store.read { try $0.changes(in: inbox.id, since: box.highestModSeq) } == [])
        }
    }

    @Test func failingWriteChangesNothing() async throws {
        try await withStore { store in
            let (_, inbox) = try await makeAlice(store)
            await #expect(throws: MailStoreError.unknownMailbox("nope")) {
                try await store.write { tx in
                    try tx.append(to: inbox.id, message(1))
                    _ = try tx.requireMailbox(of: inbox.account, named: "nope")
                }
            }
            #expect(try store.read { try $0.requireMailbox(inbox.id).messages } == 0)
        }
    }

    @Test func changeFeedSeesThisProcessCommits() async throws {
        try await withStore { store in
            let (alice, inbox) = try await makeAlice(store)
            let stream = store.events(for: alice.id)
            let record = try await store.write { tx in try tx.append(to: inbox.id, message(1)) }
            var iterator = stream.makeAsyncIterator()
            let event = await iterator.next()
            #expect(event == .mailboxChanged(account: alice.id, mailbox: inbox.id, modSeq: record.modSeq))
        }
    }
}
