import Foundation
import Testing
@testable import MailStore

/// Hashes made with libxcrypt, one per crypt scheme, and an Argon2id one.
private let sha512 = PasswordHasher.crypt("pw-sha512", setting: "$6$saltsalt")!
private let sha256 = PasswordHasher.crypt("pw-sha256", setting: "$5$rounds=6000$saltsalt")!
private let bcrypt = PasswordHasher.crypt("pw-blf", setting: "$2y$05$abcdefghijklmnopqrstuu")!

@Suite struct PasswordSchemeTests {
    @Test(arguments: [
        ("{SHA512-CRYPT}" + sha512, PasswordScheme.sha512Crypt),
        ("{sha512-crypt}" + sha512, .sha512Crypt),
        ("{CRYPT}" + sha512, .sha512Crypt),
        (sha512, .sha512Crypt),
        ("{SHA256-CRYPT}" + sha256, .sha256Crypt),
        ("{BLF-CRYPT}" + bcrypt, .blowfishCrypt),
        ("{BLF-CRYPT}" + bcrypt.replacingOccurrences(of: "$2y$", with: "$2b$"), .blowfishCrypt),
        ("{ARGON2ID}$argon2id$v=19$m=65536,t=3,p=1$c2FsdHNhbHRzYWx0$aGFzaGhhc2hoYXNoaGFzaA", .argon2id),
        ("{PLAIN}secret", .plain),
    ] as [(String, PasswordScheme)])
    func accepts(_ text: String, _ scheme: PasswordScheme) throws {
        #expect(try PasswordScheme.scheme(of: text) == scheme)
    }

    @Test(arguments: [
        ("{MD5-CRYPT}$1$abc$iCQ2D3nhptRYi27fDYv2s1", "unknown scheme {MD5-CRYPT}"),
        ("secret", "no {SCHEME} prefix"),
        ("{SHA512-CRYPT", "no }"),
        ("{SHA512-CRYPT}" + sha512.dropLast(3), "malformed {SHA512-CRYPT}"),
        ("{SHA512-CRYPT}" + sha256, "malformed {SHA512-CRYPT}"),
        ("{BLF-CRYPT}$2y$05$abcdefghijklmnopqrstuu", "malformed {BLF-CRYPT}"),
        ("{ARGON2ID}$argon2i$v=19$m=65536,t=3,p=1$c2FsdA$aGFzaA", "malformed {ARGON2ID}"),
        ("{PLAIN}", "malformed {PLAIN} hash: empty"),
    ] as [(String, String)])
    func rejects(_ text: String, _ why: String) {
        let error = #expect(throws: MailStoreError.self) { try PasswordScheme.scheme(of: text) }
        #expect(error.map { "\($0)".contains(why) } == true, "\(String(describing: error))")
    }

    @Test func cryptHashesVerifyAndAreUpgradedOnce() async throws {
        for (hash, password) in [("{SHA512-CRYPT}" + sha512, "pw-sha512"), ("{SHA256-CRYPT}" + sha256, "pw-sha256"),
                                 ("{BLF-CRYPT}" + bcrypt, "pw-blf")] {
            #expect(PasswordHasher.verify(password, against: hash), "\(hash)")
            #expect(!PasswordHasher.verify(password + "x", against: hash), "\(hash)")
        }
        try await withStore { store in
            let imported = try PasswordScheme.credentials(for: "{SHA512-CRYPT}" + sha512)
            #expect(imported == Credentials(passwordHash: "{SHA512-CRYPT}" + sha512, scram: nil))
            let account = try await store.write { try $0.createAccount(name: "carol", credentials: imported) }
            #expect(PasswordHasher.needsUpgrade(account))
            let upgrade = try #require(try PasswordHasher.upgradedCredentials(for: account, password: "pw-sha512", cost: .fast))
            #expect(upgrade.passwordHash.hasPrefix("{ARGON2ID}") && upgrade.scram != nil)

            // A password set after the check wins over the upgrade.
            let changed = try PasswordHasher.credentials(for: "changed", cost: .fast)
            try await store.write { try $0.setCredentials(account.id, changed) }
            let kept = try await store.write {
                try $0.upgradeCredentials(account.id, verifiedHash: account.passwordHash, to: upgrade)
            }
            #expect(kept?.passwordHash == changed.passwordHash)

            let upgraded = try await store.write {
                try $0.upgradeCredentials(account.id, verifiedHash: changed.passwordHash, to: upgrade)
            }
            #expect(upgraded?.passwordHash == upgrade.passwordHash)
            #expect(upgraded.map(PasswordHasher.needsUpgrade) == false)
            #expect(try store.authenticate(name: "carol", password: "pw-sha512") != nil)
        }
    }
}

