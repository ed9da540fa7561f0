/// How a delivery treats recipients that cannot take the message when it is written.
public enum DeliveryMode: Sendable {
    /// Each recipient succeeds or fails on its own (LMTP, RFC 2033 §4.2).
    case perRecipient
    /// Every recipient or none: one answer for all (SMTP, RFC 5321 §4.1.1.4).
    case allOrNothing
}

extension MailStore {
    /// Delivers one message to its recipients in one durable store write: the content is
    /// stored once, and the call returns only after the commit is on disk. The recipients are
    /// resolved again inside the write, since users and mailboxes may have changed since
    /// `RCPT TO`. A storage failure throws and delivers to nobody; with `.allOrNothing` a refused
    /// recipient throws its `DeliveryRefusal` and delivers to nobody too.
    ///
    /// This is the one delivery path: LMTP, SMTP and `mstore deliver` all come through here.
    public func deliver(_ message: PreparedMessage, to recipients: [DeliveryAddress],
                        mode: DeliveryMode) async throws -> [Result<UID, DeliveryRefusal>] {
        try await withCheckedThrowingContinuation { continuation in
            deliver(message, to: recipients, mode: mode) { continuation.resume(with: $0) }
        }
    }

    /// `deliver`, for a caller that is not a task: `completion` gets the outcome on the writer
    /// thread once the commit is on disk (see `write(_:completion:)`).
    public func deliver(_ message: PreparedMessage, to recipients: [DeliveryAddress], mode: DeliveryMode,
                        completion: @escaping @Sendable (Result<[Result<UID, DeliveryRefusal>], any Error>) -> Void) {
        write({ tx in
            var results: [Result<UID, DeliveryRefusal>] = []
            results.reserveCapacity(recipients.count)
            for recipient in recipients {
                let result: Result<UID, DeliveryRefusal>
                if let target = try tx.deliveryTarget(for: recipient) {
                    do {
                        // `append` checks the quota before it writes anything, so a refusal
                        // here leaves nothing half-written.
                        result = .success(try tx.append(to: target.mailbox, message).uid)
                    } catch MailStoreError.overQuota(let resource) {
                        result = .failure(.overQuota(resource))
                    }
                } else {
                    result = .failure(.unknownUser)
                }
                // The writer passes only MailStoreError through; the completion maps it back.
                if case .failure(let refusal) = result, mode == .allOrNothing {
                    switch refusal {
                    case .unknownUser: throw MailStoreError.unknownAccount(recipient.address)
                    case .overQuota(let resource): throw MailStoreError.overQuota(resource)
                    }
                }
                results.append(result)
            }
            return results
        }, completion: { result in
            completion(result.mapError { mode == .allOrNothing ? Self.refusal($0) : $0 })
        })
    }

    /// An all-or-nothing write's error, as the refusal it stands for where it is one.
    private static func refusal(_ error: any Error) -> any Error {
        switch error {
        case MailStoreError.overQuota(let resource): DeliveryRefusal.overQuota(resource)
        case MailStoreError.unknownAccount: DeliveryRefusal.unknownUser
        default: error
        }
    }
}
