import Crypto
import MailStore
import NIOConcurrencyHelpers

/// Remembers recent successful password checks, so a client that opens many connections
/// (curl opens one per URL, Thunderbird several per account, fetchmail one per poll) pays for
/// Argon2id once per `lifetime` rather than once per connection, as Dovecot's auth cache does.
///
/// An entry holds an HMAC-SHA256 of the password under a key made when the daemon starts, never
/// the password, and counts only while the account's stored hash is the one it was made against:
/// a password change ends it. Failed checks are never cached; they always pay the full cost.
public final class AuthCache: Sendable {
    /// Most accounts remembered; the oldest entry goes first.
    public static let maxEntries = 10_000
    /// How long a successful check is reused.
    public static let lifetime: Duration = .seconds(15 * 60)

    private struct Entry {
        var storedHash: String
        var mac: [UInt8]
        var expires: ContinuousClock.Instant
    }

    /// The HMAC key, as bytes (`SymmetricKey` is not `Sendable`).
    private let key: [UInt8] = SymmetricKey(size: .bits256).withUnsafeBytes { Array($0) }
    private let entries = NIOLockedValueBox([String: Entry]())

    public init() {}

    private func mac(_ password: String) -> [UInt8] {
        Array(HMAC<SHA256>.authenticationCode(for: Array(password.utf8), using: SymmetricKey(data: key)))
    }

    /// Whether `password` was checked for `account` recently, against its current hash.
    public func matches(_ account: Account, password: String) -> Bool {
        let entry = entries.withLockedValue { $0[account.name] }
        guard let entry, entry.storedHash == account.passwordHash, entry.expires > .now else { return false }
        // Compared in constant time, like the hash it stands for.
        let candidate = mac(password)
        return candidate.count == entry.mac.count && zip(candidate, entry.mac).reduce(0) { $0 | ($1.0 ^ $1.1) } == 0
    }

    /// Records a password that just passed the full check.
    public func remember(_ account: Account, password: String) {
        let entry = Entry(storedHash: account.passwordHash, mac: mac(password), expires: .now + Self.lifetime)
        entries.withLockedValue { entries in
            if entries.count >= Self.maxEntries, entries[account.name] == nil,
               let oldest = entries.min(by: { $0.value.expires < $1.value.expires })?.key {
                entries[oldest] = nil
            }
            entries[account.name] = entry
        }
    }
}
