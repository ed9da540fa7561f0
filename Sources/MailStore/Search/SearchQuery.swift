import MailMessage

/// A search over one mailbox's messages, free of any protocol's syntax. Front ends translate
/// their own keys (IMAP SEARCH, the CLI) into this; sequence numbers and session state such as
/// `\Recent` become UID sets first.
public indirect enum SearchQuery: Sendable, Equatable {
    case all
    /// Messages whose UID is in one of the ranges. No ranges: no message.
    case uids([ClosedRange<UInt32>])
    /// Messages with every flag of the set.
    case flags(MessageFlags)
    /// Messages with the keyword (compared without regard to case).
    case keyword(String)
    /// RFC822.SIZE larger / smaller than the number.
    case larger(Int)
    case smaller(Int)
    /// The internal date's day, in the zone it was recorded in.
    case internalDate(DateTest)
    /// The Date: header's day in its own zone; the internal date when there is no usable one.
    case sentDate(DateTest)
    /// The save date's day, in UTC (RFC 8514).
    case saveDate(DateTest)
    /// Internal date at or before / at or after an instant in seconds since 1970 (RFC 5032).
    case receivedAtOrBefore(Int64)
    case receivedAtOrAfter(Int64)
    /// Modseq at least the number (RFC 7162).
    case modSeq(atLeast: UInt64)
    case emailID(EmailID)
    case threadID(ThreadID)
    /// The field's text contains the string, without regard to case.
    case text(TextField, String)
    /// A header field of this name contains the string; an empty string asks only for the field.
    case header(name: String, String)
    case not(SearchQuery)
    case and([SearchQuery])
    case or(SearchQuery, SearchQuery)

    /// A day comparison; days are counted from 1970-01-01.
    public enum DateTest: Sendable, Equatable {
        case before(day: Int)
        case on(day: Int)
        case since(day: Int)

        func matches(_ day: Int) -> Bool {
            switch self {
            case .before(let d): day < d
            case .on(let d): day == d
            case .since(let d): day >= d
            }
        }
    }

    /// The text a `.text` key looks at.
    public enum TextField: Sendable, Equatable, CaseIterable {
        case from, to, cc, bcc, subject
        /// The decoded text bodies and attachment names.
        case body
        /// The header section and the body.
        case text

        /// The document fields whose union is this field's text.
        var documentFields: [SearchDocument.Field] {
            switch self {
            case .from: [.from]
            case .to: [.to]
            case .cc: [.cc]
            case .bcc: [.bcc]
            case .subject: [.subject]
            case .body: [.body]
            case .text: [.header, .body]
            }
        }
    }
}

/// What a search found, and how.
public struct SearchOutcome: Sendable {
    /// The matching messages' UIDs, ascending.
    public var uids: [UID]
    /// The matching messages' records, in the same order; empty unless the search asked for them.
    public var records: [MessageRecord]
    /// How the planner answered: which keys used the index and which needed a scan.
    public var plan: String
    /// How many messages had their content read to check a key.
    public var contentReads: Int
}
