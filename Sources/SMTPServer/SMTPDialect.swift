import NIOCore
import ServerSupport

/// Which of the two protocols a connection speaks. They share one session; they differ in
/// the greeting verb, in the replies after the message data, and in who may be a recipient.
public enum SMTPDialect: Sendable {
    /// RFC 2033: LHLO, and one reply per accepted recipient after the data; any local user.
    case lmtp
    /// RFC 5321: EHLO/HELO, one reply for the transaction; local users and local domains only.
    case smtp

    var protocolName: String {
        switch self {
        case .lmtp: "lmtp"
        case .smtp: "smtp"
        }
    }

    var banner: String {
        switch self {
        case .lmtp: "LMTP"
        case .smtp: "ESMTP"
        }
    }

    /// Installs the session's handlers: idle timeout, framer, session.
    func initialize(channel: any Channel, connection: Connection) -> EventLoopFuture<Void> {
        channel.eventLoop.makeCompletedFuture {
            // The framer's limit is the message-line limit; command lines are held to the
            // shorter one by the session.
            let framer = LineFramer(maxLineLength: SMTPLimits.maxDataLineLength)
            let idle = connection.services.config.limits.smtpIdleTimeout
            try channel.pipeline.syncOperations.addHandlers([
                IdleStateHandler(readTimeout: .nanoseconds(idle.nanoseconds)),
                framer,
                SMTPHandler(dialect: self, connection: connection, framer: framer),
            ])
        }
    }
}
