/// Limits of the LMTP and SMTP front ends.
public enum SMTPLimits {
    /// RFC 5321 §4.5.3.1.4: a command line is at most 512 octets with its CRLF. We count the line
    /// without CRLF against this, which leaves two octets of slack.
    public static let maxCommandLineLength = 512
    /// RFC 5321 §4.5.3.1.6 allows 1000-octet text lines; real mail breaks that, so message lines
    /// may be this long (without CRLF). It is the framer's limit, and stays well below its
    /// buffering high-water mark.
    public static let maxDataLineLength = 64 * 1024
    /// The largest message accepted, advertised as `SIZE` (RFC 1870 §4); counted with CRLFs.
    public static let maxMessageSize = 64 << 20
    /// RFC 5321 §4.5.3.1.8 requires room for at least 100 recipients; more get `452 4.5.3`.
    public static let maxRecipients = 1000
    /// The body buffer reserved up front from an announced SIZE, at most.
    static let maxReservation = 1 << 20
    /// A message takes the server's message buffer (`BufferBudget`) in steps of at least this.
    static let bufferHoldStep = 256 << 10
}
