import NIOCore
import ServerSupport

/// The LMTP front end (RFC 2033): the `lmtp` listener, where an MTA hands mail to the store.
public struct LMTPFrontend: Frontend {
    public let protocolName = "lmtp"

    public init() {}

    public func initialize(channel: any Channel, connection: Connection) -> EventLoopFuture<Void> {
        SMTPDialect.lmtp.initialize(channel: channel, connection: connection)
    }

    public func refusal(_ reason: String) -> String { "421 4.3.2 \(reason)\r\n" }
}
