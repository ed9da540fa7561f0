import MailStore

/// The maildrop of a POP3 session: the user's INBOX as it stood at login (RFC 1939 §4).
/// Message numbers and sizes stay fixed for the session; deletions are only marked until QUIT.
public struct Maildrop: Sendable {
    public struct Message: Sendable, Equatable {
        public var uid: UID
        /// Octets as RETR sends them, before dot-stuffing: the stored CRLF form.
        public var size: Int
        public var content: ContentID
    }

    public let account: AccountID
    public let mailbox: MailboxID
    public let uidValidity: UInt32
    public let messages: [Message]
    public private(set) var deleted = Set<Int>()
    /// Messages sent with RETR or TOP, marked `\Seen` at QUIT (as Dovecot does).
    public private(set) var retrieved = Set<Int>()

    public init(account: AccountID, mailbox: MailboxID, uidValidity: UInt32, messages: [Message]) {
        self.account = account
        self.mailbox = mailbox
        self.uidValidity = uidValidity
        self.messages = messages
    }

    /// The message with 1-based number `n`, unless it is out of range or deleted.
    public func message(_ n: Int) -> Message? {
        guard n >= 1, n <= messages.count, !deleted.contains(n) else { return nil }
        return messages[n - 1]
    }

    /// A UIDL value: UID and UIDVALIDITY in hex, like Dovecot's default `%08Xu%08Xv`; stable
    /// across sessions and restarts (RFC 1939 §7: 1 to 70 printable characters).
    public func uniqueID(_ m: Message) -> String { Self.hex8(m.uid.rawValue) + Self.hex8(uidValidity) }

    static func hex8(_ v: UInt32) -> String {
        let s = String(v, radix: 16, uppercase: true)
        return String(repeating: "0", count: 8 - s.count) + s
    }

    /// STAT: count and octets of the messages not marked deleted.
    public var stat: (count: Int, octets: Int) {
        var count = 0, octets = 0
        for (i, m) in messages.enumerated() where !deleted.contains(i + 1) {
            count += 1
            octets += m.size
        }
        return (count, octets)
    }

    public mutating func delete(_ n: Int) -> Bool {
        guard message(n) != nil else { return false }
        deleted.insert(n)
        return true
    }

    public mutating func markRetrieved(_ n: Int) { retrieved.insert(n) }

    public mutating func reset() { deleted.removeAll() }

    /// UIDs to expunge at QUIT, and UIDs to mark `\Seen`.
    public var updates: (expunge: [UID], seen: [UID]) {
        (deleted.sorted().map { messages[$0 - 1].uid },
         retrieved.subtracting(deleted).sorted().map { messages[$0 - 1].uid })
    }
}
