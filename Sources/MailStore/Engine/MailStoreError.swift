/// Every failure the engine reports. Front ends map user mistakes to `NO`/`-ERR`/`5xx` and
/// faults (`storage`, `corrupt`) to temporary failures.
public enum MailStoreError: Error, Equatable, Sendable, CustomStringConvertible {
    case unknownAccount(String)
    case accountExists(String)
    case invalidAccountName(String)
    case unknownMailbox(String)
    case mailboxExists(String)
    case invalidMailboxName(String, reason: String)
    /// INBOX cannot be deleted (RFC 9051 §6.3.4).
    case cannotDeleteInbox
    /// A mailbox that is `\Noselect` cannot hold messages.
    case mailboxNotSelectable(String)
    case unknownMessage(UID)
    case overQuota(QuotaResource)
    case messageTooLarge(Int)
    case invalidKeyword(String)
    case invalidAnnotationName(String)
    /// An annotation value over the limit, in bytes.
    case annotationTooLarge(max: Int)
    /// More annotations on one owner than the limit.
    case tooManyAnnotations(max: Int)
    /// A password hash given in `{SCHEME}…` form that mstore cannot take: the reason.
    case invalidPasswordHash(String)
    /// The store was written by a newer schema than this binary understands.
    case unsupportedSchema(found: Int, supported: Int)
    /// Another process holds the store in a way that excludes this use (compaction against
    /// everyone else): the reason, naming the store.
    case storeBusy(String)
    /// Opening an older store failed to bring it to the current schema; the store is unchanged.
    case upgradeFailed(from: Int, to: Int, backup: String, reason: String)
    /// Stored data failed to decode.
    case corrupt(String)
    /// The storage layer failed.
    case storage(String)

    public var description: String {
        switch self {
        case .unknownAccount(let n): "unknown user \(n)"
        case .accountExists(let n): "user \(n) already exists"
        case .invalidAccountName(let n): "invalid user name \(n.debugDescription)"
        case .unknownMailbox(let n): "no mailbox \(n)"
        case .mailboxExists(let n): "mailbox \(n) already exists"
        case .invalidMailboxName(let n, let why): "invalid mailbox name \(n.debugDescription): \(why)"
        case .cannotDeleteInbox: "INBOX cannot be deleted"
        case .mailboxNotSelectable(let n): "mailbox \(n) cannot hold messages"
        case .unknownMessage(let uid): "no message with UID \(uid)"
        case .overQuota(let r): "over quota (\(r))"
        case .messageTooLarge(let n): "message of \(n) bytes is too large"
        case .invalidKeyword(let k): "invalid keyword \(k.debugDescription)"
        case .invalidAnnotationName(let n): "invalid annotation name \(n.debugDescription)"
        case .annotationTooLarge(let max): "annotation value over \(max) bytes"
        case .tooManyAnnotations(let max): "more than \(max) annotations"
        case .invalidPasswordHash(let why): "invalid password hash: \(why)"
        case .unsupportedSchema(let found, let supported):
            "store schema \(found) is newer than this program supports (\(supported))"
        case .storeBusy(let why): why
        case .upgradeFailed(let from, let to, let backup, let reason):
            "upgrading the store from schema \(from) to \(to) failed, and the store was left as it was "
                + "(a copy of it is in \(backup)): \(reason)"
        case .corrupt(let why): "corrupt store: \(why)"
        case .storage(let why): "storage failure: \(why)"
        }
    }
}

/// Which quota limit was hit.
public enum QuotaResource: String, Sendable, Codable {
    case storage
    case messages
}
