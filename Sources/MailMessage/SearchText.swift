/// Decoded text of a message for the search index.
public struct SearchText: Sendable, Equatable {
    /// From addresses, "Name <addr>" with names decoded, comma separated.
    public var from: String
    /// To addresses, as `from`.
    public var to: String
    /// Cc addresses, as `from`.
    public var cc: String
    /// Bcc addresses, as `from`.
    public var bcc: String
    /// The subject, encoded words decoded.
    public var subject: String
    /// Decoded text/plain bodies and text/html bodies without markup, in part order.
    public var bodies: [String]
    /// File names of attachments, decoded.
    public var attachmentNames: [String]

    public init(
        from: String = "", to: String = "", cc: String = "", bcc: String = "", subject: String = "",
        bodies: [String] = [], attachmentNames: [String] = []
    ) {
        self.from = from
        self.to = to
        self.cc = cc
        self.bcc = bcc
        self.subject = subject
        self.bodies = bodies
        self.attachmentNames = attachmentNames
    }
}
