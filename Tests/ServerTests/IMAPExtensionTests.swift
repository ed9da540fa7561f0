import CZlib
import Foundation
import TestSupport
import Testing

/// Transcripts against a real `mstored` for COMPRESS=DEFLATE (RFC 4978), UNAUTHENTICATE
/// (RFC 8437), QUOTA (RFC 9208), APPENDLIMIT (RFC 7889), STATUS=SIZE (RFC 8438),
/// MULTIAPPEND (RFC 3502), METADATA (RFC 5464), LIST-METADATA (RFC 9590) and CATENATE (RFC 4469).
@Suite(.serialized) struct IMAPExtensionTests {
    static let loginCapabilities = ["COMPRESS=DEFLATE", "UNAUTHENTICATE", "QUOTA", "QUOTA=RES-STORAGE",
                                    "QUOTA=RES-MESSAGE", "APPENDLIMIT=67108864", "STATUS=SIZE", "MULTIAPPEND",
                                    "METADATA", "LIST-METADATA"]

    @Test func capabilitiesAfterLoginOnly() async throws {
        let daemon = try await Daemon()
        defer { daemon.stop() }
        let c = try IMAPClient(port: daemon.imap)
        let before = c.run("CAPABILITY")[0].split(separator: " ")
        for cap in Self.loginCapabilities { #expect(!before.contains(Substring(cap)), "\(cap) before login") }
        #expect(tagged(c.run("COMPRESS DEFLATE")).contains("BAD"), "COMPRESS needs authentication")
        c.run("LOGIN alice secret")
        let after = c.run("CAPABILITY")[0].split(separator: " ")
        for cap in Self.loginCapabilities { #expect(after.contains(Substring(cap)), "\(cap) after login") }
    }

    // MARK: COMPRESS=DEFLATE (RFC 4978)

    @Test func compressDeflateBothWays() async throws {
        let daemon = try await Daemon(messages: ["alice": imapSample])
        defer { daemon.stop() }
        let c = try IMAPClient.login(daemon)
        #expect(tagged(c.run("COMPRESS FOO")).contains("BAD"))
        #expect(c.run("COMPRESS DEFLATE") == ["t3 OK DEFLATE active"])
        let z = try DeflateClient(fd: c.line.fd)
        #expect(tagged(z.run("NOOP")).hasSuffix("OK NOOP completed."))
        #expect(tagged(z.run("SELECT INBOX")).contains("OK [READ-WRITE]"))
        let fetch = z.run("FETCH 1:* BODY.PEEK[]")
        #expect(fetch.count == 4)
        for (i, text) in imapSample.enumerated() {
            #expect(fetch[i].hasPrefix("* \(i + 1) FETCH (BODY[] {\(text.utf8.count)}\r\n\(text))"))
        }
        // A large answer, sent in many deflate pieces, and a literal the client sends compressed.
        let big = "Subject: big\r\n\r\n" + String(repeating: "compress me please\r\n", count: 20_000)
        #expect(tagged(z.append("INBOX", big)).contains("OK [APPENDUID"))
        let back = z.run("FETCH 4 BODY.PEEK[]")
        #expect(back.first == "* 4 FETCH (BODY[] {\(big.utf8.count)}\r\n\(big))")
        #expect(z.wireBytes * 50 < z.plainBytes, "repetitive text compresses: \(z.wireBytes) of \(z.plainBytes)")
        // RFC 4978 §3: only one COMPRESS per connection.
        #expect(tagged(z.run("COMPRESS DEFLATE")).contains("NO [COMPRESSIONACTIVE]"))
        // Compression stays on after UNAUTHENTICATE; STARTTLS cannot go over it.
        #expect(tagged(z.run("UNAUTHENTICATE")).contains("OK"))
        #expect(tagged(z.run("STARTTLS")).contains("BAD"))
        #expect(!z.run("CAPABILITY")[0].contains("STARTTLS"), "not offered over compression")
        #expect(tagged(z.run("LOGIN alice secret")).contains("OK"))
        let logout = z.run("LOGOUT")
        #expect(logout.first == "* BYE Logging out.")
        #expect(tagged(logout).contains("OK LOGOUT"))
    }

    /// The sync flush at every channel flush: IDLE's unsolicited EXISTS is not held back in
    /// the compressor.
    @Test func idleOverDeflateIsNotHeldBack() async throws {
        let daemon = try await Daemon(messages: ["alice": imapSample])
        defer { daemon.stop() }
        let c = try IMAPClient.login(daemon)
        #expect(tagged(c.run("COMPRESS DEFLATE")).contains("OK"))
        let z = try DeflateClient(fd: c.line.fd)
        z.run("SELECT INBOX")
        z.send(Array("i1 IDLE\r\n".utf8))
        #expect(z.readLine()?.hasPrefix("+") == true)
        let other = try IMAPClient.login(daemon)
        let start = Date()
        #expect(tagged(other.append("INBOX", "Subject: during idle\r\n\r\nx\r\n")).contains("OK"))
        #expect(z.readLine() == "* 4 EXISTS")
        #expect(z.readLine() == "* 4 RECENT", "IMAP4rev1: the session that selected first holds \\Recent")
        #expect(Date().timeIntervalSince(start) < promptPush)
        z.send(Array("DONE\r\n".utf8))
        #expect(z.readLine() == "i1 OK IDLE terminated.")
    }

    @Test func compressWithPipelinedDataIsRefused() async throws {
        let daemon = try await Daemon()
        defer { daemon.stop() }
        let c = try IMAPClient.login(daemon)
        // The NOOP was written before compression: it must not be read as compressed data.
        c.line.send("z1 COMPRESS DEFLATE\r\nz2 NOOP\r\n")
        #expect(c.line.readLine() == "* BYE Data after COMPRESS.")
        #expect(c.line.isClosed())
    }

    @Test func garbageAfterCompressClosesTheConnection() async throws {
        let daemon = try await Daemon()
        defer { daemon.stop() }
        let c = try IMAPClient.login(daemon)
        #expect(tagged(c.run("COMPRESS DEFLATE")).contains("OK DEFLATE active"))
        c.line.send("t9 NOOP\r\n")  // not deflate data: an invalid block type
        #expect(c.line.isClosed())
        // The daemon goes on serving.
        let other = try IMAPClient.login(daemon)
        #expect(tagged(other.run("NOOP")).contains("OK"))
    }

    /// Bytes on the wire for `FETCH 1:* BODY.PEEK[]` of the notmuch corpus, compressed and not.
    @Test func compressionRatioOnCorpus() async throws {
        let root = "/work/shared/corpus/notmuch-maildir"
        guard let walker = FileManager.default.enumerator(atPath: root) else { return }
        var paths: [String] = []
        while let path = walker.nextObject() as? String {
            if path.contains("/cur/") || path.contains("/new/") { paths.append(path) }
        }
        // In name order, as imap-compress.py appends them: deflate's 32 KiB window makes the
        // ratio depend on which messages sit next to each other.
        let mails = paths.sorted().compactMap { FileManager.default.contents(atPath: root + "/" + $0) }
            .map { String(decoding: $0, as: UTF8.self) }
        guard !mails.isEmpty else { return }
        let daemon = try await Daemon(messages: ["alice": mails])
        defer { daemon.stop() }
        let c = try IMAPClient.login(daemon)
        c.run("SELECT INBOX")
        #expect(tagged(c.run("COMPRESS DEFLATE")).contains("OK"))
        let z = try DeflateClient(fd: c.line.fd)
        z.resetCounters()
        let lines = z.run("FETCH 1:* BODY.PEEK[]")
        #expect(lines.count == mails.count + 1)
        #expect(tagged(lines).contains("OK FETCH"))
        let ratio = Double(z.plainBytes) / Double(z.wireBytes)
        print("COMPRESS=DEFLATE: FETCH 1:* BODY.PEEK[] of \(mails.count) corpus messages: \(z.plainBytes) bytes uncompressed, \(z.wireBytes) on the wire, ratio \(String(format: "%.2f", ratio))")
        #expect(ratio > 2)
    }

    // MARK: UNAUTHENTICATE (RFC 8437)

    @Test func unauthenticateEndsTheSession() async throws {
        let daemon = try await Daemon(users: [("alice", "secret"), ("bob", "pw")], messages: ["alice": imapSample])
        defer { daemon.stop() }
        let c = try IMAPClient.login(daemon)
        c.run("ENABLE IMAP4rev2")
        #expect(tagged(c.run("SELECT INBOX")).contains("OK"))
        let un = c.run("UNAUTHENTICATE")
        #expect(tagged(un).contains("OK [CAPABILITY"))
        #expect(tagged(un).contains("AUTH=PLAIN"), "login mechanisms are offered again")
        let offered = tagged(un).split(separator: "]")[0].split(separator: " ")
        #expect(!offered.contains("UNAUTHENTICATE") && !offered.contains("QUOTA"), "only pre-login capabilities")
        #expect(tagged(c.run("FETCH 1 FLAGS")).contains("BAD"), "no mailbox selected")
        #expect(tagged(c.run("SELECT INBOX")).contains("BAD"), "not authenticated")
        #expect(tagged(c.run("UNAUTHENTICATE")).contains("BAD"))
        // Another user on the same connection sees only their own mail and changes.
        #expect(tagged(c.run("LOGIN bob pw")).contains("OK"))
        let select = c.run("SELECT INBOX")
        #expect(select.contains("* 0 EXISTS"))
        #expect(select.contains(where: { $0.hasSuffix(" RECENT") }), "IMAP4rev2 was forgotten: rev1 RECENT is back")
        let alice = try IMAPClient.login(daemon)
        #expect(tagged(alice.append("INBOX", "Subject: for alice\r\n\r\nx\r\n")).contains("OK"))
        let noop = c.run("NOOP")
        #expect(noop.count == 1 && tagged(noop).hasSuffix("OK NOOP completed."), "alice's change feed has ended: \(noop)")
        #expect(tagged(c.run("LOGOUT")).contains("OK"))
    }

    // MARK: METADATA (RFC 5464) and LIST-METADATA (RFC 9590)

    @Test func metadataSetGetAndRemove() async throws {
        let daemon = try await Daemon()
        defer { daemon.stop() }
        let c = try IMAPClient.login(daemon)
        #expect(tagged(c.run("SETMETADATA INBOX (/private/comment \"hello\" /shared/comment \"for all\")")) == "t2 OK SETMETADATA completed.")
        #expect(c.run("GETMETADATA INBOX (/private/comment /shared/comment /private/none)")
                == ["* METADATA INBOX (/private/comment \"hello\" /shared/comment \"for all\" /private/none NIL)",
                    "t3 OK GETMETADATA completed."])
        // Entry names are compared without case.
        #expect(c.run("GETMETADATA INBOX /PRIVATE/Comment").first == "* METADATA INBOX (/private/comment \"hello\")")
        // The server's own entries: the mailbox "".
        #expect(tagged(c.run("SETMETADATA \"\" (/shared/comment \"server note\")")).contains("OK"))
        #expect(c.run("GETMETADATA \"\" /shared/comment").first == "* METADATA \"\" (/shared/comment \"server note\")")
        #expect(c.run("GETMETADATA INBOX /shared/comment").first == "* METADATA INBOX (/shared/comment \"for all\")")
        // MAXSIZE leaves out longer values and says how long the longest was (§4.2.1).
        #expect(c.run("GETMETADATA (MAXSIZE 3) INBOX (/private/comment /shared/comment)")
                == ["t8 OK [METADATA LONGENTRIES 7] GETMETADATA completed."])
        // NIL removes.
        #expect(tagged(c.run("SETMETADATA INBOX (/private/comment NIL)")).contains("OK"))
        #expect(c.run("GETMETADATA INBOX /private/comment").first == "* METADATA INBOX (/private/comment NIL)")
        // A value with NUL comes back as literal8.
        c.line.sendBytes(Array("b1 SETMETADATA INBOX (/private/bin ~{3+}\r\na\0b)\r\n".utf8))
        #expect(c.read(until: "b1") == ["b1 OK SETMETADATA completed."])
        #expect(c.run("GETMETADATA INBOX /private/bin").first == "* METADATA INBOX (/private/bin ~{3}\r\na\0b)")
        // Errors.
        #expect(tagged(c.run("GETMETADATA Nowhere /private/comment")).contains("NO [NONEXISTENT]"))
        #expect(tagged(c.run("SETMETADATA INBOX (/private \"x\")")).contains("BAD"))
        #expect(tagged(c.run("GETMETADATA INBOX /comment")).contains("BAD"))
    }

