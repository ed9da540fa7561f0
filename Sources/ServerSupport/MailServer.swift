import Logging
import NIOConcurrencyHelpers
import NIOCore
import NIOPosix
import NIOSSL

/// Binds the configured listeners, hands each connection to its front end, enforces the
/// connection limits, and shuts down cleanly.
public final class MailServer: Sendable {
    private let services: ServerServices
    private let frontends: [String: any Frontend]
    private let group: any EventLoopGroup
    private let state = NIOLockedValueBox(State())

    private struct State {
        var listeners: [any Channel] = []
        var connections: [ObjectIdentifier: any Channel] = [:]
        var perIP: [String: Int] = [:]
    }

    public init(services: ServerServices, frontends: [any Frontend], group: any EventLoopGroup) {
        self.services = services
        self.frontends = Dictionary(uniqueKeysWithValues: frontends.map { ($0.protocolName, $0) })
        self.group = group
    }

    /// Whether a front end exists for a listener's protocol.
    public func serves(_ listener: ListenerConfig) -> Bool { frontends[listener.baseProtocol] != nil }

    /// Binds one listener and returns the address it is bound to (useful with port 0).
    public func bind(_ listener: ListenerConfig) async throws -> SocketAddress {
        guard let frontend = frontends[listener.baseProtocol] else {
            throw ConfigError("no front end for \(listener.protocolName)")
        }
        if listener.implicitTLS && services.tls == nil {
            throw ConfigError("\(listener.protocolName) needs --tls-cert and --tls-key")
        }
        let channel = try await ServerBootstrap(group: group)
            .serverChannelOption(.backlog, value: 256)
            .serverChannelOption(.socketOption(.so_reuseaddr), value: 1)
            .childChannelOption(.socketOption(.tcp_nodelay), value: 1)
            .childChannelOption(.autoRead, value: true)
            .childChannelInitializer { [self] channel in
                self.accept(channel, listener: listener, frontend: frontend)
            }
            .bind(host: listener.host, port: listener.port).get()
        state.withLockedValue { $0.listeners.append(channel) }
        guard let address = channel.localAddress else { throw ConfigError("\(listener.protocolName): no local address") }
        return address
    }

    private func accept(_ channel: any Channel, listener: ListenerConfig, frontend: any Frontend) -> EventLoopFuture<Void> {
        let connection = Connection(remote: channel.remoteAddress, services: services,
                                    protocolName: listener.protocolName, isTLS: listener.implicitTLS)
        let limits = services.config.limits
        let ip = connection.remoteIP
        let admitted: Bool = state.withLockedValue { s in
            guard s.connections.count < limits.maxConnections, s.perIP[ip, default: 0] < limits.maxConnectionsPerIP else {
                return false
            }
            s.connections[ObjectIdentifier(channel)] = channel
            s.perIP[ip, default: 0] += 1
            return true
        }
        guard admitted else {
            services.metrics.connectionRefused(listener.protocolName)
            connection.logger.notice("refused: connection limit", metadata: ["ip": "\(ip)"])
            if listener.implicitTLS { return channel.close() }
            return channel.eventLoop.makeCompletedFuture {
                try channel.pipeline.syncOperations.addHandler(RefusalHandler(line: frontend.refusal("too many connections")))
            }
        }
        channel.closeFuture.whenComplete { [self] _ in
            self.state.withLockedValue { s in
                s.connections[ObjectIdentifier(channel)] = nil
                s.perIP[ip, default: 1] -= 1
                if s.perIP[ip] == 0 { s.perIP[ip] = nil }
            }
        }
        services.metrics.connectionOpened(listener.protocolName)
        connection.logger.info("connect", metadata: ["ip": "\(ip)"])
        do {
            if listener.implicitTLS, let tls = services.tls {
                try channel.pipeline.syncOperations.addHandler(NIOSSLServerHandler(context: tls))
            }
        } catch {
            return channel.eventLoop.makeFailedFuture(error)
        }
        return frontend.initialize(channel: channel, connection: connection)
    }

    /// The number of open client connections.
    public var connectionCount: Int { state.withLockedValue { $0.connections.count } }

    /// Stops accepting, then closes every connection. A POP3 session that never reached QUIT
    /// deletes nothing; writes in flight finish first because the store acknowledges only
    /// after commit.
    public func shutdown() async {
        let (listeners, connections) = state.withLockedValue { s in (s.listeners, Array(s.connections.values)) }
        for l in listeners { try? await l.close() }
        // Each session may say goodbye first (IMAP's `* BYE`); the close follows on the same
        // event loop, after the goodbye is written.
        // A close that does not finish (a TLS peer that never answers close_notify) must not
        // keep the daemon from exiting: each waits at most `shutdownCloseTimeout`.
        for c in connections {
            try? await c.eventLoop.flatSubmit {
                c.pipeline.fireUserInboundEventTriggered(ServerShutdownEvent())
                let done = c.eventLoop.makePromise(of: Void.self)
                let timeout = c.eventLoop.scheduleTask(in: Self.shutdownCloseTimeout) { done.succeed() }
                c.close().whenComplete { _ in
                    timeout.cancel()
                    done.succeed()
                }
                return done.futureResult
            }.get()
        }
    }

    /// How long shutdown waits for one connection to close before moving on.
    public static let shutdownCloseTimeout = TimeAmount.seconds(2)
}

/// Fired on every connection's pipeline just before the daemon closes it at shutdown.
public struct ServerShutdownEvent: Sendable {}

/// Sends one line as soon as the connection is up, then closes it.
private final class RefusalHandler: ChannelInboundHandler {
    typealias InboundIn = ByteBuffer
    typealias OutboundOut = ByteBuffer
    let line: String

    init(line: String) { self.line = line }

    func channelActive(context: ChannelHandlerContext) {
        var buffer = context.channel.allocator.buffer(capacity: line.utf8.count)
        buffer.writeString(line)
        let bound = NIOLoopBound(context, eventLoop: context.eventLoop)
        context.writeAndFlush(wrapOutboundOut(buffer)).whenComplete { _ in bound.value.close(promise: nil) }
    }

    func channelRead(context: ChannelHandlerContext, data: NIOAny) {}
}

/// Upgrades a live connection to TLS for STARTTLS/STLS (RFC 2595, RFC 3207, RFC 9051 §6.2.1).
public enum StartTLS {
    /// Refuses the upgrade when the client sent bytes after the command, before the handshake:
    /// they would be processed as if they came over TLS (the STARTTLS command-injection attack).
    /// Returns false in that case; the caller closes the connection.
    public static func upgrade(channel: any Channel, framer: LineFramer, connection: Connection) throws -> Bool {
        guard framer.bufferedBytes == 0 else { return false }
        guard let tls = connection.services.tls else { return false }
        try channel.pipeline.syncOperations.addHandler(NIOSSLServerHandler(context: tls), position: .first)
        connection.isTLS = true
        return true
    }
}
