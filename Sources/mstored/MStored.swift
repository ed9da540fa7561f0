import ArgumentParser
import Foundation
import Logging
import MailStore
import Metrics
import NIOCore
import NIOPosix
import IMAPServer
import POP3Server
import Prometheus
import ServerSupport
import SMTPServer

/// mstored: serves the store over the configured protocols from one process.
struct MStored: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "mstored", abstract: "Serve an mstore mail store over IMAP, POP3, LMTP and SMTP.",
        version: "mstored 0.2.0")

    @Option(help: "The data directory (default: $MSTORE_DATA, else ./mstore-data).") var data: String?
    @Option(help: "A TOML config file.") var config: String?
    @Option(help: "IMAP listener HOST:PORT.") var imap: String?
    @Option(help: "IMAP over TLS listener HOST:PORT.") var imaps: String?
    @Option(help: "POP3 listener HOST:PORT.") var pop3: String?
    @Option(help: "POP3 over TLS listener HOST:PORT.") var pop3s: String?
    @Option(help: "LMTP listener HOST:PORT.") var lmtp: String?
    @Option(help: "SMTP listener HOST:PORT.") var smtp: String?
    @Option(name: .customLong("tls-cert"), help: "PEM certificate chain.") var tlsCert: String?
    @Option(name: .customLong("tls-key"), help: "PEM private key.") var tlsKey: String?
    @Option(help: "Serve Prometheus metrics on HOST:PORT.") var metrics: String?

    func resolvedSettings() throws -> ServerConfig {
        var settings = try config.map(ServerConfig.load(path:)) ?? ServerConfig()
        let flags: [(String, String?)] = [("imap", imap), ("imaps", imaps), ("pop3", pop3), ("pop3s", pop3s),
                                          ("lmtp", lmtp), ("smtp", smtp)]
        let given = try flags.compactMap { name, value in try value.map { try ListenerConfig(protocolName: name, address: $0) } }
        if !given.isEmpty { settings.listeners = given }
        if settings.listeners.isEmpty { settings.listeners = ServerConfig.defaultListeners }
        if tlsCert != nil || tlsKey != nil {
            guard let tlsCert, let tlsKey else { throw ValidationError("--tls-cert and --tls-key go together") }
            settings.tlsCertificate = tlsCert
            settings.tlsKey = tlsKey
        }
        if let metrics { settings.metrics = try ListenerConfig(protocolName: "metrics", address: metrics) }
        return settings
    }

    func run() async throws {
        let settings: ServerConfig
        do { settings = try resolvedSettings() } catch let error as ConfigError { throw Failure(error.description) }

        let level = settings.logLevel
        LoggingSystem.bootstrap { label in
            var handler = SafeLogHandler(wrapping: StreamLogHandler.standardError(label: label))
            handler.logLevel = level
            return handler
        }
        // Before any listener: a SIGTERM from here on is a clean shutdown, however early.
        let stopSignal = try StopSignal()
        let registry = PrometheusCollectorRegistry()
        MetricsSystem.bootstrap(PrometheusMetricsFactory(registry: registry))
        let logger = Logger(label: "mstored")

        let store: MailStore
        do { store = try MailStore(path: MailStore.defaultPath(data: data)) } catch { throw Failure("\(error)") }
        if let backup = store.upgradeBackup {
            logger.notice("upgraded the store to schema \(MailStore.schemaVersion); a copy of it as it was is in \(backup)")
        }
        let threadPool = NIOThreadPool(numberOfThreads: settings.workerThreads ?? max(2, System.coreCount))
        threadPool.start()
        let group = MultiThreadedEventLoopGroup(numberOfThreads: settings.eventLoopThreads ?? System.coreCount)
        let services: ServerServices
        do {
            services = try ServerServices(store: store, threadPool: threadPool, config: settings, logger: logger)
        } catch let error as ConfigError { throw Failure(error.description) }

        // One line per protocol module.
        let server = MailServer(services: services, frontends: [IMAPFrontend(), POP3Frontend(), LMTPFrontend(), SMTPFrontend()], group: group)

        for listener in settings.listeners {
            guard server.serves(listener) else {
                logger.notice("no \(listener.baseProtocol) front end yet: \(listener.protocolName) left out")
                continue
            }
            do {
                let address = try await server.bind(listener)
                say("mstored: listening \(listener.protocolName) \(listener.host):\(address.port ?? listener.port)")
            } catch {
                throw Failure("cannot listen for \(listener.protocolName) on \(listener.host):\(listener.port): \(error)")
            }
        }
        if let m = settings.metrics {
            do {
                let channel = try await MetricsEndpoint.start(registry: registry, host: m.host, port: m.port, group: group)
                say("mstored: listening metrics \(m.host):\(channel.localAddress?.port ?? m.port)")
            } catch {
                throw Failure("cannot listen for metrics on \(m.host):\(m.port): \(error)")
            }
        }
        say("mstored: ready")

        await stopSignal.wait()
        logger.info("shutting down")
        // Every acknowledged write is already durable, so a shutdown that stalls (a peer that
        // never lets its connection close) may be cut short rather than keep the process alive.
        Thread.detachNewThread {
            Thread.sleep(forTimeInterval: Self.shutdownDeadline)
            logger.error("shutdown did not finish within \(Self.shutdownDeadline) s: exiting now")
            Foundation.exit(1)
        }
        await server.shutdown()
        store.close()
        try? await group.shutdownGracefully()
        try? await threadPool.shutdownGracefully()
    }

    /// How long shutdown may take before the process exits anyway (exit status 1).
    static let shutdownDeadline: TimeInterval = 20

    /// Prints a line at once, even into a pipe.
    func say(_ line: String) { FileHandle.standardOutput.write(Data((line + "\n").utf8)) }
}

