import Synchronization

/// Bytes of messages that connections hold while they arrive (IMAP APPEND literals, SMTP and LMTP
/// data), over the whole server and per client address. Each message is bounded on its own
/// (64 MiB), but many connections each feeding one slowly would hold their sum; past `limit`, or
/// past `perAddressLimit` for one address (so that one client cannot take the whole budget from
/// the others), a new message is refused with a temporary error instead
/// (`Limits.maxBufferedMessageBytes`, `Limits.maxBufferedMessageBytesPerIP`).
public final class BufferBudget: Sendable {
    let limit: Int
    let perAddressLimit: Int
    private let held = Mutex<(total: Int, byAddress: [String: Int])>((0, [:]))

    public init(limit: Int, perAddressLimit: Int) {
        self.limit = limit
        self.perAddressLimit = perAddressLimit
    }

    /// Takes `bytes` for `address`, or nothing and false when that would pass a limit.
    public func take(_ bytes: Int, for address: String) -> Bool {
        held.withLock { held in
            let mine = held.byAddress[address, default: 0]
            guard held.total + bytes <= limit, mine + bytes <= perAddressLimit else { return false }
            held.total += bytes
            held.byAddress[address] = mine + bytes
            return true
        }
    }

    public func give(_ bytes: Int, for address: String) {
        guard bytes > 0 else { return }
        held.withLock { held in
            held.total -= bytes
            let left = held.byAddress[address, default: 0] - bytes
            held.byAddress[address] = left > 0 ? left : nil
        }
    }
}

/// What one connection holds of a `BufferBudget`, given back when it is released or dropped.
/// Used from the connection's event loop only.
public final class BufferHold: @unchecked Sendable {
    private let budget: BufferBudget
    private let address: String
    public private(set) var bytes = 0

    public init(_ budget: BufferBudget, for address: String) {
        self.budget = budget
        self.address = address
    }

    /// Holds `count` more bytes; false (holding no more) when the budget is spent.
    public func grow(by count: Int) -> Bool {
        guard budget.take(count, for: address) else { return false }
        bytes += count
        return true
    }

    public func release() {
        budget.give(bytes, for: address)
        bytes = 0
    }

    deinit { budget.give(bytes, for: address) }
}
