/// A media type with its parameters, from Content-Type. RFC 2045 §5.1.
public struct ContentType: Sendable, Equatable {
    /// The top-level type, lowercased ("text").
    public var type: String
    /// The subtype, lowercased ("plain").
    public var subtype: String
    /// The parameters in order, names lowercased, RFC 2231 continuations joined and charsets decoded.
    public var parameters: [MIMEParameter]

    public init(type: String, subtype: String, parameters: [MIMEParameter] = []) {
        self.type = type
        self.subtype = subtype
        self.parameters = parameters
    }

    /// The default for a missing or invalid Content-Type: text/plain; charset=us-ascii. RFC 2045 §5.2.
    public static let textPlainDefault = ContentType(
        type: "text", subtype: "plain", parameters: [MIMEParameter(name: "charset", value: "us-ascii")])

    /// The default inside multipart/digest: message/rfc822. RFC 2046 §5.1.5.
    public static let digestDefault = ContentType(type: "message", subtype: "rfc822")

    /// The value of the first parameter named `name` (lowercase), or nil.
    public func parameter(_ name: String) -> String? {
        parameters.first { $0.name == name }?.value
    }

    /// Whether this is message/rfc822 or message/global (RFC 6532 §3.5), which encapsulate a message.
    public var isEncapsulatedMessage: Bool {
        type == "message" && (subtype == "rfc822" || subtype == "global")
    }
}

/// One MIME parameter: a lowercased name and its decoded value.
public struct MIMEParameter: Sendable, Equatable {
    public var name: String
    public var value: String

    public init(name: String, value: String) {
        self.name = name
        self.value = value
    }
}

/// A Content-Disposition value: the disposition type and its parameters. RFC 2183.
public struct ContentDisposition: Sendable, Equatable {
    /// The disposition type, lowercased ("inline", "attachment").
    public var type: String
    /// The parameters, as for `ContentType.parameters`.
    public var parameters: [MIMEParameter]

    public init(type: String, parameters: [MIMEParameter] = []) {
        self.type = type
        self.parameters = parameters
    }

    /// The value of the first parameter named `name` (lowercase), or nil.
    public func parameter(_ name: String) -> String? {
        parameters.first { $0.name == name }?.value
    }
}
