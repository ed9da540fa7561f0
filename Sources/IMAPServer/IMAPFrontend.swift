import NIOCore
import ServerSupport
import IMAPProtocol

/// The IMAP front end: `imap` and `imaps` listeners.
public struct IMAPFrontend: Frontend {
    public let protocolName = "imap"
    private let caches = MailboxCaches()

    public init() {}

    public func initialize(channel: any Channel, connection: Connection) -> EventLoopFuture<Void> {
        channel.eventLoop.makeCompletedFuture {
            let framer = LineFramer(maxLineLength: IMAPLimits.maxLineLength)
            let idle = connection.services.config.limits.imapIdleTimeout
            try channel.pipeline.syncOperations.addHandlers([
                IdleStateHandler(readTimeout: .nanoseconds(idle.nanoseconds)),
                framer,
                IMAPHandler(connection: connection, framer: framer, caches: caches),
            ])
        }
    }

    public func refusal(_ reason: String) -> String { "* BYE [UNAVAILABLE] \(reason)\r\n" }
}
