import Foundation
import Logging
import TOMLKit

/// One listening socket: a protocol name (`pop3`, `pop3s`, `imap`, `imaps`, `lmtp`, `smtp`) and
/// an address.
public struct ListenerConfig: Sendable, Equatable {
    public var protocolName: String
    public var host: String
    public var port: Int

    public init(protocolName: String, host: String, port: Int) {
        self.protocolName = protocolName
        self.host = host
        self.port = port
    }

    /// The listeners that speak TLS from the first byte (RFC 8314).
    public static let implicitTLSProtocols: Set<String> = ["pop3s", "imaps"]

    public var implicitTLS: Bool { Self.implicitTLSProtocols.contains(protocolName) }

    /// The protocol without its TLS suffix: `pop3s` → `pop3`.
    public var baseProtocol: String { implicitTLS ? String(protocolName.dropLast()) : protocolName }

    /// Parses `HOST:PORT` (or `[V6]:PORT`).
    public init(protocolName: String, address: String) throws {
        guard let colon = address.lastIndex(of: ":"), let port = Int(address[address.index(after: colon)...]),
              (0...65535).contains(port) else {
            throw ConfigError("\(protocolName): expected HOST:PORT, got \(address.debugDescription)")
        }
        var host = String(address[..<colon])
        if host.hasPrefix("[") && host.hasSuffix("]") { host = String(host.dropFirst().dropLast()) }
        guard !host.isEmpty else { throw ConfigError("\(protocolName): empty host in \(address.debugDescription)") }
        self.init(protocolName: protocolName, host: host, port: port)
    }
}

/// Abuse limits and timeouts. Each is a named setting with a safe default.
public struct Limits: Sendable, Equatable {
    /// Connections the whole server holds at once.
    public var maxConnections = 10_000
    /// Connections one IP address may hold at once.
    public var maxConnectionsPerIP = 100
    /// The delay after the first failed login; it doubles per further failure (per IP and per user).
    public var authFailureDelay: Duration = .milliseconds(500)
    /// The longest delay after failed logins.
    public var authFailureMaxDelay: Duration = .seconds(15)
    /// RFC 1939 §3: at least 10 minutes.
    public var pop3IdleTimeout: Duration = .seconds(600)
    /// RFC 9051 §5.4: at least 30 minutes.
    public var imapIdleTimeout: Duration = .seconds(1800)
    /// RFC 5321 §4.5.3.2: 5 minutes.
    public var smtpIdleTimeout: Duration = .seconds(300)
    /// How often a long IMAP command says it is still working (RFC 9585 INPROGRESS).
    public var imapProgressInterval: Duration = .seconds(10)
    /// An IMAP literal whose bytes stop coming for this long ends the connection: it holds
    /// its share of the message buffer until complete.
    public var literalIdleTimeout: Duration = .seconds(120)
    /// Bytes of incoming messages (APPEND literals, SMTP/LMTP data) all connections may hold
    /// at once (`BufferBudget`).
    public var maxBufferedMessageBytes = 1 << 30
    /// The same, for the connections of one client address.
    public var maxBufferedMessageBytesPerIP = 256 << 20

    public init() {}
}

/// Everything `mstored` can be told, from flags and from the TOML config file.
public struct ServerConfig: Sendable {
    public var listeners: [ListenerConfig] = []
    public var tlsCertificate: String?
    public var tlsKey: String?
    public var limits = Limits()
    /// Allow plaintext passwords without TLS from non-loopback peers too.
    public var allowPlaintextAuth = false
    public var logLevel: Logger.Level = .info
    public var metrics: ListenerConfig?
    /// Domains that SMTP accepts mail for, besides users named by full address.
    public var localDomains: [String] = []
    /// Event-loop threads (sockets and protocol work); nil for one per core.
    public var eventLoopThreads: Int?
    /// Threads for blocking work (parsing a delivery, store reads for big commands); nil for
    /// one per core, at least 2.
    public var workerThreads: Int?
    /// The most threads of either kind a config may ask for.
    public static let maxThreads = 256

    public init() {}

