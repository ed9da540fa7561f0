import CArgon2
import CCrypt
import Crypto
import Foundation

/// A password's stored forms: a slow salted hash for verification and SCRAM-SHA-256 keys.
public struct Credentials: Sendable, Equatable {
    /// Dovecot's `{SCHEME}…` form, such as `{ARGON2ID}$argon2id$v=19$m=65536,t=3,p=1$…`.
    public var passwordHash: String
    public var scram: ScramCredentials?

    public init(passwordHash: String, scram: ScramCredentials?) {
        self.passwordHash = passwordHash
        self.scram = scram
    }
}

/// Password hashing: Argon2id (libargon2) in Dovecot's `{ARGON2ID}` format.
public enum PasswordHasher {
    /// Argon2id cost. `standard` takes about 0.2 s and 64 MiB; `fast` is for tests only.
    public struct Cost: Sendable, Equatable {
        public var iterations: UInt32
        public var memoryKiB: UInt32
        public var parallelism: UInt32

        public static let standard = Cost(iterations: 3, memoryKiB: 65536, parallelism: 1)
        public static let fast = Cost(iterations: 1, memoryKiB: 256, parallelism: 1)
    }

    /// SCRAM-SHA-256 iteration count (RFC 7677 recommends at least 4096).
    public static let scramIterations = 4096
    static let saltLength = 16
    static let hashLength = 32

    /// Hashes `password` and derives its SCRAM keys. Slow by design: call it off event loops
    /// and outside store transactions.
    public static func credentials(for password: String, cost: Cost = .standard) throws -> Credentials {
        let pwd = Array(password.utf8)
        let salt = randomBytes(saltLength)
        let encodedLength = argon2_encodedlen(cost.iterations, cost.memoryKiB, cost.parallelism,
                                              UInt32(salt.count), UInt32(hashLength), Argon2_id)
        var encoded = [CChar](repeating: 0, count: encodedLength)
        let rc = argon2id_hash_encoded(cost.iterations, cost.memoryKiB, cost.parallelism, pwd, pwd.count,
                                       salt, salt.count, hashLength, &encoded, encodedLength)
        guard rc == ARGON2_OK.rawValue else {
            throw MailStoreError.storage("argon2 failed with code \(rc)")
        }
        let hash = "{ARGON2ID}" + String(decoding: encoded.prefix { $0 != 0 }.map { UInt8(bitPattern: $0) }, as: UTF8.self)
        return Credentials(passwordHash: hash, scram: scram(for: pwd))
    }

    /// Whether `password` matches `hash`. Supports `{ARGON2ID}`, `{ARGON2I}` and `{PLAIN}`, and
    /// the crypt schemes of accounts imported from Dovecot (`{BLF-CRYPT}`, `{SHA512-CRYPT}`,
    /// `{SHA256-CRYPT}`), which libxcrypt checks.
    public static func verify(_ password: String, against hash: String) -> Bool {
        let pwd = Array(password.utf8)
        for scheme in PasswordScheme.cryptSchemes {
            if let rest = hash.stripping(prefix: scheme.prefix) {
                guard let computed = crypt(password, setting: rest) else { return false }
                return constantTimeEqual(Array(computed.utf8), Array(rest.utf8))
            }
        }
        if let rest = hash.stripping(prefix: "{ARGON2ID}") {
            return argon2id_verify(rest, pwd, pwd.count) == ARGON2_OK.rawValue
        }
        if let rest = hash.stripping(prefix: "{ARGON2I}") {
            return argon2i_verify(rest, pwd, pwd.count) == ARGON2_OK.rawValue
        }
        if let rest = hash.stripping(prefix: "{PLAIN}") {
            return constantTimeEqual(Array(rest.utf8), pwd)
        }
        return false
    }

    /// Whether an account's credentials should be made again once its password is known: its
    /// hash is not Argon2id (a crypt hash imported from Dovecot) or it has no SCRAM-SHA-256 keys,
    /// which cannot be derived from any stored hash. A server calls `upgradedCredentials` after
    /// a successful password check and stores the result with `StoreWriter.upgradeCredentials`.
    public static func needsUpgrade(_ account: Account) -> Bool {
        account.scram == nil || account.passwordHash.stripping(prefix: "{ARGON2ID}") == nil
    }

