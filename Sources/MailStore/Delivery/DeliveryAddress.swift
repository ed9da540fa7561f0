/// A delivery recipient as written in `RCPT TO:<local+detail@domain>` or given to
/// `mstore deliver`, split the way DESIGN.md §1 addresses mail.
public struct DeliveryAddress: Sendable, Equatable, CustomStringConvertible {
    /// The address as given (for `Delivered-To` and replies).
    public let address: String
    /// The local part without its `+detail`.
    public let localPart: String
    /// The text after the first `+` of the local part, if any: it names a mailbox.
    public let detail: String?
    /// The domain, lowercased; nil for a bare name.
    public let domain: String?

    /// Splits `local+detail@domain`. The last `@` separates the domain (a quoted local part may
    /// hold one). Returns nil for an empty local part or domain.
    public init?(_ address: String) {
        var local = Substring(address)
        var domain: String?
        if let at = address.lastIndex(of: "@") {
            local = address[..<at]
            let d = address[address.index(after: at)...]
            guard !d.isEmpty else { return nil }
            domain = d.lowercased()
        }
        if local.count >= 2, local.first == "\"", local.last == "\"" { local = local.dropFirst().dropLast() }
        guard !local.isEmpty else { return nil }
        var detail: String?
        if let plus = local.firstIndex(of: "+") {
            detail = String(local[local.index(after: plus)...])
            local = local[..<plus]
            guard !local.isEmpty else { return nil }
        }
        self.address = address
        self.localPart = String(local)
        self.detail = detail?.isEmpty == true ? nil : detail
        self.domain = domain
    }

    /// The address without `+detail`: the first name tried for the user.
    public var userAddress: String { domain.map { "\(localPart)@\($0)" } ?? localPart }

    public var description: String { address }
}

/// Where a recipient's copy goes, resolved inside a transaction.
public struct DeliveryTarget: Sendable, Equatable {
    public let account: Account
    public let mailbox: MailboxID
}

/// Why a recipient cannot take a message now.
public enum DeliveryRefusal: Error, Sendable, Equatable {
    /// No user by the whole address or by the local part (SMTP `550 5.1.1`).
    case unknownUser
    /// The user is over quota (SMTP `452 4.2.2`).
    case overQuota(QuotaResource)
}

extension StoreReader {
    /// Resolves a recipient (DESIGN.md §1): the user named by the whole address, else by the
    /// local part; `+detail` names an existing mailbox of that user, else INBOX.
    public func deliveryTarget(for recipient: DeliveryAddress) throws -> DeliveryTarget? {
        guard let account = try account(named: recipient.userAddress)
                ?? (recipient.domain == nil ? nil : try account(named: recipient.localPart)) else { return nil }
        if let detail = recipient.detail, let box = try mailbox(of: account.id, named: detail), !box.isNoSelect {
            return DeliveryTarget(account: account, mailbox: box.id)
        }
        return DeliveryTarget(account: account, mailbox: try requireMailbox(of: account.id, named: "INBOX").id)
    }

    /// Resolves a recipient and checks its quota for a message of `size` octets (0 when the
    /// size is not known yet), as at `RCPT TO`.
    public func checkRecipient(_ recipient: DeliveryAddress, size: Int) throws -> Result<DeliveryTarget, DeliveryRefusal> {
        guard let target = try deliveryTarget(for: recipient) else { return .failure(.unknownUser) }
        let a = target.account
        if let limit = a.quota.storageBytes, a.usedBytes + size > limit || a.usedBytes >= limit {
            return .failure(.overQuota(.storage))
        }
        if let limit = a.quota.messages, a.usedMessages + 1 > limit { return .failure(.overQuota(.messages)) }
        return .success(target)
    }

    /// Whether `name` names a user.
    public func isUser(_ name: String) throws -> Bool { try account(named: name) != nil }
}

extension DeliveryAddress {
    /// A recipient named directly, as `mstore deliver USER --mailbox NAME` does: `user` is the
    /// whole user name, `mailbox` plays the part of `+detail`.
    public init(user: String, mailbox: String?) {
        address = user
        localPart = user
        detail = mailbox
        domain = nil
    }
}
