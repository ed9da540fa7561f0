import MailStore
import ServerSupport

/// One mail transaction in progress: from MAIL FROM to the end of the data (RFC 5321 §3.3).
struct SMTPEnvelope {
    /// The reverse-path; empty for `<>`.
    let sender: String
    let parameters: MailParameters
    /// Accepted recipients, in RCPT order.
    var recipients: [DeliveryAddress] = []
    /// The message as received, dot-stuffing undone, lines ending in CRLF.
    private(set) var body: [UInt8] = []
    /// Set once the data is refused (too large, or no room in the server's buffers): the rest
    /// is read and dropped, and the transaction gets this answer.
    private(set) var dropped: DataRefusal?
    /// BDAT was used: DATA may not follow, nor BDAT follow DATA (RFC 3030 §2).
    var chunked = false
    /// The part of the server's message buffer the body holds.
    private let hold: BufferHold

    enum DataRefusal {
        case tooLarge, noRoom

        var reply: String {
            switch self {
            case .tooLarge: "552 5.3.4 Message size exceeds fixed maximum message size"
            case .noRoom: "452 4.3.1 Insufficient system storage, try again later"
            }
        }
    }

    init(sender: String, parameters: MailParameters, hold: BufferHold) {
        self.sender = sender
        self.parameters = parameters
        self.hold = hold
        body.reserveCapacity(min(parameters.size ?? 0, SMTPLimits.maxReservation))
    }

    /// Adds message bytes, or drops them once the message is refused.
    mutating func append<C: Collection<UInt8>>(_ bytes: C, lineEnd: Bool) {
        guard dropped == nil else { return }
        let size = body.count + bytes.count + (lineEnd ? 2 : 0)
        if size > SMTPLimits.maxMessageSize { return drop(.tooLarge) }
        if size > hold.bytes && !hold.grow(by: max(size - hold.bytes, SMTPLimits.bufferHoldStep)) { return drop(.noRoom) }
        body.append(contentsOf: bytes)
        if lineEnd {
            body.append(13)
            body.append(10)
        }
    }

    private mutating func drop(_ refusal: DataRefusal) {
        dropped = refusal
        body = []
        hold.release()
    }
}