    /// New credentials (Argon2id and SCRAM keys) for `account` when it `needsUpgrade`, else
    /// nil. `password` must be the one just verified. Slow, like `credentials(for:)`.
    public static func upgradedCredentials(for account: Account, password: String,
                                           cost: Cost = .standard) throws -> Credentials? {
        needsUpgrade(account) ? try credentials(for: password, cost: cost) : nil
    }

    /// libxcrypt's `crypt_rn`: `password` hashed with the method, cost and salt of `setting` (a
    /// whole stored hash will do), or nil when the setting is invalid.
    package static func crypt(_ password: String, setting: String) -> String? {
        guard !password.utf8.contains(0), !setting.utf8.contains(0) else { return nil }
        // struct crypt_data is about 32 KiB: on the heap, zeroed as crypt_rn requires.
        let size = MemoryLayout<crypt_data>.size
        let data = UnsafeMutableRawPointer.allocate(byteCount: size, alignment: MemoryLayout<crypt_data>.alignment)
        defer { data.deallocate() }
        data.initializeMemory(as: UInt8.self, repeating: 0, count: size)
        guard let out = crypt_rn(password, setting, data, Int32(size)) else { return nil }
        return String(cString: out)
    }

    /// SCRAM-SHA-256 server keys (RFC 5802 §3).
    static func scram(for password: [UInt8]) -> ScramCredentials {
        let salt = randomBytes(saltLength)
        let salted = pbkdf2SHA256(password: password, salt: salt, iterations: scramIterations)
        let key = SymmetricKey(data: salted)
        let clientKey = Array(HMAC<SHA256>.authenticationCode(for: Array("Client Key".utf8), using: key))
        let serverKey = Array(HMAC<SHA256>.authenticationCode(for: Array("Server Key".utf8), using: key))
        return ScramCredentials(salt: salt, iterations: scramIterations,
                                storedKey: Array(SHA256.hash(data: clientKey)), serverKey: serverKey)
    }

    /// PBKDF2-HMAC-SHA-256 with one output block (RFC 8018 §5.2), as SCRAM's Hi() (RFC 5802 §2.2).
    /// swift-crypto's PBKDF2 refuses SCRAM's usual iteration counts, so it is spelled out here:
    /// HMAC (RFC 2104 §2) with the key's inner and outer blocks hashed once, each iteration going
    /// on from copies of those two hash states, rather than keying a new HMAC 4,096 times.
    public static func pbkdf2SHA256(password: [UInt8], salt: [UInt8], iterations: Int) -> [UInt8] {
        let blockSize = 64
        var key = password.count > blockSize ? Array(SHA256.hash(data: password)) : password
        key += [UInt8](repeating: 0, count: blockSize - key.count)
        var inner = SHA256(), outer = SHA256()
        key.map { $0 ^ 0x36 }.withUnsafeBytes { inner.update(bufferPointer: $0) }
        key.map { $0 ^ 0x5C }.withUnsafeBytes { outer.update(bufferPointer: $0) }
        func mac(_ message: [UInt8]) -> [UInt8] {
            var i = inner, o = outer
            message.withUnsafeBytes { i.update(bufferPointer: $0) }
            i.finalize().withUnsafeBytes { o.update(bufferPointer: $0) }
            return o.finalize().withUnsafeBytes { Array($0) }
        }
        var u = mac(salt + [0, 0, 0, 1])
        var result = u
        for _ in 1..<max(iterations, 1) {
            u = mac(u)
            for i in 0..<result.count { result[i] ^= u[i] }
        }
        return result
    }

    static func randomBytes(_ n: Int) -> [UInt8] {
        var g = SystemRandomNumberGenerator()
        return (0..<n).map { _ in UInt8.random(in: 0...255, using: &g) }
    }

    static func constantTimeEqual(_ a: [UInt8], _ b: [UInt8]) -> Bool {
        guard a.count == b.count else { return false }
        var diff: UInt8 = 0
        for i in 0..<a.count { diff |= a[i] ^ b[i] }
        return diff == 0
    }
}

extension String {
    func stripping(prefix: String) -> String? {
        guard uppercasedPrefixMatches(prefix) else { return nil }
        return String(dropFirst(prefix.count))
    }

    private func uppercasedPrefixMatches(_ prefix: String) -> Bool {
        guard count >= prefix.count else { return false }
        return self.prefix(prefix.count).uppercased() == prefix.uppercased()
    }
}
