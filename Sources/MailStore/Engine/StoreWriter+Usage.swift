/// An account's usage before and after `recalculateUsage`.
public struct UsageRecalculation: Sendable, Equatable {
    public var account: String
    public var oldBytes: Int, oldMessages: Int
    public var newBytes: Int, newMessages: Int

    public var changed: Bool { oldBytes != newBytes || oldMessages != newMessages }
}

extension StoreWriter {
    /// Recomputes the account's `usedBytes` and `usedMessages` from its message records and
    /// saves them, for `mstore quota recalc` after an upgrade or a repair. Proportional to the
    /// number of messages of the account; content is not read.
    @discardableResult
    public func recalculateUsage(_ id: AccountID) throws -> UsageRecalculation {
        var account = try requireAccount(id)
        var bytes = 0, messages = 0
        for mailbox in try mailboxes(of: id) {
            try forEachMessage(in: mailbox.id) { record in
                bytes += record.size
                messages += 1
                return true
            }
        }
        let result = UsageRecalculation(account: account.name, oldBytes: account.usedBytes,
                                        oldMessages: account.usedMessages, newBytes: bytes, newMessages: messages)
        if result.changed {
            account.usedBytes = bytes
            account.usedMessages = messages
            try save(account)
        }
        return result
    }
}
