import Logging
import MailStore
import NIOCore
import NIOPosix
import NIOSSL

/// What every front end shares for the life of the daemon.
public final class ServerServices: Sendable {
    public let store: MailStore
    /// Where store reads and password hashing run: never on an event loop.
    public let threadPool: NIOThreadPool
    public let config: ServerConfig
    /// Present when a certificate and key are configured.
    public let tls: NIOSSLContext?
    public let authThrottle: AuthThrottle
    public let authCache = AuthCache()
    public let metrics: ServerMetrics
    public let logger: Logger
    /// Incoming message bytes held by all connections (`Limits.maxBufferedMessageBytes`).
    public let messageBuffers: BufferBudget

    public init(store: MailStore, threadPool: NIOThreadPool, config: ServerConfig, logger: Logger) throws {
        self.store = store
        self.threadPool = threadPool
        self.config = config
        self.logger = logger
        if let cert = config.tlsCertificate, let key = config.tlsKey {
            do {
                let certificates = try NIOSSLCertificate.fromPEMFile(cert).map { NIOSSLCertificateSource.certificate($0) }
                let configuration = TLSConfiguration.makeServerConfiguration(
                    certificateChain: certificates, privateKey: .privateKey(try NIOSSLPrivateKey(file: key, format: .pem)))
                tls = try NIOSSLContext(configuration: configuration)
            } catch {
                throw ConfigError("cannot load TLS certificate \(cert) and key \(key): \(error)")
            }
        } else {
            tls = nil
        }
        authThrottle = AuthThrottle(baseDelay: config.limits.authFailureDelay, maxDelay: config.limits.authFailureMaxDelay)
        metrics = ServerMetrics()
        messageBuffers = BufferBudget(limit: config.limits.maxBufferedMessageBytes,
                                      perAddressLimit: config.limits.maxBufferedMessageBytesPerIP)
    }

    /// Runs blocking store or hashing work on the thread pool.
    public func offload<T: Sendable>(_ body: @escaping @Sendable () throws -> T) async throws -> T {
        try await threadPool.runIfActive(body)
    }

    /// Runs blocking store work on the thread pool and completes on `eventLoop`: one hop each
    /// way, with no task in between (the hot path of RETR and FETCH).
    public func offload<T: Sendable>(on eventLoop: any EventLoop, _ body: @escaping @Sendable () throws -> T) -> EventLoopFuture<T> {
        threadPool.runIfActive(eventLoop: eventLoop, body)
    }

    /// Runs `body` on the thread pool, handing it a promise on `eventLoop` that it completes
    /// itself, later and from another thread if it likes: the store's writer completes a
    /// delivery's straight to the event loop, with no task in between.
    public func offload<T: Sendable>(on eventLoop: any EventLoop,
                                     _ body: @escaping @Sendable (EventLoopPromise<T>) -> Void) -> EventLoopFuture<T> {
        let promise = eventLoop.makePromise(of: T.self)
        threadPool.submit { state in
            guard case .active = state else { return promise.fail(NIOThreadPoolError.ThreadPoolInactive()) }
            body(promise)
        }
        return promise.futureResult
    }
}

/// One client connection: its identity for logs, where it comes from, and whether it is on TLS.
/// Its mutable state belongs to the channel's event loop.
public final class Connection: @unchecked Sendable {
    /// A short id put on every log line of the session.
    public let id: String
    public let remote: SocketAddress?
    public let services: ServerServices
    public var logger: Logger
    /// Whether the connection is encrypted (implicit TLS or after STARTTLS/STLS). Event-loop only.
    public var isTLS: Bool

    init(remote: SocketAddress?, services: ServerServices, protocolName: String, isTLS: Bool) {
        self.id = String(UInt64.random(in: 0...UInt64.max) & 0xFFFF_FFFF_FFFF, radix: 36)
        self.remote = remote
        self.services = services
        self.isTLS = isTLS
        var logger = services.logger
        logger[metadataKey: "session"] = "\(id)"
        logger[metadataKey: "proto"] = "\(protocolName)"
        self.logger = logger
    }

    /// The peer's IP address as text, for limits and throttling.
    public var remoteIP: String { remote?.ipAddress ?? "unknown" }

    /// Whether the peer is on the loopback interface.
    public var isLoopback: Bool {
        guard let remote else { return false }
        switch remote {
        case .v4(let a): return UInt32(bigEndian: a.address.sin_addr.s_addr) >> 24 == 127
        case .v6: return remote.ipAddress == "::1" || remote.ipAddress?.hasPrefix("::ffff:127.") == true
        default: return true
        }
    }

    /// DESIGN.md §1: plaintext passwords are accepted over TLS, from loopback, or where the
    /// config allows them everywhere.
    public var allowsPlaintextAuth: Bool { isTLS || isLoopback || services.config.allowPlaintextAuth }

    /// Whether STARTTLS/STLS can be offered now.
    public var canStartTLS: Bool { !isTLS && services.tls != nil }
}

/// A protocol front end. The daemon composes the configured ones; a new protocol is a new
/// module with one of these and one line in the daemon.
public protocol Frontend: Sendable {
    /// The base protocol name (`pop3`); its listeners are `pop3` and, for implicit TLS, `pop3s`.
    var protocolName: String { get }
    /// Installs the protocol's handlers on a new connection.
    func initialize(channel: any Channel, connection: Connection) -> EventLoopFuture<Void>
    /// The line sent before closing a connection refused by a limit.
    func refusal(_ reason: String) -> String
}