/// SIGTERM and SIGINT, caught by a handler that writes one byte to a pipe, so `wait()` sees the
/// signal whichever thread the kernel gave it to, and even when it came before `wait()`.
/// (A dispatch signal source is not enough on Linux: it reads the signal through a signalfd,
/// which only sees it when every thread blocks it, and a signal taken by an event-loop thread
/// with the signal ignored is lost, so the daemon would never stop.)
struct StopSignal {
    private let readEnd: Int32

    init() throws {
        var ends: [Int32] = [0, 0]
        guard pipe(&ends) == 0 else { throw Failure("cannot create the signal pipe: errno \(errno)") }
        for fd in ends { _ = fcntl(fd, F_SETFD, FD_CLOEXEC) }
        readEnd = ends[0]
        stopSignalWriteEnd = ends[1]
        var action = sigaction()
        action.__sigaction_handler.sa_handler = { _ in
            var byte: UInt8 = 1
            _ = write(stopSignalWriteEnd, &byte, 1)
        }
        sigemptyset(&action.sa_mask)
        action.sa_flags = SA_RESTART
        for sig in [SIGTERM, SIGINT] { sigaction(sig, &action, nil) }
    }

    /// Returns once SIGTERM or SIGINT has arrived.
    func wait() async {
        let fd = readEnd
        await withCheckedContinuation { (continuation: CheckedContinuation<Void, Never>) in
            Thread.detachNewThread {
                var byte: UInt8 = 0
                while read(fd, &byte, 1) < 0 && errno == EINTR {}
                continuation.resume()
            }
        }
    }
}

/// The pipe end that the signal handler writes to; set once, before the handler is installed.
nonisolated(unsafe) private var stopSignalWriteEnd: Int32 = -1

/// A startup failure: one line on stderr, exit status 1.
struct Failure: Error, CustomStringConvertible {
    var description: String
    init(_ description: String) { self.description = description }
}

@main
enum Main {
    static func main() async {
        do {
            var command = try MStored.parseAsRoot()
            if var async = command as? AsyncParsableCommand { try await async.run() } else { try command.run() }
            exit(0)
        } catch let failure as Failure {
            FileHandle.standardError.write(Data("mstored: \(failure.description)\n".utf8))
            exit(1)
        } catch {
            MStored.exit(withError: error)
        }
    }
}
