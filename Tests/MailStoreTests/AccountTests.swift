import Testing
@testable import MailStore

@Suite struct AccountTests {
    @Test func createLookUpListDelete() async throws {
        try await withStore { store in
            let (alice, _) = try await makeAlice(store)
            try await store.write { tx in _ = try tx.createAccount(name: "bob@example.org", credentials: testCredentials) }
            let names = try store.read { try $0.accounts().map(\.name) }
            #expect(names == ["alice", "bob@example.org"])
            #expect(try store.read { try $0.account(named: "ALICE")?.id } == alice.id)
            #expect(try store.read { try $0.mailboxes(of: alice.id).map(\.name) } == ["INBOX"])
            try await store.write { tx in try tx.deleteAccount(alice.id) }
            #expect(try store.read { try $0.account(named: "alice") } == nil)
            #expect(try store.read { try $0.mailboxes(of: alice.id) } == [])
        }
    }

    /// Annotations live with their owner: a mailbox or account that goes takes them along,
    /// another account never sees them, and a refused change writes nothing.
    @Test func annotationsAreScopedAndDroppedWithTheirOwner() async throws {
        try await withStore { store in
            let (alice, inbox) = try await makeAlice(store)
            let bob = try await store.write { tx in try tx.createAccount(name: "bob", credentials: testCredentials) }
            let work = try await store.write { tx in
                let work = try tx.createMailbox(account: alice.id, name: "Work")
                try tx.setAnnotations(account: alice.id, mailbox: nil, [("/shared/comment", Array("server".utf8))])
                try tx.setAnnotations(account: alice.id, mailbox: inbox.id, [("/private/a", [1]), ("/private/b", [2])])
                try tx.setAnnotations(account: alice.id, mailbox: work.id, [("/private/a", [3])])
                return work
            }
            #expect(try store.read { try $0.annotations(account: alice.id, mailbox: inbox.id) }
                    == [Annotation(name: "/private/a", value: [1]), Annotation(name: "/private/b", value: [2])])
            #expect(try store.read { try $0.annotations(account: bob.id, mailbox: nil) } == [])
            await #expect(throws: MailStoreError.unknownMailbox("#\(work.id.rawValue)")) {
                try await store.write { tx in try tx.setAnnotations(account: bob.id, mailbox: work.id, [("/private/x", [0])]) }
            }
            await #expect(throws: MailStoreError.annotationTooLarge(max: AnnotationLimits.maxValueBytes)) {
                try await store.write { tx in
                    try tx.setAnnotations(account: alice.id, mailbox: inbox.id,
                                          [("/private/a", nil), ("/private/c", Array(repeating: 0, count: AnnotationLimits.maxValueBytes + 1))])
                }
            }
            #expect(try store.read { try $0.annotations(account: alice.id, mailbox: inbox.id).count } == 2)
            try await store.write { tx in try tx.deleteMailbox(work.id) }
            let recreated = try await store.write { tx in try tx.createMailbox(account: alice.id, name: "Work") }
            #expect(try store.read { try $0.annotations(account: alice.id, mailbox: recreated.id) } == [])
            try await store.write { tx in try tx.deleteAccount(alice.id) }
            #expect(try store.read { try $0.annotations(account: alice.id, mailbox: nil) } == [])
            #expect(try store.read { try $0.annotations(account: alice.id, mailbox: inbox.id) } == [])
        }
    }

    @Test func duplicateAndInvalidNamesAreRefused() async throws {
        try await withStore { store in
            _ = try await makeAlice(store)
            await #expect(throws: MailStoreError.accountExists("Alice")) {
                try await store.write { tx in try tx.createAccount(name: "Alice", credentials: testCredentials) }
            }
            for bad in ["", "a b", "a/b", "@x", "x@", "a@b@c", "tab\t"] {
                await #expect(throws: MailStoreError.invalidAccountName(bad)) {
                    try await store.write { tx in try tx.createAccount(name: bad, credentials: testCredentials) }
                }
            }
            await #expect(throws: MailStoreError.unknownAccount("nobody")) {
                try await store.write { tx in try tx.deleteAccount(try tx.requireAccount(named: "nobody").id) }
            }
        }
    }

    @Test func passwordsVerifyAgainstArgon2idHash() async throws {
        try await withStore { store in
            try await store.createAccount(name: "carol", password: "hunter2", cost: .fast)
            let hash = try store.read { try $0.account(named: "carol")?.passwordHash } ?? ""
            #expect(hash.hasPrefix("{ARGON2ID}$argon2id$v=19$m=256,t=1,p=1$"))
            #expect(try store.authenticate(name: "carol", password: "hunter2") != nil)
            #expect(try store.authenticate(name: "carol", password: "hunter3") == nil)
            #expect(try store.authenticate(name: "nobody", password: "hunter2") == nil)
            #expect(PasswordHasher.verify("x", against: "{PLAIN}x"))
            #expect(!PasswordHasher.verify("x", against: "{UNKNOWN}x"))
        }
    }

    @Test func scramKeysFollowRFC7677() {
        // RFC 7677 §3 example: password "pencil", salt W22ZaJ0SNY7soEsUEjb6gQ==, 4096 iterations.
        let salt: [UInt8] = [0x5b, 0x6d, 0x99, 0x68, 0x9d, 0x12, 0x35, 0x8e, 0xec, 0xa0, 0x4b, 0x14, 0x12, 0x36, 0xfa, 0x81]
        let salted = PasswordHasher.pbkdf2SHA256(password: Array("pencil".utf8), salt: salt, iterations: 4096)
        // The same derivation by Python's hashlib.pbkdf2_hmac('sha256', b'pencil', salt, 4096).
        #expect(salted == [0xc4, 0xa4, 0x95, 0x10, 0x32, 0x3a, 0xb4, 0xf9, 0x52, 0xca, 0xc1, 0xfa, 0x99, 0x44, 0x19, 0x39,
                           0xe7, 0x8e, 0xa7, 0x4d, 0x6b, 0xe8, 0x1d, 0xdf, 0x70, 0x96, 0xe8, 0x75, 0x13, 0xdc, 0x61, 0x5d])
        // A password longer than SHA-256's block, which HMAC hashes first: hashlib again.
        let long = PasswordHasher.pbkdf2SHA256(password: Array(String(repeating: "correct horse battery staple ", count: 3).utf8),
                                               salt: salt, iterations: 4096)
        #expect(long == [0xde, 0x37, 0xf7, 0x90, 0xd6, 0x52, 0xe4, 0xee, 0x70, 0xa6, 0xfa, 0x2b, 0x11, 0x08, 0x56, 0xba,
                         0x25, 0x9b, 0xd3, 0x4f, 0x44, 0xbf, 0xe4, 0x18, 0x3f, 0xe4, 0x85, 0xf2, 0xda, 0xb1, 0x76, 0xb6])
    }

    @Test func quotaIsEnforcedWithATypedError() async throws {
        try await withStore { store in
            let (alice, inbox) = try await makeAlice(store)
            try await store.write { tx in try tx.setQuota(alice.id, Quota(storageBytes: nil, messages: 2)) }
            try await store.write { tx in try tx.append(to: inbox.id, message(1)) }
            try await store.write { tx in try tx.append(to: inbox.id, message(2)) }
            await #expect(throws: MailStoreError.overQuota(.messages)) {
                try await store.write { tx in try tx.append(to: inbox.id, message(3)) }
            }
            await #expect(throws: MailStoreError.overQuota(.messages)) {
                try await store.write { tx in try tx.copy(uids: [UID(1)], from: inbox.id, to: inbox.id) }
            }
            try await store.write { tx in try tx.setQuota(alice.id, Quota(storageBytes: 10, messages: nil)) }
            await #expect(throws: MailStoreError.overQuota(.storage)) {
                try await store.write { tx in try tx.append(to: inbox.id, message(4)) }
            }
            #expect(try store.read { try $0.account(alice.id)?.usedMessages } == 2)
        }
    }
}
