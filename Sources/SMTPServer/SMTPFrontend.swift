import NIOCore
import ServerSupport

/// The SMTP front end (RFC 5321): the `smtp` listener, for mail to local users and local
/// domains only; it never relays.
public struct SMTPFrontend: Frontend {
    public let protocolName = "smtp"

    public init() {}

    public func initialize(channel: any Channel, connection: Connection) -> EventLoopFuture<Void> {
        SMTPDialect.smtp.initialize(channel: channel, connection: connection)
    }

    public func refusal(_ reason: String) -> String { "421 4.3.2 \(reason)\r\n" }
}
