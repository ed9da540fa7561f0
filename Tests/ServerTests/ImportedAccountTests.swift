import Foundation
import MailStore
import TestSupport
import Testing

/// Accounts migrated from a Dovecot passwd-file with `mstore user import`: they log in to a
/// running `mstored` with their old passwords, and the first success upgrades them to Argon2id
/// with SCRAM-SHA-256 keys.
@Suite struct ImportedAccountTests {
    func b64(_ s: String) -> String { Data(s.utf8).base64EncodedString() }

    /// `openssl passwd -6`: a SHA512-CRYPT hash made by another implementation than ours.
    func opensslSHA512Crypt(_ password: String) throws -> String {
        let result = try runProcess("/usr/bin/openssl", ["passwd", "-6", "-stdin"], input: Array((password + "\n").utf8))
        return result.out.trimmingCharacters(in: .whitespacesAndNewlines)
    }

    /// Runs an IMAP `AUTHENTICATE SCRAM-SHA-256` exchange; returns the tagged answer.
    func imapScram(_ daemon: Daemon, user: String, password: String) throws -> String {
        let c = try IMAPClient(port: daemon.imap)
        let scram = ScramClient(user: user, password: password)
        c.line.command("s AUTHENTICATE SCRAM-SHA-256 " + b64(scram.clientFirst))
        let challenge = c.line.readLine() ?? ""
        guard challenge.hasPrefix("+ "), let data = Data(base64Encoded: String(challenge.dropFirst(2))) else { return challenge }
        let (clientFinal, serverFinal) = scram.final(serverFirst: String(decoding: data, as: UTF8.self))
        c.line.command(b64(clientFinal))
        let answer = c.line.readLine() ?? ""
        guard answer == "+ " + b64(serverFinal) else { return answer }
        c.line.command("")
        return c.line.readLine() ?? ""
    }

    func stored(_ daemon: Daemon, _ name: String) throws -> Account? {
        try daemon.withStore { store in try store.read { try $0.account(named: name) } }
    }

    @Test func cryptAccountsLogInAndAreUpgradedForSCRAM() async throws {
        let daemon = try await Daemon(users: [])
        defer { daemon.stop() }
        let sha512 = try opensslSHA512Crypt("carol-pw")
        #expect(sha512.hasPrefix("$6$"))
        let bcrypt = try #require(PasswordHasher.crypt("dave-pw", setting: "$2y$05$abcdefghijklmnopqrstuu"))
        let passwd = daemon.directory + "/passwd"
        try """
            # migrated from Dovecot
            carol:{SHA512-CRYPT}\(sha512):1000:1000::/home/carol::
            dave@example.org:{BLF-CRYPT}\(bcrypt)
            erin:{SHA512-CRYPT}\(sha512)
            """.write(toFile: passwd, atomically: true, encoding: .utf8)
        // Into the store the daemon is serving: LMDB is shared between processes.
        let imported = try runProcess(productPath("mstore"), ["user", "import", passwd, "--data", daemon.data])
        #expect(imported.status == 0, "\(imported.err)")
        #expect(try stored(daemon, "carol")?.scram == nil)

        // SCRAM needs keys that no crypt hash yields: it fails cleanly, and the session goes on.
        #expect(try imapScram(daemon, user: "carol", password: "carol-pw").hasPrefix("s NO"))

        // The old passwords work over IMAP LOGIN and POP3 USER/PASS ...
        let imap = try IMAPClient(port: daemon.imap)
        #expect(imap.run("LOGIN carol carol-pw").last?.contains("OK") == true)
        _ = try login(daemon, user: "dave@example.org", password: "dave-pw")
        // ... a wrong one does not, and changes nothing.
        let wrong = try IMAPClient(port: daemon.imap)
        #expect(wrong.run("LOGIN erin wrong").last?.contains("NO") == true)
        #expect(try stored(daemon, "erin")?.passwordHash == "{SHA512-CRYPT}" + sha512)

        // ... and the first success upgraded the account: Argon2id and SCRAM keys.
        for name in ["carol", "dave@example.org"] {
            let account = try #require(try stored(daemon, name))
            #expect(account.passwordHash.hasPrefix("{ARGON2ID}$argon2id$"), "\(name)")
            #expect(account.scram != nil, "\(name)")
        }
        #expect(try imapScram(daemon, user: "carol", password: "carol-pw").hasPrefix("s OK"))
        #expect(try imapScram(daemon, user: "dave@example.org", password: "dave-pw").hasPrefix("s OK"))
        // The upgraded hash still takes the password, over a fresh login.
        #expect(try IMAPClient(port: daemon.imap).run("LOGIN carol carol-pw").last?.contains("OK") == true)
    }
}
