import Foundation

/// The system flags of a message (RFC 9051 §2.3.2), as a bitset. `\Recent` is session state,
/// not stored.
public struct MessageFlags: OptionSet, Sendable, Hashable, Codable {
    public let rawValue: UInt16
    public init(rawValue: UInt16) { self.rawValue = rawValue }

    public static let seen = MessageFlags(rawValue: 1 << 0)
    public static let answered = MessageFlags(rawValue: 1 << 1)
    public static let flagged = MessageFlags(rawValue: 1 << 2)
    public static let deleted = MessageFlags(rawValue: 1 << 3)
    public static let draft = MessageFlags(rawValue: 1 << 4)

    public static let names: [(MessageFlags, String)] = [
        (.seen, "\\Seen"), (.answered, "\\Answered"), (.flagged, "\\Flagged"), (.deleted, "\\Deleted"),
        (.draft, "\\Draft"),
    ]

    /// Parses a system flag name such as `\Seen`, case-insensitively.
    public init?(name: String) {
        let lower = name.lowercased()
        guard let match = Self.names.first(where: { $0.1.lowercased() == lower }) else { return nil }
        self = match.0
    }

    public var flagNames: [String] { Self.names.filter { contains($0.0) }.map(\.1) }
}

/// A date with the zone it was given in, such as an IMAP INTERNALDATE.
public struct ZonedDate: Sendable, Hashable, Codable {
    /// Seconds since 1970-01-01T00:00:00Z.
    public var seconds: Int64
    /// The zone's offset from UTC in minutes.
    public var zoneMinutes: Int16

    public init(seconds: Int64, zoneMinutes: Int16 = 0) {
        self.seconds = seconds
        self.zoneMinutes = zoneMinutes
    }

    /// The current time, in UTC.
    public static func now() -> ZonedDate {
        var ts = timespec()
        clock_gettime(CLOCK_REALTIME, &ts)
        return ZonedDate(seconds: Int64(ts.tv_sec))
    }
}

/// One message in one mailbox: everything but its content.
public struct MessageRecord: Sendable, Equatable {
    public let uid: UID
    public var content: ContentID
    public var flags: MessageFlags
    /// Keyword numbers of the account, sorted.
    public var keywords: [KeywordID]
    public var internalDate: ZonedDate
    /// When it was saved into this mailbox (RFC 8514).
    public var saveDate: Int64
    /// RFC822.SIZE: octets of the stored (CRLF) form.
    public var size: Int
    public var modSeq: ModSeq
    public var emailID: EmailID
    public var threadID: ThreadID

    static let recordVersion: UInt8 = 1

    func encoded() -> [UInt8] {
        var w = ByteWriter(capacity: 48)
        w.u8(Self.recordVersion)
        w.varint(content.rawValue)
        w.varint(UInt64(flags.rawValue))
        w.varint(keywords.count)
        for k in keywords { w.varint(UInt64(k.rawValue)) }
        w.svarint(internalDate.seconds)
        w.svarint(Int64(internalDate.zoneMinutes))
        w.svarint(saveDate)
        w.varint(size)
        w.varint(modSeq.rawValue)
        w.varint(emailID.rawValue)
        w.varint(threadID.rawValue)
        return w.bytes
    }

    init(uid: UID, content: ContentID, flags: MessageFlags, keywords: [KeywordID], internalDate: ZonedDate,
         saveDate: Int64, size: Int, modSeq: ModSeq, emailID: EmailID, threadID: ThreadID) {
        self.uid = uid; self.content = content; self.flags = flags; self.keywords = keywords
        self.internalDate = internalDate; self.saveDate = saveDate; self.size = size; self.modSeq = modSeq
        self.emailID = emailID; self.threadID = threadID
    }

    init(uid: UID, decoding buffer: UnsafeRawBufferPointer) throws {
        var r = ByteReader(buffer)
        guard try r.u8() == Self.recordVersion else { throw MailStoreError.corrupt("message record version") }
        self.uid = uid
        content = ContentID(rawValue: try r.varint())
        flags = MessageFlags(rawValue: UInt16(truncatingIfNeeded: try r.varint()))
        let n = try r.int()
        guard n >= 0, n <= buffer.count else { throw MailStoreError.corrupt("keyword count") }
        var ks: [KeywordID] = []
        ks.reserveCapacity(n)
        for _ in 0..<n { ks.append(KeywordID(rawValue: UInt32(truncatingIfNeeded: try r.varint()))) }
        keywords = ks
        internalDate = ZonedDate(seconds: try r.svarint(), zoneMinutes: Int16(truncatingIfNeeded: try r.svarint()))
        saveDate = try r.svarint()
        size = try r.int()
        modSeq = ModSeq(try r.varint())
        emailID = EmailID(rawValue: try r.varint())
        threadID = ThreadID(rawValue: try r.varint())
    }
}

/// A message's metadata with its keyword names resolved, for callers outside a transaction.
public struct MessageInfo: Sendable, Equatable {
    public var record: MessageRecord
    public var keywordNames: [String]
    public var uid: UID { record.uid }

    public init(record: MessageRecord, keywordNames: [String]) {
        self.record = record
        self.keywordNames = keywordNames
    }

    /// The flag names of RFC 9051 §2.3.2: system flags, then keywords.
    public var flagNames: [String] { record.flags.flagNames + keywordNames }
}
