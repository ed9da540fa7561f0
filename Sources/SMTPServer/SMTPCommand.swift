/// An LMTP or SMTP command (RFC 5321 §4.1.1, RFC 2033 §4.1, RFC 3030 §2, RFC 3207 §4).
public enum SMTPCommand: Equatable, Sendable {
    /// HELO, EHLO or LHLO with the client's name.
    case hello(HelloVerb, domain: String)
    /// `MAIL FROM:<path>`; the path is empty for the null reverse-path `<>`.
    case mail(from: String, MailParameters)
    /// `RCPT TO:<path>`.
    case rcpt(to: String)
    case data
    /// `BDAT size [LAST]` (RFC 3030 §2): `size` octets of message data follow the line.
    case bdat(size: Int, last: Bool)
    case rset
    case noop
    case quit
    case vrfy(String)
    case help
    case startTLS

    /// The command's keyword, for logs and metrics.
    public var keyword: String {
        switch self {
        case .hello(let verb, _): verb.rawValue
        case .mail: "MAIL"
        case .rcpt: "RCPT"
        case .data: "DATA"
        case .bdat: "BDAT"
        case .rset: "RSET"
        case .noop: "NOOP"
        case .quit: "QUIT"
        case .vrfy: "VRFY"
        case .help: "HELP"
        case .startTLS: "STARTTLS"
        }
    }
}

/// The greeting verbs: HELO and EHLO for SMTP (RFC 5321 §4.1.1.1), LHLO for LMTP (RFC 2033 §4.1).
public enum HelloVerb: String, Sendable {
    case helo = "HELO"
    case ehlo = "EHLO"
    case lhlo = "LHLO"
}

/// The `BODY` parameter of MAIL FROM (RFC 6152 §2, RFC 3030 §3).
public enum BodyType: String, Sendable {
    case sevenBit = "7BIT"
    case eightBitMIME = "8BITMIME"
    case binaryMIME = "BINARYMIME"
}

/// The MAIL FROM parameters we support.
public struct MailParameters: Equatable, Sendable {
    /// The announced message size (RFC 1870 §3); `Int.max` when the number is too large to hold.
    public var size: Int?
    public var body: BodyType?
    /// RFC 6531 §3.4: the message and envelope may hold UTF-8.
    public var smtpUTF8 = false

    public init(size: Int? = nil, body: BodyType? = nil, smtpUTF8: Bool = false) {
        self.size = size
        self.body = body
        self.smtpUTF8 = smtpUTF8
    }
}

/// Why a line is not a valid command: the whole reply to send (RFC 5321 §4.2, RFC 3463 codes).
public struct SMTPParseError: Error, Equatable, Sendable {
    public var reply: String

    /// `500 5.5.1`: not a command we know.
    static let unrecognized = SMTPParseError(reply: "500 5.5.1 Command unrecognized")
    /// `501 5.5.4`: the arguments are wrong.
    static func arguments(_ why: String) -> SMTPParseError { SMTPParseError(reply: "501 5.5.4 \(why)") }
    /// `501 5.1.7` / `501 5.1.3`: the address is malformed (RFC 3463 §3.2).
    static func address(_ why: String, sender: Bool) -> SMTPParseError {
        SMTPParseError(reply: "501 \(sender ? "5.1.7" : "5.1.3") \(why)")
    }
    /// `555 5.5.4`: a MAIL or RCPT parameter we do not support (RFC 5321 §4.1.1.11).
    static func parameter(_ name: String) -> SMTPParseError {
        SMTPParseError(reply: "555 5.5.4 Unsupported parameter \(name)")
    }
}
