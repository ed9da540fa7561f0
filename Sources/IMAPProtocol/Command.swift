import MailMessage

/// One client command with its tag. RFC 9051 §2.2.1.
public struct TaggedCommand: Sendable, Equatable {
    public var tag: String
    public var command: Command

    public init(tag: String, command: Command) {
        self.tag = tag
        self.command = command
    }
}

/// The commands of IMAP4rev2 (RFC 9051) and IMAP4rev1 (RFC 3501) with the extensions mstore
/// serves. Mailbox names are the raw argument text (modified UTF-7 or UTF-8): decoding them
/// depends on what the session has enabled, so it is the session's job.
public enum Command: Sendable, Equatable {
    // Any state.
    case capability
    case noop
    case logout
    /// RFC 2971: nil for `ID NIL`, else the field/value pairs in order.
    case id([IDField]?)

    // Not authenticated.
    case starttls
    /// `initialResponse` is the SASL-IR argument as sent: base64 text, or "=" for an empty one.
    case authenticate(mechanism: String, initialResponse: String?)
    case login(user: String, password: String)

    // Authenticated.
    /// Capability names, upper-cased.
    case enable([String])
    /// SELECT (`readOnly` false) and EXAMINE (`readOnly` true).
    case select(mailbox: String, readOnly: Bool, parameters: SelectParameters)
    /// `specialUse` holds the RFC 6154 §3 `USE (...)` attributes, such as `\Sent`.
    case create(mailbox: String, specialUse: [String])
    case delete(mailbox: String)
    case rename(from: String, to: String)
    case subscribe(mailbox: String)
    case unsubscribe(mailbox: String)
    case list(ListCommand)
    case lsub(reference: String, pattern: String)
    case namespace
    case status(mailbox: String, items: [StatusItem])
    /// One or more messages (MULTIAPPEND, RFC 3502) for one mailbox.
    case append(mailbox: String, messages: [AppendMessage])
    case idle

    // Selected.
    case check
    case close
    case unselect
    /// `uids` is nil for EXPUNGE and the UID set for UID EXPUNGE (RFC 4315).
    case expunge(uids: SequenceSet?)
    case search(SearchCommand, uid: Bool)
    /// SORT and UID SORT (RFC 5256, RFC 5267 ESORT, RFC 5957 SORT=DISPLAY).
    case sort(SortCommand, uid: Bool)
    /// THREAD and UID THREAD (RFC 5256).
    case thread(ThreadCommand, uid: Bool)
    case fetch(SequenceSet, [FetchAttribute], modifiers: FetchModifiers, uid: Bool)
    case store(SequenceSet, StoreAction, uid: Bool)
    case copy(SequenceSet, mailbox: String, uid: Bool)
    case move(SequenceSet, mailbox: String, uid: Bool)
    /// REPLACE and UID REPLACE (RFC 8508): append `message` to `mailbox` and expunge the
    /// message `number` (a sequence number, or a UID with `uid`), atomically.
    case replace(UInt32, mailbox: String, message: AppendMessage, uid: Bool)

    // Extensions (CommandParser+Extensions.swift).
    /// RFC 4978: the mechanism, upper-cased (only `DEFLATE` is defined).
    case compress(mechanism: String)
    /// RFC 8437: back to the not-authenticated state.
    case unauthenticate
    /// RFC 9208 §4.2: a quota root name, such as `""`.
    case getQuota(root: String)
    /// RFC 9208 §4.3.
    case getQuotaRoot(mailbox: String)
    /// RFC 9208 §4.1: resource names upper-cased, with their new limits.
    case setQuota(root: String, limits: [QuotaLimit])
    /// RFC 5464 §4.2: entries of a mailbox, or of the server when `mailbox` is empty.
    case getMetadata(mailbox: String, entries: [String], options: MetadataOptions)
    /// RFC 5464 §4.3: each entry with its new value, or nil to remove it.
    case setMetadata(mailbox: String, entries: [MetadataEntry])
    /// RFC 5465: nil for `NOTIFY NONE`.
    case notify(NotifySet?)
    /// RFC 5267 §4.2: the tags of searches whose updates stop.
    case cancelUpdate([String])
}

