/// A user of the store: a name, credentials, quota limits and current usage.
public struct Account: Sendable, Equatable, Codable {
    public let id: AccountID
    /// The name as given at creation: a bare name (`alice`) or an address (`alice@example.org`).
    public var name: String
    /// The password hash in Dovecot's `{SCHEME}…` form.
    public var passwordHash: String
    /// What SCRAM-SHA-256 needs (RFC 5802 / RFC 7677), derived when the password was set.
    public var scram: ScramCredentials?
    public var quota: Quota
    /// Logical bytes of all messages in all mailboxes.
    public var usedBytes: Int
    /// Messages in all mailboxes.
    public var usedMessages: Int
    /// The next keyword number to hand out.
    var nextKeyword: UInt32

    static let recordVersion: UInt8 = 1

    func encoded() -> [UInt8] {
        var w = ByteWriter(capacity: 256)
        w.u8(Self.recordVersion)
        w.u32(id.rawValue)
        w.string(name)
        w.string(passwordHash)
        if let scram {
            w.u8(1)
            w.blob(scram.salt); w.varint(scram.iterations); w.blob(scram.storedKey); w.blob(scram.serverKey)
        } else {
            w.u8(0)
        }
        w.varint(quota.storageBytes.map { $0 + 1 } ?? 0)
        w.varint(quota.messages.map { $0 + 1 } ?? 0)
        w.varint(usedBytes)
        w.varint(usedMessages)
        w.varint(UInt64(nextKeyword))
        return w.bytes
    }

    init(id: AccountID, name: String, passwordHash: String, scram: ScramCredentials?) {
        self.id = id; self.name = name; self.passwordHash = passwordHash; self.scram = scram
        self.quota = Quota(); self.usedBytes = 0; self.usedMessages = 0; self.nextKeyword = 1
    }

    init(decoding buffer: UnsafeRawBufferPointer) throws {
        var r = ByteReader(buffer)
        guard try r.u8() == Self.recordVersion else { throw MailStoreError.corrupt("account record version") }
        id = AccountID(rawValue: try r.u32())
        name = try r.string()
        passwordHash = try r.string()
        if try r.u8() == 1 {
            scram = ScramCredentials(salt: try r.blob(), iterations: try r.int(), storedKey: try r.blob(),
                                     serverKey: try r.blob())
        }
        let qb = try r.int(), qm = try r.int()
        quota = Quota(storageBytes: qb == 0 ? nil : qb - 1, messages: qm == 0 ? nil : qm - 1)
        usedBytes = try r.int()
        usedMessages = try r.int()
        nextKeyword = UInt32(truncatingIfNeeded: try r.varint())
    }
}

/// Quota limits. nil means unlimited.
public struct Quota: Sendable, Equatable, Codable {
    public var storageBytes: Int?
    public var messages: Int?
    public init(storageBytes: Int? = nil, messages: Int? = nil) {
        self.storageBytes = storageBytes
        self.messages = messages
    }
}

/// SCRAM-SHA-256 server-side keys (RFC 5802 §3): never the password itself.
public struct ScramCredentials: Sendable, Equatable, Codable {
    public var salt: [UInt8]
    public var iterations: Int
    public var storedKey: [UInt8]
    public var serverKey: [UInt8]

    public init(salt: [UInt8], iterations: Int, storedKey: [UInt8], serverKey: [UInt8]) {
        self.salt = salt
        self.iterations = iterations
        self.storedKey = storedKey
        self.serverKey = serverKey
    }
}