    @Test func metadataDepthAndLimits() async throws {
        let daemon = try await Daemon()
        defer { daemon.stop() }
        let c = try IMAPClient.login(daemon)
        #expect(tagged(c.run("SETMETADATA INBOX (/private/vendor/a \"1\" /private/vendor/a/b \"2\" /private/vendor/c \"3\")")).contains("OK"))
        #expect(c.run("GETMETADATA (DEPTH 1) INBOX /private/vendor").first
                == "* METADATA INBOX (/private/vendor/a \"1\" /private/vendor/c \"3\")")
        #expect(c.run("GETMETADATA (DEPTH infinity) INBOX /private/vendor").first
                == "* METADATA INBOX (/private/vendor/a \"1\" /private/vendor/a/b \"2\" /private/vendor/c \"3\")")
        // RFC 5464 §4.3: a value over the limit, or too many entries, changes nothing.
        let big = String(repeating: "x", count: 16 * 1024 + 1)
        c.line.sendBytes(Array("b1 SETMETADATA INBOX (/private/big {\(big.utf8.count)+}\r\n\(big) /private/vendor/a NIL)\r\n".utf8))
        #expect(c.read(until: "b1") == ["b1 NO [METADATA MAXSIZE 16384] Value too long."])
        let many = (0..<257).map { "/private/n/\($0) \"v\"" }.joined(separator: " ")
        #expect(tagged(c.run("SETMETADATA INBOX (\(many))")).contains("NO [METADATA TOOMANY]"))
        #expect(c.run("GETMETADATA (DEPTH infinity) INBOX /private").count == 2, "nothing of either was stored")
    }

    @Test func metadataFollowsRenameAndDeleteAndList() async throws {
        let daemon = try await Daemon()
        defer { daemon.stop() }
        let c = try IMAPClient.login(daemon)
        c.run("CREATE Projects")
        #expect(tagged(c.run("SETMETADATA Projects (/shared/comment \"team\")")).contains("OK"))
        #expect(tagged(c.run("SETMETADATA INBOX (/shared/comment \"mine\")")).contains("OK"))
        #expect(c.run("LIST \"\" * RETURN (METADATA (/shared/comment /private/comment))")
                == ["* LIST (\\HasNoChildren) \"/\" INBOX",
                    "* METADATA INBOX (/shared/comment \"mine\" /private/comment NIL)",
                    "* LIST (\\HasNoChildren) \"/\" Projects",
                    "* METADATA Projects (/shared/comment \"team\" /private/comment NIL)",
                    "t5 OK LIST completed."])
        c.run("RENAME Projects Work")
        #expect(c.run("GETMETADATA Work /shared/comment").first == "* METADATA Work (/shared/comment \"team\")")
        c.run("DELETE Work")
        c.run("CREATE Work")
        #expect(c.run("GETMETADATA Work /shared/comment").first == "* METADATA Work (/shared/comment NIL)")
    }

    // MARK: CATENATE (RFC 4469)

    @Test func catenateBuildsMessagesFromPartsAndURLs() async throws {
        let original = "Subject: report\r\nContent-Type: multipart/mixed; boundary=b\r\n\r\n--b\r\n\r\npart one\r\n--b\r\n\r\npart two\r\n--b--\r\n"
        let daemon = try await Daemon(messages: ["alice": [original]])
        defer { daemon.stop() }
        let c = try IMAPClient.login(daemon)
        c.run("CREATE Drafts")
        let validity = c.run("STATUS INBOX (UIDVALIDITY)").first?.split(separator: " ").last?.dropLast() ?? ""
        // The original's header, new text, then its second part from the selected mailbox.
        c.run("SELECT INBOX")
        let text = "\r\nSee below.\r\n"
        c.line.sendBytes(Array(("b1 APPEND Drafts (\\Draft) CATENATE (URL \"/INBOX;UIDVALIDITY=\(validity)/;UID=1/;SECTION=HEADER\" "
                                + "TEXT {\(text.utf8.count)+}\r\n\(text) URL \";UID=1/;SECTION=2\" "
                                + "URL \"imap://alice@localhost/INBOX/;UID=1/;SECTION=1/;PARTIAL=0.4\")\r\n").utf8))
        let appended = c.read(until: "b1")
        #expect(tagged(appended).hasPrefix("b1 OK [APPENDUID "), "\(appended)")
        c.run("SELECT Drafts")
        let expected = "Subject: report\r\nContent-Type: multipart/mixed; boundary=b\r\n\r\n" + text + "part two" + "part"
        #expect(c.run("FETCH 1 (FLAGS BODY.PEEK[])").first == "* 1 FETCH (FLAGS (\\Draft \\Recent) BODY[] {\(expected.utf8.count)}\r\n\(expected))")
        // A URL that names nothing of this user's: BADURL, and nothing is stored.
        for url in ["/INBOX/;UID=9", "/INBOX;UIDVALIDITY=1/;UID=1", "/Nowhere/;UID=1", "imap://bob@localhost/INBOX/;UID=1",
                    "/INBOX/;UID=1/;SECTION=7", "/INBOX/;UID=1/;URLAUTH=anonymous"] {
            let answer = tagged(c.run("APPEND Drafts CATENATE (URL \"\(url)\")"))
            #expect(answer.contains("NO [BADURL \"\(url)\"]"), "\(url): \(answer)")
        }
        #expect(c.run("STATUS Drafts (MESSAGES)").first == "* STATUS Drafts (MESSAGES 1)")
        // REPLACE takes CATENATE too.
        #expect(tagged(c.run("UID REPLACE 1 Drafts CATENATE (URL \"/INBOX/;UID=1\")")).contains("OK"))
        #expect(c.run("UID FETCH 2 (RFC822.SIZE)").first == "* 1 FETCH (UID 2 RFC822.SIZE \(original.utf8.count))")
    }

    // MARK: QUOTA (RFC 9208)

    @Test func quotaRootsAndLimits() async throws {
        let daemon = try await Daemon(messages: ["alice": imapSample])
        defer { daemon.stop() }
        let c = try IMAPClient.login(daemon)
        // No limits: no quota root.
        let none = c.run("GETQUOTAROOT INBOX")
        #expect(none.dropLast() == ["* QUOTAROOT INBOX"])
        #expect(tagged(none).hasSuffix(" OK GETQUOTAROOT completed."))
        #expect(tagged(c.run("GETQUOTA \"\"")).contains("NO [NONEXISTENT]"))
        try setQuota(daemon, ["--storage", "10240", "--messages", "100"])
        let used = imapSample.reduce(0) { $0 + $1.utf8.count }
        let kib = (used + 1023) / 1024
        let roots = c.run("GETQUOTAROOT INBOX")
        #expect(roots.dropLast() == ["* QUOTAROOT INBOX \"\"", "* QUOTA \"\" (STORAGE \(kib) 10 MESSAGE 3 100)"])
        #expect(tagged(roots).hasSuffix(" OK GETQUOTAROOT completed."))
        let quota = c.run("GETQUOTA \"\"")
        #expect(quota.dropLast() == ["* QUOTA \"\" (STORAGE \(kib) 10 MESSAGE 3 100)"])
        #expect(tagged(quota).hasSuffix(" OK GETQUOTA completed."))
        #expect(tagged(c.run("GETQUOTA user")).contains("NO [NONEXISTENT]"))
        #expect(tagged(c.run("GETQUOTAROOT Nope")).contains("NO [NONEXISTENT]"))
        // Usage follows the store.
        #expect(tagged(c.append("INBOX", "Subject: more\r\n\r\nx\r\n")).contains("OK"))
        #expect(c.run("GETQUOTA \"\"")[0].hasSuffix("MESSAGE 4 100)"))
        // Only the message limit: STORAGE is left out.
        try setQuota(daemon, ["--storage", "0", "--messages", "4"])
        #expect(c.run("GETQUOTA \"\"")[0] == "* QUOTA \"\" (MESSAGE 4 4)")
        #expect(tagged(c.append("INBOX", "Subject: one too many\r\n\r\nx\r\n")).contains("NO [OVERQUOTA]"))
        #expect(tagged(c.run("SETQUOTA \"\" (STORAGE 512)")).contains("NO [NOPERM]"))
    }

    private func setQuota(_ daemon: Daemon, _ arguments: [String]) throws {
        let cli = try runProcess(productPath("mstore"), ["user", "quota", "alice"] + arguments + ["--data", daemon.data])
        #expect(cli.status == 0, "\(cli.err)")
    }

    // MARK: APPENDLIMIT (RFC 7889), STATUS=SIZE (RFC 8438), MULTIAPPEND (RFC 3502)

    @Test func statusSizeAndAppendLimit() async throws {
        let daemon = try await Daemon(messages: ["alice": imapSample])
        defer { daemon.stop() }
        let c = try IMAPClient.login(daemon)
        let used = imapSample.reduce(0) { $0 + $1.utf8.count }
        #expect(c.run("STATUS INBOX (SIZE MESSAGES APPENDLIMIT)")[0]
                    == "* STATUS INBOX (SIZE \(used) MESSAGES 3 APPENDLIMIT 67108864)")
        // A literal over the advertised limit is refused before it is sent.
        #expect(tagged(c.run("APPEND INBOX {67108865}")).contains("NO [TOOBIG]"))
    }

    @Test func multiappendIsAllOrNothing() async throws {
        let daemon = try await Daemon(messages: ["alice": imapSample])
        defer { daemon.stop() }
        let c = try IMAPClient.login(daemon)
        let one = "Subject: one\r\n\r\n1\r\n", two = "Subject: two\r\n\r\n2\r\n"
        // Two messages in one command: one APPENDUID with both UIDs.
        let ok = c.run("APPEND INBOX (\\Seen) {\(one.utf8.count)+}\r\n\(one) {\(two.utf8.count)+}\r\n\(two)")
        #expect(tagged(ok).contains("OK [APPENDUID "))
        #expect(tagged(ok).contains(" 4:5] "))
        // The second message is empty: neither is stored.
        let bad = c.run("APPEND INBOX {\(one.utf8.count)+}\r\n\(one) {0+}\r\n")
        #expect(tagged(bad).contains("NO"))
        #expect(c.run("STATUS INBOX (MESSAGES)")[0] == "* STATUS INBOX (MESSAGES 5)")
        // A missing mailbox: TRYCREATE, nothing stored anywhere.
        let missing = c.run("APPEND Nope {\(one.utf8.count)+}\r\n\(one) {\(two.utf8.count)+}\r\n\(two)")
        #expect(tagged(missing).contains("NO [TRYCREATE]"))
        #expect(c.run("STATUS INBOX (MESSAGES)")[0] == "* STATUS INBOX (MESSAGES 5)")
        c.run("SELECT INBOX")
        let fetched = c.run("FETCH 4:5 (FLAGS BODY.PEEK[])")
        #expect(fetched[0].contains("\\Seen") && fetched[0].contains(one))
        #expect(!fetched[1].contains("\\Seen") && fetched[1].contains(two))
    }
}