/// `NOTIFY SET [STATUS] (filter events) ...` (RFC 5465 §3.1).
public struct NotifySet: Sendable, Equatable {
    /// `STATUS`: send the current STATUS of every mailbox the filters name, at once.
    public var status: Bool
    public var groups: [NotifyGroup]
    public init(status: Bool = false, groups: [NotifyGroup]) {
        self.status = status
        self.groups = groups
    }
}

/// One `(filter-mailboxes events)`; `events` is empty for `NONE`.
public struct NotifyGroup: Sendable, Equatable {
    public var filter: NotifyFilter
    public var events: [NotifyEvent]
    public init(_ filter: NotifyFilter, _ events: [NotifyEvent]) {
        self.filter = filter
        self.events = events
    }
}

/// Which mailboxes a NOTIFY group covers (RFC 5465 §6). Mailbox names are as sent.
public enum NotifyFilter: Sendable, Equatable {
    case selected, selectedDelayed, inboxes, personal, subscribed
    case subtree([String])
    case mailboxes([String])
}

/// RFC 5465 §5. Event names are matched without case; others are kept for `[BADEVENT]`.
public enum NotifyEvent: Sendable, Equatable {
    /// With the FETCH items to send for each new message of the selected mailbox.
    case messageNew([FetchAttribute])
    case messageExpunge, flagChange, annotationChange
    case mailboxName, subscriptionChange, mailboxMetadataChange, serverMetadataChange
    case other(String)
}

/// GETMETADATA options (RFC 5464 §4.2.1, §4.2.2), also the LIST-METADATA return option (RFC 9590).
public struct MetadataOptions: Sendable, Equatable {
    public enum Depth: String, Sendable, Equatable {
        case zero = "0", one = "1", infinity = "infinity"
    }
    /// Values longer than this many octets are left out (`[METADATA LONGENTRIES n]`).
    public var maxSize: UInt32?
    public var depth: Depth
    public init(maxSize: UInt32? = nil, depth: Depth = .zero) {
        self.maxSize = maxSize
        self.depth = depth
    }
}

/// One entry of SETMETADATA: `/private/comment "text"`, or `NIL` to remove it.
public struct MetadataEntry: Sendable, Equatable {
    public var name: String
    public var value: [UInt8]?
    public init(name: String, value: [UInt8]?) {
        self.name = name
        self.value = value
    }
}

/// `LIST ... RETURN (METADATA ([MAXSIZE n] entry ...))` (RFC 9590).
public struct ListMetadata: Sendable, Equatable {
    public var entries: [String]
    public var maxSize: UInt32?
    public init(entries: [String], maxSize: UInt32? = nil) {
        self.entries = entries
        self.maxSize = maxSize
    }
}

/// One `resource-name SP resource-limit` of SETQUOTA (RFC 9208 §4.1).
public struct QuotaLimit: Sendable, Equatable {
    public var resource: String
    public var limit: UInt64
    public init(resource: String, limit: UInt64) {
        self.resource = resource
        self.limit = limit
    }
}

/// One ID field: a name and a value or NIL.
public struct IDField: Sendable, Equatable {
    public var name: String
    public var value: String?
    public init(name: String, value: String?) {
        self.name = name
        self.value = value
    }
}

/// SELECT/EXAMINE parameters: CONDSTORE (RFC 7162 §3.1.8) and QRESYNC (RFC 7162 §3.2.5).
public struct SelectParameters: Sendable, Equatable {
    public var condstore = false
    public var qresync: QResyncParameters?
    public init(condstore: Bool = false, qresync: QResyncParameters? = nil) {
        self.condstore = condstore
        self.qresync = qresync
    }
}

/// `QRESYNC (uidvalidity modseq [known-uids [seq-match-data]])`.
public struct QResyncParameters: Sendable, Equatable {
    public var uidValidity: UInt32
    public var modSeq: UInt64
    public var knownUIDs: SequenceSet?
    public var sequenceMatch: (sequences: SequenceSet, uids: SequenceSet)? {
        get { sequenceMatchSequences.map { ($0, sequenceMatchUIDs!) } }
        set { sequenceMatchSequences = newValue?.sequences; sequenceMatchUIDs = newValue?.uids }
    }
    private var sequenceMatchSequences: SequenceSet?
    private var sequenceMatchUIDs: SequenceSet?

