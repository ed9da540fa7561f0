/// A mailbox: its name, its UID state and its exact counts.
public struct Mailbox: Sendable, Equatable, Codable {
    public let id: MailboxID
    public let account: AccountID
    /// The full name, with `/` as the hierarchy separator. INBOX is always spelled `INBOX`.
    public var name: String
    /// Unique to each incarnation of a name (RFC 9051 §2.3.1.1).
    public var uidValidity: UInt32
    public var uidNext: UID
    public var highestModSeq: ModSeq
    public var messages: Int
    public var unseen: Int
    public var deleted: Int
    /// Logical bytes of the messages.
    public var size: Int
    /// RFC 6154 attributes, such as `\Sent`.
    public var specialUse: SpecialUse
    /// A mailbox kept only as the parent of others (RFC 3501 §6.3.4): it holds no messages.
    public var isNoSelect: Bool
    /// UIDs at or above this are `\Recent` for the next session that claims them (IMAP4rev1).
    public var firstRecentUID: UID

    static let recordVersion: UInt8 = 1

    func encoded() -> [UInt8] {
        var w = ByteWriter(capacity: 64)
        w.u8(Self.recordVersion)
        w.u32(id.rawValue)
        w.u32(account.rawValue)
        w.string(name)
        w.u32(uidValidity)
        w.u32(uidNext.rawValue)
        w.varint(highestModSeq.rawValue)
        w.varint(messages); w.varint(unseen); w.varint(deleted); w.varint(size)
        w.varint(UInt64(specialUse.rawValue))
        w.u8(isNoSelect ? 1 : 0)
        w.u32(firstRecentUID.rawValue)
        return w.bytes
    }

    init(id: MailboxID, account: AccountID, name: String, uidValidity: UInt32, specialUse: SpecialUse) {
        self.id = id; self.account = account; self.name = name; self.uidValidity = uidValidity
        self.uidNext = UID(1); self.highestModSeq = ModSeq(1)
        self.messages = 0; self.unseen = 0; self.deleted = 0; self.size = 0
        self.specialUse = specialUse; self.isNoSelect = false; self.firstRecentUID = UID(1)
    }

    init(decoding buffer: UnsafeRawBufferPointer) throws {
        var r = ByteReader(buffer)
        guard try r.u8() == Self.recordVersion else { throw MailStoreError.corrupt("mailbox record version") }
        id = MailboxID(rawValue: try r.u32())
        account = AccountID(rawValue: try r.u32())
        name = try r.string()
        uidValidity = try r.u32()
        uidNext = UID(try r.u32())
        highestModSeq = ModSeq(try r.varint())
        messages = try r.int(); unseen = try r.int(); deleted = try r.int(); size = try r.int()
        specialUse = SpecialUse(rawValue: UInt16(truncatingIfNeeded: try r.varint()))
        isNoSelect = try r.u8() == 1
        firstRecentUID = UID(try r.u32())
    }
}

/// RFC 6154 special-use attributes.
public struct SpecialUse: OptionSet, Sendable, Hashable, Codable {
    public let rawValue: UInt16
    public init(rawValue: UInt16) { self.rawValue = rawValue }

    public static let all = SpecialUse(rawValue: 1 << 0)
    public static let archive = SpecialUse(rawValue: 1 << 1)
    public static let drafts = SpecialUse(rawValue: 1 << 2)
    public static let flagged = SpecialUse(rawValue: 1 << 3)
    public static let junk = SpecialUse(rawValue: 1 << 4)
    public static let sent = SpecialUse(rawValue: 1 << 5)
    public static let trash = SpecialUse(rawValue: 1 << 6)
    public static let important = SpecialUse(rawValue: 1 << 7)

    /// The attribute names, as RFC 6154 spells them.
    public static let names: [(SpecialUse, String)] = [
        (.all, "\\All"), (.archive, "\\Archive"), (.drafts, "\\Drafts"), (.flagged, "\\Flagged"),
        (.junk, "\\Junk"), (.sent, "\\Sent"), (.trash, "\\Trash"), (.important, "\\Important"),
    ]

    /// Parses one attribute name such as `\Sent`, case-insensitively.
    public init?(name: String) {
        let lower = name.lowercased()
        guard let match = Self.names.first(where: { $0.1.lowercased() == lower }) else { return nil }
        self = match.0
    }

    /// The attribute names of this set.
    public var attributeNames: [String] { Self.names.filter { contains($0.0) }.map(\.1) }
}