/// An IMAP client for after `COMPRESS DEFLATE`: raw deflate (RFC 1951) both ways over the
/// socket of a `LineClient`, counting bytes on the wire and bytes after inflating.
final class DeflateClient {
    let fd: Int32
    private let deflater = UnsafeMutablePointer<z_stream>.allocate(capacity: 1)
    private let inflater = UnsafeMutablePointer<z_stream>.allocate(capacity: 1)
    private var buffer: [UInt8] = []
    private var counter = 100
    /// Compressed bytes received, and what they inflated to.
    private(set) var wireBytes = 0
    private(set) var plainBytes = 0

    init(fd: Int32) throws {
        self.fd = fd
        deflater.initialize(to: z_stream())
        inflater.initialize(to: z_stream())
        guard czlib_deflate_init_raw(deflater, Z_DEFAULT_COMPRESSION) == Z_OK,
              czlib_inflate_init_raw(inflater) == Z_OK else { throw ClientError.connect(0) }
    }

    deinit {
        deflateEnd(deflater)
        inflateEnd(inflater)
        deflater.deallocate()
        inflater.deallocate()
    }

    func resetCounters() { wireBytes = 0; plainBytes = 0 }

    /// Deflates `bytes` with a sync flush, so the server can inflate all of it at once.
    func send(_ bytes: [UInt8]) {
        var input = bytes
        var out = [UInt8](repeating: 0, count: bytes.count + 1024)
        var produced = 0
        input.withUnsafeMutableBufferPointer { inp in
            deflater.pointee.next_in = inp.baseAddress
            deflater.pointee.avail_in = UInt32(inp.count)
            repeat {
                if out.count - produced < 1024 { out += [UInt8](repeating: 0, count: out.count) }
                out.withUnsafeMutableBufferPointer { o in
                    deflater.pointee.next_out = o.baseAddress! + produced
                    deflater.pointee.avail_out = UInt32(o.count - produced)
                    _ = CZlib.deflate(deflater, Z_SYNC_FLUSH)
                    produced = o.count - Int(deflater.pointee.avail_out)
                }
            } while deflater.pointee.avail_out == 0
        }
        var sent = 0
        while sent < produced {
            let n = out[sent..<produced].withUnsafeBytes { Glibc.send(fd, $0.baseAddress, $0.count, Int32(MSG_NOSIGNAL)) }
            if n <= 0 { return }
            sent += n
        }
    }

