import MailStore

/// One mail transaction in progress: from MAIL FROM to the end of the data (RFC 5321 §3.3).
struct SMTPEnvelope {
    /// The reverse-path; empty for `<>`.
    let sender: String
    let parameters: MailParameters
    /// Accepted recipients, in RCPT order.
    var recipients: [DeliveryAddress] = []
    /// The message as received, dot-stuffing undone, lines ending in CRLF.
    private(set) var body: [UInt8] = []
    /// Set once the data passed `SMTPLimits.maxMessageSize`: the rest is read and dropped.
    private(set) var tooLarge = false
    /// BDAT was used: DATA may not follow, nor BDAT follow DATA (RFC 3030 §2).
    var chunked = false

    init(sender: String, parameters: MailParameters) {
        self.sender = sender
        self.parameters = parameters
        body.reserveCapacity(min(parameters.size ?? 0, SMTPLimits.maxReservation))
    }

    /// Adds message bytes, or drops them once the message is too large.
    mutating func append<C: Collection<UInt8>>(_ bytes: C, lineEnd: Bool) {
        guard !tooLarge else { return }
        if body.count + bytes.count + (lineEnd ? 2 : 0) > SMTPLimits.maxMessageSize {
            tooLarge = true
            body = []
            return
        }
        body.append(contentsOf: bytes)
        if lineEnd {
            body.append(13)
            body.append(10)
        }
    }

    /// Drops the data but keeps the envelope: after a refused chunk.
    mutating func discardData() {
        body = []
        tooLarge = false
        chunked = false
    }
}