    public init(uidValidity: UInt32, modSeq: UInt64, knownUIDs: SequenceSet? = nil,
                sequenceMatch: (SequenceSet, SequenceSet)? = nil) {
        self.uidValidity = uidValidity
        self.modSeq = modSeq
        self.knownUIDs = knownUIDs
        self.sequenceMatchSequences = sequenceMatch?.0
        self.sequenceMatchUIDs = sequenceMatch?.1
    }
}

/// LIST, with the LIST-EXTENDED (RFC 5258) options and LIST-STATUS (RFC 5819).
public struct ListCommand: Sendable, Equatable {
    public var reference: String
    /// One pattern, or several in parentheses (LIST-EXTENDED).
    public var patterns: [String]
    /// Upper-cased: SUBSCRIBED, REMOTE, RECURSIVEMATCH, SPECIAL-USE.
    public var selectionOptions: [String]
    /// Upper-cased: SUBSCRIBED, CHILDREN, SPECIAL-USE; STATUS is given separately.
    public var returnOptions: [String]
    /// `RETURN (STATUS (...))`, RFC 5819.
    public var returnStatus: [StatusItem]?
    /// `RETURN (METADATA (...))`, RFC 9590.
    public var returnMetadata: ListMetadata?

    public init(reference: String, patterns: [String], selectionOptions: [String] = [],
                returnOptions: [String] = [], returnStatus: [StatusItem]? = nil, returnMetadata: ListMetadata? = nil) {
        self.reference = reference
        self.patterns = patterns
        self.selectionOptions = selectionOptions
        self.returnOptions = returnOptions
        self.returnStatus = returnStatus
        self.returnMetadata = returnMetadata
    }
}

/// STATUS data items. RFC 9051 §6.3.11; HIGHESTMODSEQ from RFC 7162, APPENDLIMIT from RFC 7889.
public enum StatusItem: String, Sendable, Equatable, CaseIterable {
    case messages = "MESSAGES"
    case uidNext = "UIDNEXT"
    case uidValidity = "UIDVALIDITY"
    case unseen = "UNSEEN"
    case deleted = "DELETED"
    case size = "SIZE"
    case recent = "RECENT"
    case highestModSeq = "HIGHESTMODSEQ"
    case appendLimit = "APPENDLIMIT"
    /// OBJECTID, RFC 8474 §4.
    case mailboxID = "MAILBOXID"
    /// RFC 9208 §4.4: storage of the `\Deleted` messages, in units of 1024 octets.
    case deletedStorage = "DELETED-STORAGE"
}

/// One message of an APPEND.
public struct AppendMessage: Sendable, Equatable {
    /// Flag names as sent, such as `\Seen` or `$Forwarded`.
    public var flags: [String]
    public var internalDate: IMAPDateTime?
    public var data: [UInt8]
    /// Sent as `literal8` (`~{n}`, RFC 3516): may hold NUL bytes.
    public var isBinary: Bool
    /// RFC 4469: the message is built from these parts instead (`data` is then empty).
    public var catenate: [CatenatePart]?

    public init(flags: [String] = [], internalDate: IMAPDateTime? = nil, data: [UInt8], isBinary: Bool = false,
                catenate: [CatenatePart]? = nil) {
        self.flags = flags
        self.internalDate = internalDate
        self.data = data
        self.isBinary = isBinary
        self.catenate = catenate
    }
}

/// One part of `CATENATE (...)`: text sent in the command, or an IMAP URL of a message or
/// section already on the server, as sent (RFC 4469 §5).
public enum CatenatePart: Sendable, Equatable {
    case text([UInt8])
    case url(String)
}

/// An IMAP `date-time`: `"17-Jul-1996 02:44:25 -0700"`. RFC 9051 §9.
public struct IMAPDateTime: Sendable, Equatable {
    public var year: Int, month: Int, day: Int
    public var hour: Int, minute: Int, second: Int
    /// Minutes east of UTC.
    public var zoneMinutes: Int

