import NIOCore
import ServerSupport

/// The POP3 front end: `pop3` and `pop3s` listeners.
public struct POP3Frontend: Frontend {
    public let protocolName = "pop3"
    private let locks = MaildropLocks()

    public init() {}

    public func initialize(channel: any Channel, connection: Connection) -> EventLoopFuture<Void> {
        channel.eventLoop.makeCompletedFuture {
            let framer = LineFramer(maxLineLength: POP3Limits.maxLineLength)
            let idle = connection.services.config.limits.pop3IdleTimeout
            try channel.pipeline.syncOperations.addHandlers([
                IdleStateHandler(readTimeout: .nanoseconds(idle.nanoseconds)),
                framer,
                POP3Handler(connection: connection, framer: framer, locks: locks),
            ])
        }
    }

    public func refusal(_ reason: String) -> String { "-ERR [SYS/TEMP] \(reason)\r\n" }
}
