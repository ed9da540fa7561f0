import MailStore

/// Per-mailbox entries of a per-process cache, kept by last use under a limit on their total
/// weight (UIDs, rows): the bookkeeping `UIDListCache` and `SortCache` share. Not locked;
/// each cache holds one inside its lock.
struct MailboxLRU<Entry> {
    let maxWeight: Int
    private var entries: [MailboxID: (entry: Entry, weight: Int, lastUse: UInt64)] = [:]
    private var total = 0
    private var clock: UInt64 = 0

    init(maxWeight: Int) { self.maxWeight = maxWeight }

    /// The entry of `mailbox`, marked as used now.
    mutating func use(_ mailbox: MailboxID) -> Entry? {
        clock += 1
        entries[mailbox]?.lastUse = clock
        return entries[mailbox]?.entry
    }

    /// Keeps `entry` for `mailbox` in place of any before, then drops the least recently used
    /// entries until the total weight fits (an entry heavier than the limit is not kept).
    mutating func put(_ entry: Entry, weight: Int, for mailbox: MailboxID) {
        if let old = entries.removeValue(forKey: mailbox) { total -= old.weight }
        guard weight <= maxWeight else { return }
        while total + weight > maxWeight, let victim = entries.min(by: { $0.value.lastUse < $1.value.lastUse })?.key {
            total -= entries.removeValue(forKey: victim)!.weight
        }
        clock += 1
        entries[mailbox] = (entry, weight, clock)
        total += weight
    }
}

extension MailboxLRU: Sendable where Entry: Sendable {}
