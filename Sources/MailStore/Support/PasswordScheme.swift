import CCrypt

/// The Dovecot password schemes mstore takes from another system (`mstore user import`,
/// `user add --password-hash`), named as Dovecot's `{SCHEME}` prefix names them.
public enum PasswordScheme: String, CaseIterable, Sendable {
    /// Already the store's own format.
    case argon2id = "ARGON2ID"
    /// bcrypt: `$2y$`, `$2b$` or `$2a$`.
    case blowfishCrypt = "BLF-CRYPT"
    /// SHA-crypt with SHA-512: `$6$`.
    case sha512Crypt = "SHA512-CRYPT"
    /// SHA-crypt with SHA-256: `$5$`.
    case sha256Crypt = "SHA256-CRYPT"
    /// The password in clear; hashed to Argon2id before it is stored.
    case plain = "PLAIN"

    /// The schemes libxcrypt verifies.
    static let cryptSchemes: [PasswordScheme] = [.blowfishCrypt, .sha512Crypt, .sha256Crypt]

    /// `{NAME}`.
    var prefix: String { "{\(rawValue)}" }

    /// The `$id$` prefixes of a crypt string of this scheme.
    var cryptIDs: [String] {
        switch self {
        case .blowfishCrypt: ["$2y$", "$2b$", "$2a$"]
        case .sha512Crypt: ["$6$"]
        case .sha256Crypt: ["$5$"]
        case .argon2id, .plain: []
        }
    }

    /// The length of the checksum after the last `$` (for bcrypt: salt and checksum, 22 + 31).
    private var checksumLength: Int {
        switch self {
        case .blowfishCrypt: 53
        case .sha512Crypt: 86
        case .sha256Crypt: 43
        case .argon2id, .plain: 0
        }
    }

    /// The credentials to store for `text`, a password hash in Dovecot's `{SCHEME}…` form.
    ///
    /// - `{ARGON2ID}` and the crypt schemes are kept as they are, after a check of their shape
    ///   (no hashing: a check per account of a large passwd-file must stay cheap). They have no
    ///   SCRAM-SHA-256 keys until the first successful password check upgrades them
    ///   (`PasswordHasher.upgradedCredentials`).
    /// - `{PLAIN}` is hashed to Argon2id with SCRAM keys, so it is never stored in clear. Slow.
    /// - `{CRYPT}`, and a crypt string with no scheme (Dovecot's default scheme is CRYPT), are
    ///   taken as the crypt scheme their `$id$` names.
    ///
    /// Throws `MailStoreError.invalidPasswordHash` for an unknown scheme or a malformed hash.
    public static func credentials(for text: String, cost: PasswordHasher.Cost = .standard) throws -> Credentials {
        let (scheme, value) = try parse(text)
        if scheme == .plain { return try PasswordHasher.credentials(for: value, cost: cost) }
        return Credentials(passwordHash: scheme.prefix + value, scram: nil)
    }

    /// The scheme of `text`, a hash in `{SCHEME}…` form, after the same checks as
    /// `credentials(for:)` but without hashing: cheap, for checking a whole file first.
    public static func scheme(of text: String) throws -> PasswordScheme { try parse(text).0 }

    /// The scheme and what follows its prefix, checked.
    static func parse(_ text: String) throws -> (PasswordScheme, String) {
        guard text.hasPrefix("{") else {
            guard let scheme = cryptScheme(of: text) else {
                throw MailStoreError.invalidPasswordHash("no {SCHEME} prefix")
            }
            return (scheme, try scheme.checked(text))
        }
        guard let close = text.firstIndex(of: "}") else { throw MailStoreError.invalidPasswordHash("no } after {SCHEME") }
        let name = text[text.index(after: text.startIndex)..<close].uppercased()
        let value = String(text[text.index(after: close)...])
        if name == "CRYPT", let scheme = cryptScheme(of: value) { return (scheme, try scheme.checked(value)) }
        guard let scheme = PasswordScheme(rawValue: name) else {
            let known = allCases.map(\.rawValue).joined(separator: ", ")
            throw MailStoreError.invalidPasswordHash("unknown scheme {\(name)} (known: \(known))")
        }
        return (scheme, try scheme.checked(value))
    }

    private static func cryptScheme(of value: String) -> PasswordScheme? {
        cryptSchemes.first { $0.cryptIDs.contains(where: value.hasPrefix) }
    }

    /// `value` if it has the shape of a hash of this scheme.
    private func checked(_ value: String) throws -> String {
        func malformed(_ why: String) -> MailStoreError { .invalidPasswordHash("malformed \(prefix) hash: \(why)") }
        guard !value.isEmpty else { throw malformed("empty") }
        guard !value.utf8.contains(where: { $0 < 0x20 || $0 == 0x7F }) else { throw malformed("control character") }
        switch self {
        case .plain:
            return value
        case .argon2id:
            // $argon2id$v=19$m=65536,t=3,p=1$salt$hash (the v= part is absent in old hashes).
            let parts = value.split(separator: "$", omittingEmptySubsequences: false)
            let base64 = Set("ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/")
            guard parts.count == 5 || parts.count == 6, parts[0].isEmpty, parts[1] == "argon2id",
                  parts[parts.count - 3].hasPrefix("m="),
                  parts.suffix(2).allSatisfy({ !$0.isEmpty && $0.allSatisfy(base64.contains) })
            else { throw malformed("expected $argon2id$v=19$m=…,t=…,p=…$salt$hash") }
            return value
        case .blowfishCrypt, .sha512Crypt, .sha256Crypt:
            guard cryptIDs.contains(where: value.hasPrefix) else {
                throw malformed("expected it to start with \(cryptIDs.joined(separator: " or "))")
            }
            let checksum = value.split(separator: "$", omittingEmptySubsequences: false).last ?? ""
            let alphabet = Set("./0123456789ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz")
            // crypt_checksalt checks the method, cost and salt; the checksum's length is ours.
            let verdict = crypt_checksalt(value)
            guard verdict == CRYPT_SALT_OK || verdict == CRYPT_SALT_METHOD_LEGACY,
                  checksum.count == checksumLength, checksum.allSatisfy(alphabet.contains)
            else { throw malformed("bad salt, cost or length") }
            return value
        }
    }
}
