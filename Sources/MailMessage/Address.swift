/// One address of an envelope address list, shaped as RFC 9051 §7.5.2 wants it.
///
/// A group is a start marker (`mailbox` holds the group name, `host` is nil) followed by its
/// members and an end marker (every field nil). Strings are raw: encoded words are not decoded.
/// An address without a domain gets an empty `host`, so it is never mistaken for a group marker.
public struct Address: Sendable, Equatable {
    /// The display name (quotes removed), or nil.
    public var name: String?
    /// The obsolete source route ("@a,@b"), or nil. RFC 5322 §4.4.
    public var route: String?
    /// The local part, or the group name of a group start marker.
    public var mailbox: String?
    /// The domain, or nil for group markers.
    public var host: String?

    public init(name: String? = nil, route: String? = nil, mailbox: String? = nil, host: String? = nil) {
        self.name = name
        self.route = route
        self.mailbox = mailbox
        self.host = host
    }

    /// The start marker of a group named `name`.
    public static func groupStart(_ name: String) -> Address { Address(mailbox: name) }

    /// The end marker of a group.
    public static let groupEnd = Address()

    /// Whether this marks the start of a group.
    public var isGroupStart: Bool { host == nil && mailbox != nil }

    /// Whether this marks the end of a group.
    public var isGroupEnd: Bool { host == nil && mailbox == nil }

    /// The display name with encoded words decoded.
    public var decodedName: String? { name.map(EncodedWords.decode) }

    /// "mailbox@host", or the mailbox alone when there is no domain.
    public var addressSpec: String {
        guard let mailbox else { return "" }
        guard let host, !host.isEmpty else { return mailbox }
        return mailbox + "@" + host
    }

    /// "Name <mailbox@host>" with the name decoded, for display and search.
    public var displayString: String {
        if isGroupStart { return (mailbox.map(EncodedWords.decode) ?? "") + ":" }
        if isGroupEnd { return ";" }
        guard let n = decodedName, !n.isEmpty else { return addressSpec }
        return n + " <" + addressSpec + ">"
    }
}
