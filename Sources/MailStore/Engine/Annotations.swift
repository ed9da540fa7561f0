/// Annotations: small named values an account keeps on itself or on one of its mailboxes
/// (IMAP METADATA, RFC 5464, serves them). Names are opaque to the store; the front end decides
/// their syntax and case. They live with the mailbox: a rename keeps them, a delete drops them.
public enum AnnotationLimits {
    /// Largest value, in bytes (RFC 5464 `[METADATA MAXSIZE n]` above it).
    public static let maxValueBytes = 16 * 1024
    /// Longest name, in bytes (LMDB keys stay below its 511-byte limit).
    public static let maxNameBytes = 255
    /// Most annotations on the account itself, and on each mailbox (`[METADATA TOOMANY]`).
    public static let maxPerOwner = 256
}

/// One annotation and its value.
public struct Annotation: Sendable, Equatable {
    public var name: String
    public var value: [UInt8]
    public init(name: String, value: [UInt8]) {
        self.name = name
        self.value = value
    }
}

extension Keys {
    /// Account + mailbox (0 for the account itself) + name.
    static func annotations(_ account: AccountID, _ mailbox: MailboxID?) -> [UInt8] {
        key { $0.u32(account.rawValue); $0.u32(mailbox?.rawValue ?? 0) }
    }
    static func annotation(_ account: AccountID, _ mailbox: MailboxID?, _ name: String) -> [UInt8] {
        key { $0.u32(account.rawValue); $0.u32(mailbox?.rawValue ?? 0); $0.raw(name.utf8) }
    }
}

extension StoreReader {
    /// The annotations of the account (`mailbox` nil) or of one of its mailboxes, sorted by name.
    public func annotations(account: AccountID, mailbox: MailboxID?) throws -> [Annotation] {
        var found: [Annotation] = []
        try kv.scan(.annotations, prefix: Keys.annotations(account, mailbox)) { k, v in
            found.append(Annotation(name: String(decoding: k[8...], as: UTF8.self), value: Array(v)))
            return true
        }
        return found
    }
}

extension StoreWriter {
    /// Sets (a value) or removes (nil) annotations of the account or of one of its mailboxes,
    /// all or none: a value over `maxValueBytes` throws `annotationTooLarge`, more than
    /// `maxPerOwner` afterwards throws `tooManyAnnotations`, and nothing is written.
    public func setAnnotations(account: AccountID, mailbox: MailboxID?, _ changes: [(name: String, value: [UInt8]?)]) throws {
        _ = try requireAccount(account)
        if let mailbox {
            guard try self.mailbox(mailbox)?.account == account else { throw MailStoreError.unknownMailbox("#\(mailbox.rawValue)") }
        }
        var names = Set(try annotations(account: account, mailbox: mailbox).map(\.name))
        for (name, value) in changes {
            let bytes = Array(name.utf8)
            guard !bytes.isEmpty, bytes.count <= AnnotationLimits.maxNameBytes, !bytes.contains(0) else {
                throw MailStoreError.invalidAnnotationName(name)
            }
            if let value, value.count > AnnotationLimits.maxValueBytes {
                throw MailStoreError.annotationTooLarge(max: AnnotationLimits.maxValueBytes)
            }
            if value == nil { names.remove(name) } else { names.insert(name) }
        }
        guard names.count <= AnnotationLimits.maxPerOwner else {
            throw MailStoreError.tooManyAnnotations(max: AnnotationLimits.maxPerOwner)
        }
        for (name, value) in changes {
            let k = Keys.annotation(account, mailbox, name)
            if let value { try w.put(.annotations, k, value) } else { try w.delete(.annotations, k) }
        }
        events.append(.annotationsChanged(account: account, mailbox: mailbox, names: changes.map(\.name)))
    }

    /// Drops every annotation of a mailbox that goes away.
    func dropAnnotations(account: AccountID, mailbox: MailboxID) throws {
        var keys: [[UInt8]] = []
        try w.scan(.annotations, prefix: Keys.annotations(account, mailbox)) { k, _ in keys.append(Array(k)); return true }
        for k in keys { try w.delete(.annotations, k) }
    }
}