    /// The listeners when neither flags nor config name any (DESIGN.md §1).
    public static let defaultListeners = [
        ListenerConfig(protocolName: "imap", host: "127.0.0.1", port: 1143),
        ListenerConfig(protocolName: "pop3", host: "127.0.0.1", port: 1110),
        ListenerConfig(protocolName: "lmtp", host: "127.0.0.1", port: 2424),
    ]

    static let listenerKeys = ["imap", "imaps", "pop3", "pop3s", "lmtp", "smtp"]

    /// Reads a TOML config file. Errors name the key and its line.
    ///
    /// ```toml
    /// log_level = "info"
    /// allow_plaintext_auth = false
    /// metrics = "127.0.0.1:9100"
    /// local_domains = ["example.org"]
    /// [listeners]
    /// pop3 = "127.0.0.1:1110"
    /// [tls]
    /// certificate = "/etc/mstore/cert.pem"
    /// key = "/etc/mstore/key.pem"
    /// [limits]
    /// max_connections = 10000
    /// max_connections_per_ip = 100
    /// auth_failure_delay_ms = 500
    /// auth_failure_max_delay_ms = 15000
    /// pop3_idle_seconds = 600
    /// imap_idle_seconds = 1800
    /// smtp_idle_seconds = 300
    /// imap_progress_ms = 10000
    /// buffered_message_kb = 1048576
    /// buffered_message_per_ip_kb = 262144
    /// literal_idle_seconds = 120
    /// [threads]
    /// event_loops = 2
    /// workers = 2
    /// ```
    public static func load(path: String) throws -> ServerConfig {
        guard let data = FileManager.default.contents(atPath: path) else { throw ConfigError("cannot read \(path)") }
        let text = String(decoding: data, as: UTF8.self)
        let table: TOMLTable
        do {
            table = try TOMLTable(string: text)
        } catch let error as TOMLParseError {
            throw ConfigError("\(path) line \(error.source.begin.line): \(error.description)")
        }
        var config = ServerConfig()
        let reader = ConfigReader(path: path, text: text)
        try reader.checkKeys(table, allowed: ["log_level", "allow_plaintext_auth", "metrics", "local_domains",
                                              "listeners", "tls", "limits", "threads"], section: nil)
        if let level = try reader.string(table, "log_level") {
            guard let l = Logger.Level(rawValue: level) else {
                throw reader.error("log_level", "expected one of \(Logger.Level.allCases.map(\.rawValue).joined(separator: ", "))")
            }
            config.logLevel = l
        }
        if let allow = try reader.bool(table, "allow_plaintext_auth") { config.allowPlaintextAuth = allow }
        if let metrics = try reader.string(table, "metrics") {
            config.metrics = try reader.wrap("metrics") { try ListenerConfig(protocolName: "metrics", address: metrics) }
        }
        if let domains = table["local_domains"] {
            guard let array = domains.array else { throw reader.error("local_domains", "expected an array of strings") }
            config.localDomains = try array.map {
                guard let s = $0.string else { throw reader.error("local_domains", "expected an array of strings") }
                return s.lowercased()
            }
        }
        if let listeners = try reader.section(table, "listeners") {
            try reader.checkKeys(listeners, allowed: listenerKeys, section: "listeners")
            for key in listenerKeys {
                if let address = try reader.string(listeners, key) {
                    config.listeners.append(try reader.wrap(key) { try ListenerConfig(protocolName: key, address: address) })
                }
            }
        }
        if let tls = try reader.section(table, "tls") {
            try reader.checkKeys(tls, allowed: ["certificate", "key"], section: "tls")
            config.tlsCertificate = try reader.string(tls, "certificate")
            config.tlsKey = try reader.string(tls, "key")
        }
        if let limits = try reader.section(table, "limits") {
            let keys = ["max_connections", "max_connections_per_ip", "auth_failure_delay_ms", "auth_failure_max_delay_ms",
                        "pop3_idle_seconds", "imap_idle_seconds", "smtp_idle_seconds", "imap_progress_ms",
                        "buffered_message_kb", "buffered_message_per_ip_kb", "literal_idle_seconds"]
            try reader.checkKeys(limits, allowed: keys, section: "limits")
            var l = config.limits
            if let v = try reader.positive(limits, "max_connections") { l.maxConnections = v }
            if let v = try reader.positive(limits, "max_connections_per_ip") { l.maxConnectionsPerIP = v }
            if let v = try reader.positive(limits, "auth_failure_delay_ms") { l.authFailureDelay = .milliseconds(v) }
            if let v = try reader.positive(limits, "auth_failure_max_delay_ms") { l.authFailureMaxDelay = .milliseconds(v) }
            if let v = try reader.positive(limits, "pop3_idle_seconds") { l.pop3IdleTimeout = .seconds(v) }
            if let v = try reader.positive(limits, "imap_idle_seconds") { l.imapIdleTimeout = .seconds(v) }
            if let v = try reader.positive(limits, "smtp_idle_seconds") { l.smtpIdleTimeout = .seconds(v) }
            if let v = try reader.positive(limits, "imap_progress_ms") { l.imapProgressInterval = .milliseconds(v) }
            if let v = try reader.positive(limits, "literal_idle_seconds") { l.literalIdleTimeout = .seconds(v) }
            if let v = try reader.positive(limits, "buffered_message_kb", atMost: Int.max >> 10) { l.maxBufferedMessageBytes = v << 10 }
            if let v = try reader.positive(limits, "buffered_message_per_ip_kb", atMost: Int.max >> 10) {
                l.maxBufferedMessageBytesPerIP = v << 10
            }
            config.limits = l
        }
        if let threads = try reader.section(table, "threads") {
            try reader.checkKeys(threads, allowed: ["event_loops", "workers"], section: "threads")
            config.eventLoopThreads = try reader.positive(threads, "event_loops", atMost: maxThreads)
            config.workerThreads = try reader.positive(threads, "workers", atMost: maxThreads)
        }
        if (config.tlsCertificate == nil) != (config.tlsKey == nil) {
            throw reader.error("tls", "give both certificate and key")
        }
        return config
    }
}

