#if canImport(Glibc)
import Glibc
#else
import Darwin
#endif

/// The trace header lines prepended at delivery (RFC 5321 §4.4, RFC 9228 for Delivered-To):
///
///     Return-Path: <sender@example.org>
///     Delivered-To: alice@example.org
///     Received: from mx.example.org (127.0.0.1)
///             by mail.example.org (mstore) with LMTP id 1a2b3c
///             for <alice@example.org>; Sun, 29 Nov 2026 13:41:26 +0000
///
/// One delivery stores one content for all its recipients, so the lines that name a recipient
/// (`Delivered-To`, `for <...>`) are written only when there is exactly one.
public struct TraceHeaders: Sendable {
    /// The reverse-path without angle brackets; empty for the null sender `<>`; nil when there is
    /// no envelope (local delivery without a sender), which leaves `Return-Path` out.
    public var returnPath: String?
    public var recipients: [String]
    /// The `Received` line's parts; nil leaves it out.
    public var received: Received?

    public struct Received: Sendable {
        /// The client's HELO/EHLO/LHLO name.
        public var heloName: String
        public var remoteIP: String
        /// This host's name.
        public var host: String
        /// The `with` protocol (RFC 3848: LMTP, ESMTPS, UTF8LMTP ...; "local" for the CLI).
        public var protocolName: String
        public var id: String

        public init(heloName: String, remoteIP: String, host: String, protocolName: String, id: String) {
            self.heloName = heloName
            self.remoteIP = remoteIP
            self.host = host
            self.protocolName = protocolName
            self.id = id
        }
    }

    public init(returnPath: String?, recipients: [String], received: Received?) {
        self.returnPath = returnPath
        self.recipients = recipients
        self.received = received
    }

    /// The header lines, each ending in CRLF, dated `seconds` since 1970 (UTC).
    public func bytes(date seconds: Int64 = ZonedDate.now().seconds) -> [UInt8] {
        var text = ""
        if let returnPath { text += "Return-Path: <\(Self.clean(returnPath))>\r\n" }
        let single = recipients.count == 1 ? Self.clean(recipients[0]) : nil
        if let single { text += "Delivered-To: \(single)\r\n" }
        if let r = received {
            text += "Received: from \(Self.clean(r.heloName)) (\(r.remoteIP))\r\n"
            text += "\tby \(r.host) (mstore) with \(r.protocolName) id \(r.id)"
            if let single { text += "\r\n\tfor <\(single)>" }
            text += "; \(Self.rfc5322Date(seconds))\r\n"
        }
        return Array(text.utf8)
    }

    /// This host's name (`gethostname`), for greetings and `by` in `Received`.
    public static let localHostName: String = {
        var buffer = [CChar](repeating: 0, count: 256)
        guard gethostname(&buffer, buffer.count - 1) == 0 else { return "localhost" }
        let name = String(decoding: buffer.prefix { $0 != 0 }.map { UInt8(bitPattern: $0) }, as: UTF8.self)
        return name.isEmpty ? "localhost" : name
    }()

    /// Client-supplied text cannot end a header line or start a new one.
    static func clean(_ s: String) -> String {
        String(s.unicodeScalars.filter { $0 != "\r" && $0 != "\n" && $0 != "\0" }.prefix(256).map(Character.init))
    }

    /// RFC 5322 §3.3 date-time in UTC: `Sun, 29 Nov 2026 13:41:26 +0000`.
    static func rfc5322Date(_ seconds: Int64) -> String {
        let days = Int(seconds >= 0 ? seconds / 86_400 : (seconds - 86_399) / 86_400)
        let secs = Int(seconds - Int64(days) * 86_400)
        // Civil from days (Howard Hinnant's algorithm).
        let z = days + 719_468
        let era = (z >= 0 ? z : z - 146_096) / 146_097
        let doe = z - era * 146_097
        let yoe = (doe - doe / 1460 + doe / 36_524 - doe / 146_096) / 365
        let doy = doe - (365 * yoe + yoe / 4 - yoe / 100)
        let mp = (5 * doy + 2) / 153
        let day = doy - (153 * mp + 2) / 5 + 1
        let month = mp < 10 ? mp + 3 : mp - 9
        let year = yoe + era * 400 + (month <= 2 ? 1 : 0)
        let weekday = ((days % 7) + 11) % 7  // 1970-01-01 was a Thursday
        let names = ["Sun", "Mon", "Tue", "Wed", "Thu", "Fri", "Sat"]
        let months = ["Jan", "Feb", "Mar", "Apr", "May", "Jun", "Jul", "Aug", "Sep", "Oct", "Nov", "Dec"]
        func two(_ n: Int) -> String { n < 10 ? "0\(n)" : "\(n)" }
        return "\(names[weekday]), \(day) \(months[month - 1]) \(year) \(two(secs / 3600)):\(two(secs / 60 % 60)):\(two(secs % 60)) +0000"
    }
}