@Suite struct PasswdImportCLITests {
    @Test func importsEverySchemeAndSkipsOrUpdatesExistingUsers() async throws {
        try await withScratch { dir, data in
            try addUser("ann", data)
            let argon = try PasswordHasher.credentials(for: "pw-argon", cost: .fast).passwordHash
            let file = dir + "/passwd"
            try """
                # Dovecot passwd-file

                carol:{SHA512-CRYPT}\(sha512):1000:1000::/home/carol::userdb_quota_rule=*:storage=1G
                dave@example.org:{BLF-CRYPT}\(bcrypt)
                erin:{sha256-crypt}\(sha256)::
                fred:\(argon)
                gina:{PLAIN}pw plain:1001\r
                ann:{PLAIN}new
                hank:{CRYPT}\(sha512)
                """.write(toFile: file, atomically: true, encoding: .utf8)
            let result = try mstore(["user", "import", file, "--data", data])
            #expect(result.status == 0, "\(result.err)")
            #expect(result.out.contains("created user carol\n"))
            #expect(result.out.contains("skipped user ann: it exists (--update replaces its password)\n"))
            #expect(result.out.hasSuffix("imported \(file): 6 created, 0 updated, 1 skipped\n"))

            let passwords = ["carol": "pw-sha512", "dave@example.org": "pw-blf", "erin": "pw-sha256", "fred": "pw-argon",
                             "gina": "pw plain", "ann": "pw", "hank": "pw-sha512"]
            func check(_ passwords: [String: String]) throws {
                let store = try MailStore(path: data)
                defer { store.close() }
                for (name, password) in passwords {
                    #expect(try store.authenticate(name: name, password: password) != nil, "\(name)")
                    #expect(try store.authenticate(name: name, password: password + "x") == nil, "\(name)")
                }
                let accounts = try store.read { try $0.accounts() }
                let byName = Dictionary(uniqueKeysWithValues: accounts.map { ($0.name, $0) })
                #expect(Set(byName.keys) == Set(passwords.keys))
                #expect(byName["carol"]?.passwordHash == "{SHA512-CRYPT}" + sha512)
                #expect(byName["hank"]?.passwordHash == "{SHA512-CRYPT}" + sha512)
                #expect(byName["fred"]?.passwordHash == argon)
                // {PLAIN} is never stored in clear: Argon2id with SCRAM keys.
                #expect(byName["gina"]?.passwordHash.hasPrefix("{ARGON2ID}") == true)
                #expect(byName["gina"]?.scram != nil)
                #expect(byName["carol"]?.scram == nil)
                #expect(try store.checkConsistency() == [])
            }
            try check(passwords)

            var updated = passwords
            updated["ann"] = "new"
            let again = try mstore(["user", "import", file, "--update", "--data", data])
            #expect(again.status == 0, "\(again.err)")
            #expect(again.out.hasSuffix("0 created, 7 updated, 0 skipped\n"))
            try check(updated)
        }
    }

    @Test func refusesBadFilesAndWritesNothing() async throws {
        try await withScratch { dir, data in
            try addUser("ann", data)
            let good = "carol:{SHA512-CRYPT}\(sha512)\n"
            let cases: [(String, String)] = [
                (good + "dave:{MD5-CRYPT}$1$abc$iCQ2D3nhptRYi27fDYv2s1\n", "line 2: invalid password hash: unknown scheme {MD5-CRYPT}"),
                ("# comment\n" + good + "\njustaname\n", "line 4: expected user:{SCHEME}hash"),
                (good + "dave:\n", "line 2: user dave has no password"),
                (good + "dave:{SHA512-CRYPT}\(sha512.dropLast())\n", "line 2: invalid password hash: malformed {SHA512-CRYPT}"),
                (good + "CAROL:{PLAIN}x\n", "line 2: user CAROL is already on line 1"),
                (good + "a b:{PLAIN}x\n", "line 2: invalid user name"),
                (good + "dave:plaintext\n", "line 2: invalid password hash: no {SCHEME} prefix"),
            ]
            for (text, error) in cases {
                try text.write(toFile: dir + "/passwd", atomically: true, encoding: .utf8)
                expectUserError(try mstore(["user", "import", dir + "/passwd", "--data", data]), error)
            }
            expectUserError(try mstore(["user", "import", dir + "/missing", "--data", data]), "cannot read \(dir)/missing")
            try Data([0x63, 0x3A, 0, 0xFF]).write(to: URL(fileURLWithPath: dir + "/binary"))
            expectUserError(try mstore(["user", "import", dir + "/binary", "--data", data]), "is not a text file")
            #expect(try mstore(["user", "import", "--data", data]).status == 2)
            #expect(try mstore(["user", "list", "--data", data]).out == "ann\n")
        }
    }

    @Test func userAddTakesAHash() async throws {
        try await withScratch { _, data in
            let added = try mstore(["user", "add", "carol", "--password-hash", "{BLF-CRYPT}" + bcrypt, "--data", data])
            #expect(added.status == 0, "\(added.err)")
            #expect(added.out == "created user carol\n")
            expectUserError(try mstore(["user", "add", "dave", "--password-hash", "{MD5}x", "--data", data]),
                            "invalid password hash: unknown scheme {MD5}")
            #expect(try mstore(["user", "add", "dave", "--password-hash", "{PLAIN}x", "--password-stdin", "--data", data],
                               input: Array("pw\n".utf8)).status == 2)
            let store = try MailStore(path: data)
            defer { store.close() }
            #expect(try store.authenticate(name: "carol", password: "pw-blf") != nil)
            #expect(try store.read { try $0.accounts().map(\.name) } == ["carol"])
        }
    }
}
