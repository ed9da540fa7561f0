import Foundation
import NIOConcurrencyHelpers

extension Duration {
    /// The whole duration in nanoseconds, for NIO's `TimeAmount`.
    public var nanoseconds: Int64 { components.seconds * 1_000_000_000 + components.attoseconds / 1_000_000_000 }
}

/// Slows down password guessing: after a failed login the answer waits, and the wait doubles
/// with each further failure from the same IP address or for the same user name, up to a cap.
public final class AuthThrottle: Sendable {
    /// Failures are forgotten after this long without another.
    public static let memory: Duration = .seconds(900)
    /// Tracked IP addresses and user names at most; the oldest are forgotten first.
    public static let maxEntries = 100_000

    private struct Entry { var failures: Int; var last: ContinuousClock.Instant }
    private let state = NIOLockedValueBox<[String: Entry]>([:])
    private let baseDelay: Duration
    private let maxDelay: Duration

    public init(baseDelay: Duration, maxDelay: Duration) {
        self.baseDelay = baseDelay
        self.maxDelay = maxDelay
    }

    /// How long to wait before answering a failed login, counting this failure.
    public func recordFailure(ip: String, user: String?) -> Duration {
        let now = ContinuousClock.now
        return state.withLockedValue { entries in
            if entries.count >= Self.maxEntries { entries = entries.filter { now - $0.value.last < Self.memory } }
            if entries.count >= Self.maxEntries { entries.removeAll(keepingCapacity: true) }
            var worst = 0
            for key in ["ip:" + ip] + (user.map { ["user:" + $0.lowercased()] } ?? []) {
                var e = entries[key].flatMap { now - $0.last < Self.memory ? $0 : nil } ?? Entry(failures: 0, last: now)
                e.failures += 1
                e.last = now
                entries[key] = e
                worst = max(worst, e.failures)
            }
            let factor = 1 << min(worst - 1, 20)
            return min(maxDelay, baseDelay * factor)
        }
    }

    /// A successful login clears the user's failures (not the IP's).
    public func recordSuccess(user: String) {
        _ = state.withLockedValue { $0.removeValue(forKey: "user:" + user.lowercased()) }
    }
}
