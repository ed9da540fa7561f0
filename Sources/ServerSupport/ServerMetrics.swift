import Metrics
import NIOConcurrencyHelpers
import NIOCore
import NIOPosix
import Prometheus

/// The daemon's counters and timers, through swift-metrics. The composition root bootstraps the
/// metrics system (Prometheus) and serves it with `MetricsEndpoint`. Metric handles are made
/// once per label set and kept: making one goes through the factory's registry and its lock.
public final class ServerMetrics: Sendable {
    private let counters = NIOLockedValueBox<[String: Metrics.Counter]>([:])
    private let timers = NIOLockedValueBox<[String: Metrics.Timer]>([:])

    /// The per-command counter and timer by protocol and command name. Looked up for every
    /// command, so its key is the two short (inline) strings, not a label joined per call.
    private let commandHandles = NIOLockedValueBox<[CommandKey: CommandHandles]>([:])

    private struct CommandKey: Hashable {
        var proto: String
        var name: String
    }

    private struct CommandHandles {
        var count: Metrics.Counter
        var duration: Metrics.Timer
    }

    public init() {}

    private func counter(_ label: String, _ dimensions: [(String, String)]) -> Metrics.Counter {
        Self.cached(counters, label, dimensions) { Metrics.Counter(label: label, dimensions: dimensions) }
    }

    private func timer(_ label: String, _ dimensions: [(String, String)]) -> Metrics.Timer {
        Self.cached(timers, label, dimensions) { Metrics.Timer(label: label, dimensions: dimensions) }
    }

    private static func cached<T>(_ cache: NIOLockedValueBox<[String: T]>, _ label: String,
                                  _ dimensions: [(String, String)], make: () -> T) -> T {
        let key = label + dimensions.map { "|\($0.0)=\($0.1)" }.joined()
        return cache.withLockedValue { entries in
            if let existing = entries[key] { return existing }
            let made = make()
            entries[key] = made
            return made
        }
    }

    public func connectionOpened(_ proto: String) {
        counter("mstore_connections_total", [("protocol", proto)]).increment()
    }

    public func connectionRefused(_ proto: String) {
        counter("mstore_connections_refused_total", [("protocol", proto)]).increment()
    }

    public func command(_ proto: String, _ name: String, nanoseconds: Int64) {
        let key = CommandKey(proto: proto, name: name)
        // Lock order: commandHandles, then counters or timers; never the other way round.
        let handles = commandHandles.withLockedValue { entries in
            if let existing = entries[key] { return existing }
            let made = CommandHandles(count: counter("mstore_commands_total", [("protocol", proto), ("command", name)]),
                                      duration: timer("mstore_command_duration_seconds", [("protocol", proto)]))
            entries[key] = made
            return made
        }
        handles.count.increment()
        handles.duration.recordNanoseconds(nanoseconds)
    }

    public func authFailure(_ proto: String) {
        counter("mstore_auth_failures_total", [("protocol", proto)]).increment()
    }

    public func delivered(_ proto: String, count: Int) {
        counter("mstore_deliveries_total", [("protocol", proto)]).increment(by: count)
    }

    /// A message refused because the server's buffer for incoming messages (or the client
    /// address's share of it) was full (`BufferBudget`).
    public func messageBufferFull(_ proto: String) {
        counter("mstore_message_buffer_refusals_total", [("protocol", proto)]).increment()
    }
}

/// Serves the Prometheus text format on `GET /metrics` (any path, in fact) over plain HTTP/1.1.
public enum MetricsEndpoint {
    /// The most request bytes read before answering.
    static let maxRequest = 8192

    public static func start(registry: PrometheusCollectorRegistry, host: String, port: Int,
                             group: any EventLoopGroup) async throws -> any Channel {
        try await ServerBootstrap(group: group)
            .serverChannelOption(.socketOption(.so_reuseaddr), value: 1)
            .childChannelInitializer { channel in
                channel.eventLoop.makeCompletedFuture {
                    try channel.pipeline.syncOperations.addHandler(Responder(registry: registry))
                }
            }
            .bind(host: host, port: port).get()
    }

    private final class Responder: ChannelInboundHandler {
        typealias InboundIn = ByteBuffer
        typealias OutboundOut = ByteBuffer
        let registry: PrometheusCollectorRegistry
        var request: [UInt8] = []
        var answered = false

        init(registry: PrometheusCollectorRegistry) { self.registry = registry }

        func channelRead(context: ChannelHandlerContext, data: NIOAny) {
            guard !answered else { return }
            request += unwrapInboundIn(data).readableBytesView
            let done = request.count >= maxRequest || request.suffix(4) == Array("\r\n\r\n".utf8)
                || request.suffix(2) == Array("\n\n".utf8)
            guard done else { return }
            answered = true
            let body = registry.emitToBuffer()
            var out = context.channel.allocator.buffer(capacity: body.count + 128)
            out.writeString("HTTP/1.1 200 OK\r\nContent-Type: text/plain; version=0.0.4\r\n")
            out.writeString("Content-Length: \(body.count)\r\nConnection: close\r\n\r\n")
            out.writeBytes(body)
            context.writeAndFlush(wrapOutboundOut(out)).whenComplete { _ in context.close(promise: nil) }
        }
    }
}
