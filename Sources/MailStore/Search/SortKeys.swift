import MailMessage

/// What sorting and threading compare about a message (RFC 5256, RFC 5957), computed once when
/// the message is prepared and kept per message, so that a sort reads a small record rather
/// than the parsed structure. Strings are folded as search folds them (`SearchFolding`).
public struct SortKeys: Sendable, Equatable {
    /// The Date: header in seconds since 1970 UTC, or nil when it is absent or unusable.
    public var sentDate: Int64?
    /// The Date: header's zone, minutes east of UTC (SENTON and friends compare its own day).
    public var sentZoneMinutes: Int
    /// The base subject (RFC 5256 §2.1), folded.
    public var baseSubject: String
    /// Whether §2.1 removed a reply or forward marker (RFC 5256 §2.2 step 5).
    public var isReplyOrForward: Bool
    /// The addr-mailbox of the first From, To and Cc address as IMAP's envelope shows it (for a
    /// group, its name), folded.
    public var from: String, to: String, cc: String
    /// RFC 5957 §3: the display name of the first From and To address, else its address, folded.
    public var displayFrom: String, displayTo: String
    /// The Message-ID without brackets.
    public var messageID: String?
    /// REFERENCES threading's parent links: the last `maxReferences` References ids, else the
    /// first In-Reply-To id (RFC 5256 §2.2 step 1).
    public var parents: [String]

    /// At most this many References ids of one message are kept: the last ones, the nearest
    /// ancestors. RFC 5256 sets no bound; this one keeps a hostile header from costing a
    /// container per id when threading.
    public static let maxReferences = 256

    public init(_ parsed: ParsedMessage) {
        func fold(_ s: String) -> String { String(decoding: SearchFolding.fold(s), as: UTF8.self) }
        func displayName(_ list: [Address]) -> String {
            guard let address = list.first else { return "" }
            if let name = address.decodedName, name.contains(where: { !$0.isWhitespace }) { return name }
            return address.addressSpec
        }
        let envelope = parsed.envelope
        let threading = parsed.threading
        sentDate = parsed.sentDate?.secondsSince1970
        sentZoneMinutes = parsed.sentDate?.zoneOffsetMinutes ?? 0
        baseSubject = fold(threading.baseSubject)
        isReplyOrForward = threading.isReplyOrForward
        from = fold(envelope.from.first?.mailbox ?? "")
        to = fold(envelope.to.first?.mailbox ?? "")
        cc = fold(envelope.cc.first?.mailbox ?? "")
        displayFrom = fold(displayName(envelope.from))
        displayTo = fold(displayName(envelope.to))
        messageID = threading.messageID
        parents = threading.references.isEmpty
            ? Array(threading.inReplyTo.prefix(1)) : Array(threading.references.suffix(Self.maxReferences))
    }

    func encoded() -> [UInt8] {
        var w = ByteWriter(capacity: 96)
        w.u8((sentDate == nil ? 0 : 1) | (isReplyOrForward ? 2 : 0) | (messageID == nil ? 0 : 4))
        if let sentDate {
            w.svarint(sentDate)
            w.svarint(Int64(sentZoneMinutes))
        }
        for s in [baseSubject, from, to, cc, displayFrom, displayTo] { w.string(s) }
        if let messageID { w.string(messageID) }
        w.varint(parents.count)
        for p in parents { w.string(p) }
        return w.bytes
    }

    /// What a reader wants decoded; the rest is skipped and left empty.
    public struct Parts: OptionSet, Sendable {
        public let rawValue: Int
        public init(rawValue: Int) { self.rawValue = rawValue }
        public static let subject = Parts(rawValue: 1)
        public static let addresses = Parts(rawValue: 2)
        public static let displayNames = Parts(rawValue: 4)
        /// Message-ID and parents.
        public static let threading = Parts(rawValue: 8)
        public static let all: Parts = [.subject, .addresses, .displayNames, .threading]
    }

    /// Decodes the sent date and `parts`.
    init(decoding buffer: UnsafeRawBufferPointer, parts: Parts = .all) throws {
        var r = ByteReader(buffer)
        func string(_ part: Parts) throws -> String {
            if parts.contains(part) { return try r.string() }
            try r.skipBlob()
            return ""
        }
        let bits = try r.u8()
        sentDate = bits & 1 != 0 ? try r.svarint() : nil
        sentZoneMinutes = bits & 1 != 0 ? Int(try r.svarint()) : 0
        isReplyOrForward = bits & 2 != 0
        baseSubject = try string(.subject)
        from = try string(.addresses)
        to = try string(.addresses)
        cc = try string(.addresses)
        displayFrom = try string(.displayNames)
        displayTo = try string(.displayNames)
        guard parts.contains(.threading) else {
            messageID = nil
            parents = []
            return
        }
        messageID = bits & 4 != 0 ? try r.string() : nil
        let count = Int(try r.varint())
        guard count <= Self.maxReferences else { throw MailStoreError.corrupt("sort keys: \(count) parents") }
        parents = try (0..<count).map { _ in try r.string() }
    }
}

extension StoreReader {
    /// The sort keys of the messages of `mailbox` with UIDs in `range`, in UID order; `body`
    /// returns false to stop.
    public func forEachSortKeys(in mailbox: MailboxID, uids range: ClosedRange<UID>, parts: SortKeys.Parts = .all,
                                _ body: (UID, SortKeys) throws -> Bool) throws {
        let upper = range.upperBound.rawValue == .max
            ? Keys.mailboxEnd(mailbox) : Keys.message(mailbox, UID(range.upperBound.rawValue + 1))
        try kv.scan(.sortKeys, from: Keys.message(mailbox, range.lowerBound), to: upper, reverse: false) { k, v in
            try body(UID(readU32(k, at: 4)), try SortKeys(decoding: v, parts: parts))
        }
    }

    /// The sort keys of one message, or nil.
    public func sortKeys(in mailbox: MailboxID, uid: UID, parts: SortKeys.Parts = .all) throws -> SortKeys? {
        try kv.withValue(.sortKeys, Keys.message(mailbox, uid)) { v in try v.map { try SortKeys(decoding: $0, parts: parts) } }
    }
}
