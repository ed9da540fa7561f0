import Synchronization

/// Bytes of messages that connections hold while they arrive (IMAP APPEND literals, SMTP and LMTP
/// data), over the whole server. Each message is bounded on its own (64 MiB), but many
/// connections each feeding one slowly would hold their sum; past `limit`, a new message is
/// refused with a temporary error instead (`Limits.maxBufferedMessageBytes`).
public final class BufferBudget: Sendable {
    public let limit: Int
    private let used = Atomic<Int>(0)

    public init(limit: Int) { self.limit = limit }

    /// Bytes held now.
    public var inUse: Int { used.load(ordering: .relaxed) }

    /// Takes `bytes`, or nothing and false when that would pass the limit.
    public func take(_ bytes: Int) -> Bool {
        var current = used.load(ordering: .relaxed)
        while current + bytes <= limit {
            let (exchanged, original) = used.compareExchange(expected: current, desired: current + bytes, ordering: .relaxed)
            if exchanged { return true }
            current = original
        }
        return false
    }

    public func give(_ bytes: Int) { used.subtract(bytes, ordering: .relaxed) }
}

/// What one connection holds of a `BufferBudget`, given back when it is released or dropped.
/// Used from the connection's event loop only.
public final class BufferHold: @unchecked Sendable {
    private let budget: BufferBudget
    public private(set) var bytes = 0

    public init(_ budget: BufferBudget) { self.budget = budget }

    /// Holds `count` more bytes; false (holding no more) when the budget is spent.
    public func grow(by count: Int) -> Bool {
        guard budget.take(count) else { return false }
        bytes += count
        return true
    }

    public func release() {
        budget.give(bytes)
        bytes = 0
    }

    deinit { budget.give(bytes) }
}