    public init(year: Int, month: Int, day: Int, hour: Int, minute: Int, second: Int, zoneMinutes: Int) {
        self.year = year; self.month = month; self.day = day
        self.hour = hour; self.minute = minute; self.second = second
        self.zoneMinutes = zoneMinutes
    }
}

/// An IMAP `date` (SEARCH BEFORE/ON/SINCE...): `1-Feb-1994`.
public struct IMAPDate: Sendable, Equatable, Comparable {
    public var year: Int, month: Int, day: Int
    public init(year: Int, month: Int, day: Int) {
        self.year = year; self.month = month; self.day = day
    }
    public static func < (a: Self, b: Self) -> Bool { (a.year, a.month, a.day) < (b.year, b.month, b.day) }
}

/// A sequence set: message sequence numbers or UIDs. RFC 9051 §9 `sequence-set`.
public struct SequenceSet: Sendable, Equatable {
    public var ranges: [SequenceRange]
    /// `$`: the saved search result (SEARCHRES, RFC 5182).
    public var isSavedResult: Bool

    public init(_ ranges: [SequenceRange]) {
        self.ranges = ranges
        self.isSavedResult = false
    }

    public static let savedResult: SequenceSet = {
        var s = SequenceSet([])
        s.isSavedResult = true
        return s
    }()
}

/// `a`, `a:b` or with `*`. The bounds are as sent: `5:2` is the same as `2:5`.
public struct SequenceRange: Sendable, Equatable {
    public var first: SequenceNumber
    public var last: SequenceNumber
    public init(_ first: SequenceNumber, _ last: SequenceNumber) {
        self.first = first
        self.last = last
    }
    public init(_ single: SequenceNumber) { self.init(single, single) }
}

/// A number in a sequence set, or `*` (the largest number in use).
public enum SequenceNumber: Sendable, Equatable {
    case number(UInt32)
    case last
}

/// SEARCH: charset, ESEARCH return options and the key. RFC 9051 §6.4.4, RFC 4731.
public struct SearchCommand: Sendable, Equatable {
    public var charset: String?
    /// nil without `RETURN`; `RETURN ()` gives `[.all]` per RFC 4731 §3.1.
    public var returnOptions: [SearchReturnOption]?
    /// `RETURN (PARTIAL range)`, RFC 9394.
    public var partial: PartialRange?
    /// The criteria, ANDed together.
    public var key: SearchKey

    public init(charset: String? = nil, returnOptions: [SearchReturnOption]? = nil, partial: PartialRange? = nil,
                key: SearchKey) {
        self.charset = charset
        self.returnOptions = returnOptions
        self.partial = partial
        self.key = key
    }
}

public enum SearchReturnOption: String, Sendable, Equatable {
    case min = "MIN", max = "MAX", all = "ALL", count = "COUNT", save = "SAVE"
    /// RFC 5267 §4: keep the result current with ADDTO and REMOVEFROM; a hint only.
    case update = "UPDATE", context = "CONTEXT"
}

/// A window of a result (RFC 9394): counted from the first match (`1:100`) or from the last
/// (`-1:-100`, where -1 is the last). Kept with `first <= last`; `500:400` is `400:500`.
public struct PartialRange: Sendable, Equatable, CustomStringConvertible {
    public var first: UInt32
    public var last: UInt32
    public var fromEnd: Bool

    public init(_ a: UInt32, _ b: UInt32, fromEnd: Bool = false) {
        first = min(a, b)
        last = max(a, b)
        self.fromEnd = fromEnd
    }

    /// `partial-range` as written in a response.
    public var description: String { fromEnd ? "-\(first):-\(last)" : "\(first):\(last)" }

    /// The positions, in a result of `count` items, that the window covers (maybe none).
    public func window(count: Int) -> Range<Int> {
        if fromEnd { return max(0, count - Int(last))..<max(0, count - Int(first) + 1) }
        return min(count, Int(first) - 1)..<min(count, Int(last))
    }
}