/// A bad config file or flag, reported on one line.
public struct ConfigError: Error, CustomStringConvertible, Sendable {
    public var description: String
    public init(_ description: String) { self.description = description }
}

/// Typed reads from a TOML table, with errors that name the key and the line it is on.
private struct ConfigReader {
    let path: String
    let lines: [Substring]

    init(path: String, text: String) {
        self.path = path
        self.lines = text.split(separator: "\n", omittingEmptySubsequences: false)
    }

    /// The first line that assigns `key`, or that opens the `[key]` section.
    func line(of key: String) -> Int {
        for (i, line) in lines.enumerated() {
            let t = line.trimmingCharacters(in: .whitespaces)
            if t.hasPrefix("[\(key)]") { return i + 1 }
            if t.hasPrefix(key) {
                let rest = t.dropFirst(key.count).trimmingCharacters(in: .whitespaces)
                if rest.hasPrefix("=") { return i + 1 }
            }
        }
        return 0
    }

    func error(_ key: String, _ message: String) -> ConfigError {
        ConfigError("\(path) line \(line(of: key)): \(key): \(message)")
    }

    func wrap<T>(_ key: String, _ body: () throws -> T) throws -> T {
        do { return try body() } catch let e as ConfigError { throw error(key, e.description) }
    }

    func checkKeys(_ table: TOMLTable, allowed: [String], section: String?) throws {
        for key in table.keys where !allowed.contains(key) {
            throw error(key, "unknown key\(section.map { " in [\($0)]" } ?? "")")
        }
    }

    func string(_ t: TOMLTable, _ key: String) throws -> String? {
        guard let v = t[key] else { return nil }
        guard let s = v.string else { throw error(key, "expected a string") }
        return s
    }

    func bool(_ t: TOMLTable, _ key: String) throws -> Bool? {
        guard let v = t[key] else { return nil }
        guard let b = v.bool else { throw error(key, "expected true or false") }
        return b
    }

    func positive(_ t: TOMLTable, _ key: String, atMost limit: Int = .max) throws -> Int? {
        guard let v = t[key] else { return nil }
        guard let i = v.int, i > 0 else { throw error(key, "expected a positive integer") }
        guard i <= limit else { throw error(key, "expected at most \(limit)") }
        return i
    }

    func section(_ t: TOMLTable, _ key: String) throws -> TOMLTable? {
        guard let v = t[key] else { return nil }
        guard let table = v.table else { throw error(key, "expected a [\(key)] section") }
        return table
    }
}
