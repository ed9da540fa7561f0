import Testing
@testable import MailStore

@Suite struct MailboxTests {
    @Test func createMakesParentsAndRefusesDuplicates() async throws {
        try await withStore { store in
            let (alice, _) = try await makeAlice(store)
            try await store.write { tx in try tx.createMailbox(account: alice.id, name: "a/b/c", specialUse: .sent) }
            let boxes = try store.read { try $0.mailboxes(of: alice.id) }
            #expect(boxes.map(\.name) == ["INBOX", "a", "a/b", "a/b/c"])
            #expect(boxes.last?.specialUse == .sent)
            #expect(Set(boxes.map(\.uidValidity)).count == 4)
            await #expect(throws: MailStoreError.mailboxExists("a/b")) {
                try await store.write { tx in try tx.createMailbox(account: alice.id, name: "a/b") }
            }
            await #expect(throws: MailStoreError.mailboxExists("INBOX")) {
                try await store.write { tx in try tx.createMailbox(account: alice.id, name: "inbox") }
            }
        }
    }

    @Test func invalidNamesAreRefusedAndChangeNothing() async throws {
        try await withStore { store in
            let (alice, _) = try await makeAlice(store)
            let long = String(repeating: "x", count: 1025)
            for bad in ["", "/a", "a/", "a//b", "a\u{1}b", "del\u{7F}", long, "a*", "b%"] {
                await #expect(throws: MailStoreError.self) {
                    try await store.write { tx in try tx.createMailbox(account: alice.id, name: bad) }
                }
            }
            #expect(try store.read { try $0.mailboxes(of: alice.id).count } == 1)
        }
    }

    @Test func inboxIsCaseInsensitiveAndCannotBeDeleted() async throws {
        try await withStore { store in
            let (alice, inbox) = try await makeAlice(store)
            #expect(try store.read { try $0.mailbox(of: alice.id, named: "iNbOx")?.id } == inbox.id)
            try await store.write { tx in try tx.createMailbox(account: alice.id, name: "inbox/Sub") }
            #expect(try store.read { try $0.mailbox(of: alice.id, named: "INBOX/Sub") } != nil)
            await #expect(throws: MailStoreError.cannotDeleteInbox) {
                try await store.write { tx in try tx.deleteMailbox(inbox.id) }
            }
        }
    }

    @Test func deletingAParentLeavesItNoselect() async throws {
        try await withStore { store in
            let (alice, _) = try await makeAlice(store)
            let parent = try await store.write { tx in
                try tx.createMailbox(account: alice.id, name: "p/child")
                let p = try tx.requireMailbox(of: alice.id, named: "p")
                try tx.append(to: p.id, message(1))
                return p
            }
            try await store.write { tx in try tx.deleteMailbox(parent.id) }
            let p = try store.read { try $0.mailbox(parent.id) }
            #expect(p?.isNoSelect == true)
            #expect(p?.messages == 0)
            await #expect(throws: MailStoreError.mailboxNotSelectable("p")) {
                try await store.write { tx in try tx.append(to: parent.id, message(2)) }
            }
            // Recreating it makes it selectable with a new UIDVALIDITY.
            let again = try await store.write { tx in try tx.createMailbox(account: alice.id, name: "p") }
            #expect(again.isNoSelect == false)
            #expect(again.uidValidity != parent.uidValidity)
            // A leaf is removed entirely.
            let child = try store.read { try $0.requireMailbox(of: alice.id, named: "p/child") }
            try await store.write { tx in try tx.deleteMailbox(child.id) }
            #expect(try store.read { try $0.mailbox(child.id) } == nil)
        }
    }

    @Test func renameMovesChildrenAndKeepsUIDValidity() async throws {
        try await withStore { store in
            let (alice, _) = try await makeAlice(store)
            let (a, ab) = try await store.write { tx in
                try tx.createMailbox(account: alice.id, name: "a/b")
                try tx.createMailbox(account: alice.id, name: "ab")
                return (try tx.requireMailbox(of: alice.id, named: "a"), try tx.requireMailbox(of: alice.id, named: "a/b"))
            }
            try await store.write { tx in try tx.renameMailbox(a.id, to: "x/y") }
            let names = try store.read { try $0.mailboxes(of: alice.id).map(\.name) }
            #expect(names == ["INBOX", "ab", "x", "x/y", "x/y/b"])
            #expect(try store.read { try $0.mailbox(ab.id)?.uidValidity } == ab.uidValidity)
            await #expect(throws: MailStoreError.mailboxExists("ab")) {
                try await store.write { tx in try tx.renameMailbox(a.id, to: "ab") }
            }
            await #expect(throws: MailStoreError.self) {
                try await store.write { tx in try tx.renameMailbox(a.id, to: "x/y/b/inside") }
            }
        }
    }

    @Test func renamingInboxMovesItsMessages() async throws {
        try await withStore { store in
            let (alice, inbox) = try await makeAlice(store)
            try await store.write { tx in
                for i in 1...3 { try tx.append(to: inbox.id, message(i)) }
            }
            let old = try await store.write { tx in try tx.renameMailbox(inbox.id, to: "Old") }
            #expect(old.name == "Old")
            #expect(old.messages == 3)
            let newInbox = try store.read { try $0.requireMailbox(of: alice.id, named: "INBOX") }
            #expect(newInbox.id == inbox.id)
            #expect(newInbox.messages == 0)
        }
    }

    @Test func subscriptionsMayNameMissingMailboxes() async throws {
        try await withStore { store in
            let (alice, _) = try await makeAlice(store)
            try await store.write { tx in
                try tx.setSubscribed(account: alice.id, name: "INBOX", true)
                try tx.setSubscribed(account: alice.id, name: "gone/away", true)
                try tx.setSubscribed(account: alice.id, name: "other", true)
                try tx.setSubscribed(account: alice.id, name: "other", false)
            }
            #expect(try store.read { try $0.subscriptions(of: alice.id) } == ["INBOX", "gone/away"])
        }
    }

    @Test(arguments: [
        ("INBOX", "*", true), ("INBOX", "inbox", true), ("a/b/c", "a/*", true), ("a/b/c", "a/%", false),
        ("a/b", "a/%", true), ("a", "%", true), ("a/b", "%", false), ("abc", "a%c", true), ("a/c", "a%c", false),
        ("a/b/c", "*c", true), ("a/b/c", "*/b/*", true), ("x", "", false), ("", "", true), ("Sent", "S*t", true),
        ("INBOX/x", "Inbox/%", true), ("inboxes", "INBOX*", false),
    ])
    func wildcardMatching(name: String, pattern: String, expected: Bool) {
        #expect(MailboxName.matches(name, pattern: pattern) == expected)
    }

    @Test func wildcardMatchingIsNotExponential() {
        let name = String(repeating: "a", count: 200) + "b"
        let pattern = String(repeating: "*a", count: 50) + "c"
        #expect(!MailboxName.matches(name, pattern: pattern))
    }
}
