/// Key layouts of the subspaces. Integers are big-endian so that keys sort numerically.
enum Keys {
    static func account(_ id: AccountID) -> [UInt8] { key { $0.u32(id.rawValue) } }
    static func accountName(_ folded: String) -> [UInt8] { Array(folded.utf8) }

    static func mailbox(_ id: MailboxID) -> [UInt8] { key { $0.u32(id.rawValue) } }
    static func mailboxName(_ account: AccountID, _ name: String) -> [UInt8] {
        key { $0.u32(account.rawValue); $0.raw(name.utf8) }
    }
    static func mailboxNames(of account: AccountID) -> [UInt8] { key { $0.u32(account.rawValue) } }

    /// Every key of `mailbox` in the messages and changes subspaces starts with this.
    static func mailboxPrefix(_ mailbox: MailboxID) -> [UInt8] { key { $0.u32(mailbox.rawValue) } }
    /// The first key past every key of `mailbox` in those subspaces.
    static func mailboxEnd(_ mailbox: MailboxID) -> [UInt8]? {
        mailbox.rawValue == .max ? nil : mailboxPrefix(MailboxID(rawValue: mailbox.rawValue + 1))
    }

    static func message(_ mailbox: MailboxID, _ uid: UID) -> [UInt8] {
        key { $0.u32(mailbox.rawValue); $0.u32(uid.rawValue) }
    }

    static func change(_ mailbox: MailboxID, _ modSeq: ModSeq, _ uid: UID) -> [UInt8] {
        key { $0.u32(mailbox.rawValue); $0.u64(modSeq.rawValue); $0.u32(uid.rawValue) }
    }
    static func changes(of mailbox: MailboxID, after modSeq: ModSeq) -> [UInt8] {
        key { $0.u32(mailbox.rawValue); $0.u64(modSeq.rawValue &+ 1) }
    }

    static func flagged(_ mailbox: MailboxID, _ tag: UInt32, _ uid: UID) -> [UInt8] {
        key { $0.u32(mailbox.rawValue); $0.u32(tag); $0.u32(uid.rawValue) }
    }
    static func flagged(_ mailbox: MailboxID, _ tag: UInt32) -> [UInt8] {
        key { $0.u32(mailbox.rawValue); $0.u32(tag) }
    }

    static func dated(_ mailbox: MailboxID, _ day: UInt32, _ uid: UID) -> [UInt8] {
        key { $0.u32(mailbox.rawValue); $0.u32(day); $0.u32(uid.rawValue) }
    }
    static func dated(_ mailbox: MailboxID, _ day: UInt32) -> [UInt8] {
        key { $0.u32(mailbox.rawValue); $0.u32(day) }
    }

    static func sized(_ mailbox: MailboxID, _ sizeClass: UInt32, _ uid: UID) -> [UInt8] {
        key { $0.u32(mailbox.rawValue); $0.u32(sizeClass); $0.u32(uid.rawValue) }
    }
    static func sized(_ mailbox: MailboxID, _ sizeClass: UInt32) -> [UInt8] {
        key { $0.u32(mailbox.rawValue); $0.u32(sizeClass) }
    }

    static func content(_ id: ContentID) -> [UInt8] { key { $0.u64(id.rawValue) } }
    static func chunk(_ id: ContentID, _ index: Int) -> [UInt8] { key { $0.u64(id.rawValue); $0.u16(UInt16(index)) } }
    static func chunks(of id: ContentID) -> [UInt8] { key { $0.u64(id.rawValue) } }

    static func keywordByName(_ account: AccountID, _ folded: String) -> [UInt8] {
        key { $0.u32(account.rawValue); $0.u8(0); $0.raw(folded.utf8) }
    }
    static func keywordByID(_ account: AccountID, _ id: KeywordID) -> [UInt8] {
        key { $0.u32(account.rawValue); $0.u8(1); $0.u32(id.rawValue) }
    }
    static func keywordNames(of account: AccountID) -> [UInt8] { key { $0.u32(account.rawValue); $0.u8(1) } }

    static func subscription(_ account: AccountID, _ name: String) -> [UInt8] {
        key { $0.u32(account.rawValue); $0.raw(name.utf8) }
    }
    static func subscriptions(of account: AccountID) -> [UInt8] { key { $0.u32(account.rawValue) } }

    /// Every key of `account` in the keyword and subscription subspaces starts with this.
    static func accountPrefix(_ account: AccountID) -> [UInt8] { key { $0.u32(account.rawValue) } }

    /// Meta keys.
    static let schemaVersion = Array("schema".utf8)
    static let nextAccount = Array("next-account".utf8)
    static let nextMailbox = Array("next-mailbox".utf8)
    static let nextContent = Array("next-content".utf8)
    /// The newest content whose SHA-256 is in the hash index (`Subspace.contentHashes`).
    static let hashIndexedThrough = Array("hash-indexed-through".utf8)
    static let nextEmail = Array("next-email".utf8)
    static let lastUIDValidity = Array("last-uidvalidity".utf8)
}
