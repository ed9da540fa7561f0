/// The ENVELOPE of a message, field for field as RFC 9051 §7.5.2 defines it.
///
/// Strings are the raw header values, unfolded but not decoded, as IMAP sends them; the
/// `decoded…` accessors give display forms. Per RFC 9051 §7.5.2, `sender` and `replyTo` already
/// hold `from` when their header fields are absent or empty, so a renderer prints them as they are.
public struct Envelope: Sendable, Equatable {
    public var date: String?
    public var subject: String?
    public var from: [Address]
    public var sender: [Address]
    public var replyTo: [Address]
    public var to: [Address]
    public var cc: [Address]
    public var bcc: [Address]
    public var inReplyTo: String?
    public var messageID: String?

    public init(
        date: String? = nil, subject: String? = nil, from: [Address] = [], sender: [Address] = [],
        replyTo: [Address] = [], to: [Address] = [], cc: [Address] = [], bcc: [Address] = [],
        inReplyTo: String? = nil, messageID: String? = nil
    ) {
        self.date = date
        self.subject = subject
        self.from = from
        self.sender = sender
        self.replyTo = replyTo
        self.to = to
        self.cc = cc
        self.bcc = bcc
        self.inReplyTo = inReplyTo
        self.messageID = messageID
    }

    /// The subject with RFC 2047 encoded words decoded.
    public var decodedSubject: String? { subject.map(EncodedWords.decode) }

    /// The parsed Date, or nil when it is absent or invalid.
    public var parsedDate: MessageDate? { date.flatMap(MessageDate.init(parsing:)) }
}