    /// Receives and inflates more bytes; false at the end of the stream or on a timeout.
    private func receive() -> Bool {
        var chunk = [UInt8](repeating: 0, count: 65536)
        let n = chunk.withUnsafeMutableBytes { recv(fd, $0.baseAddress, $0.count, 0) }
        guard n > 0 else { return false }
        wireBytes += n
        chunk.withUnsafeMutableBufferPointer { inp in
            inflater.pointee.next_in = inp.baseAddress
            inflater.pointee.avail_in = UInt32(n)
            var out = [UInt8](repeating: 0, count: 256 * 1024)
            repeat {
                let made = out.withUnsafeMutableBufferPointer { o -> Int in
                    inflater.pointee.next_out = o.baseAddress
                    inflater.pointee.avail_out = UInt32(o.count)
                    _ = CZlib.inflate(inflater, Z_SYNC_FLUSH)
                    return o.count - Int(inflater.pointee.avail_out)
                }
                buffer += out[..<made]
                plainBytes += made
            } while inflater.pointee.avail_in > 0 || inflater.pointee.avail_out == 0
        }
        return true
    }

    func readLine() -> String? {
        while true {
            if let line = takeLine(&buffer) { return line }
            guard receive() else { return nil }
        }
    }

    func readBytes(_ count: Int) -> [UInt8]? {
        while buffer.count < count { guard receive() else { return nil } }
        let bytes = Array(buffer[..<count])
        buffer.removeFirst(count)
        return bytes
    }

    /// One response line with its literals folded in, as `IMAPClient` does.
    func readResponseLine() -> String? {
        guard var text = readLine() else { return nil }
        while let count = IMAPClient.literalCount(text) {
            guard let bytes = readBytes(count), let rest = readLine() else { return text }
            text += "\r\n" + String(decoding: bytes, as: UTF8.self) + rest
        }
        return text
    }

    @discardableResult
    func run(_ command: String) -> [String] {
        counter += 1
        let tag = "z\(counter)"
        send(Array("\(tag) \(command)\r\n".utf8))
        var lines: [String] = []
        while let l = readResponseLine() {
            lines.append(l)
            if l.hasPrefix(tag + " ") { break }
        }
        return lines
    }

    /// APPEND with a non-synchronizing literal (LITERAL+), compressed like everything else.
    func append(_ mailbox: String, _ message: String) -> [String] {
        run("APPEND \(mailbox) {\(message.utf8.count)+}\r\n\(message)")
    }
}