/// A search key. RFC 9051 §6.4.4, plus the RFC 3501 keys IMAP4rev1 clients send and the
/// CONDSTORE (RFC 7162) and WITHIN (RFC 5032) keys.
public indirect enum SearchKey: Sendable, Equatable {
    case all
    case answered, deleted, draft, flagged, seen
    case unanswered, undeleted, undraft, unflagged, unseen
    /// IMAP4rev1 only.
    case new, old, recent
    case keyword(String), unkeyword(String)
    case bcc(String), cc(String), from(String), to(String), subject(String)
    case body(String), text(String)
    case header(String, String)
    case before(IMAPDate), on(IMAPDate), since(IMAPDate)
    case sentBefore(IMAPDate), sentOn(IMAPDate), sentSince(IMAPDate)
    case larger(Int), smaller(Int)
    case uid(SequenceSet)
    case sequenceSet(SequenceSet)
    case not(SearchKey)
    case or(SearchKey, SearchKey)
    /// A parenthesized list, or the top-level list of keys.
    case and([SearchKey])
    /// `MODSEQ [entry-name entry-type] n`; the entry is ignored.
    case modSeq(UInt64)
    /// WITHIN: seconds.
    case older(Int), younger(Int)
    /// OBJECTID (RFC 8474 §6): EMAILID and THREADID.
    case emailID(String), threadID(String)
    /// SAVEDATE (RFC 8514 §4): SAVEDBEFORE, SAVEDON, SAVEDSINCE and SAVEDATESUPPORTED.
    case savedBefore(IMAPDate), savedOn(IMAPDate), savedSince(IMAPDate)
    case saveDateSupported
}

/// A FETCH data item. RFC 9051 §6.4.5. ALL, FAST and FULL are expanded by the parser.
public enum FetchAttribute: Sendable, Equatable {
    case envelope
    case flags
    case internalDate
    case rfc822Size
    case uid
    /// BODY (no extension data).
    case body
    case bodyStructure
    /// RFC822, RFC822.HEADER and RFC822.TEXT (IMAP4rev1 forms; answered under their own names).
    case rfc822, rfc822Header, rfc822Text
    /// BODY[section]<partial> and BODY.PEEK[...].
    case bodySection(SectionSpec, partial: Partial?, peek: Bool)
    /// BINARY[part]<partial> and BINARY.PEEK[...] (RFC 3516).
    case binary(part: [Int], partial: Partial?, peek: Bool)
    case binarySize(part: [Int])
    case modSeq
    /// OBJECTID (RFC 8474).
    case emailID, threadID
    /// SAVEDATE (RFC 8514).
    case saveDate
    /// PREVIEW (RFC 8970); `lazy` for `PREVIEW (LAZY)`.
    case preview(lazy: Bool)
}

/// `<offset.length>` of a partial fetch.
public struct Partial: Sendable, Equatable {
    public var offset: Int
    public var length: Int
    public init(offset: Int, length: Int) {
        self.offset = offset
        self.length = length
    }
}

/// FETCH modifiers: CHANGEDSINCE and VANISHED (RFC 7162).
public struct FetchModifiers: Sendable, Equatable {
    public var changedSince: UInt64?
    public var vanished = false
    /// RFC 9394: only this window of the messages the FETCH would answer for, in UID order.
    public var partial: PartialRange?
    public init(changedSince: UInt64? = nil, vanished: Bool = false, partial: PartialRange? = nil) {
        self.changedSince = changedSince
        self.vanished = vanished
        self.partial = partial
    }
}

/// STORE: `FLAGS`, `+FLAGS` or `-FLAGS`, optionally `.SILENT`, and UNCHANGEDSINCE (RFC 7162).
public struct StoreAction: Sendable, Equatable {
    public enum Operation: Sendable, Equatable { case replace, add, remove }
    public var operation: Operation
    public var silent: Bool
    /// Flag names as sent.
    public var flags: [String]
    public var unchangedSince: UInt64?

    public init(operation: Operation, silent: Bool = false, flags: [String], unchangedSince: UInt64? = nil) {
        self.operation = operation
        self.silent = silent
        self.flags = flags
        self.unchangedSince = unchangedSince
    }
}
