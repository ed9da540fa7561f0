import Logging

/// A log handler that makes every message and metadata value safe to write to a log before
/// handing the event to the handler it wraps: control characters (which could forge log lines or
/// drive a terminal) become `\u{..}` escapes, and each metadata value is cut at
/// `maxValueCharacters`. Clients choose much of what a server logs (user names, IMAP ID fields,
/// addresses, the text of errors about their input), so this is done here, once, rather than at
/// each call site.
///
/// The handler keeps the logger's metadata itself and passes it, merged with the event's, to the
/// wrapped handler, whose own metadata stays empty.
public struct SafeLogHandler: LogHandler {
    /// The longest metadata value logged, in characters; longer ones end with `…`.
    public static let maxValueCharacters = 256

    private var wrapped: any LogHandler
    public var metadata: Logger.Metadata = [:]
    public var metadataProvider: Logger.MetadataProvider?

    public init(wrapping handler: any LogHandler) {
        wrapped = handler
        // The provider's metadata is merged (and made safe) here, so the wrapped handler's goes.
        metadataProvider = handler.metadataProvider
        if metadataProvider != nil { wrapped.metadataProvider = nil }
    }

    public var logLevel: Logger.Level {
        get { wrapped.logLevel }
        set { wrapped.logLevel = newValue }
    }

    public subscript(metadataKey key: String) -> Logger.Metadata.Value? {
        get { metadata[key] }
        set { metadata[key] = newValue }
    }

    public func log(event: LogEvent) {
        var merged = metadata
        if let provided = metadataProvider?.get() { merged.merge(provided) { _, new in new } }
        if let explicit = event.metadata { merged.merge(explicit) { _, new in new } }
        var safe = event
        safe.message = "\(Self.escaped(event.message.description))"
        safe.metadata = merged.mapValues(Self.safeValue)
        wrapped.log(event: safe)
    }

    /// `value` with its strings escaped and cut.
    static func safeValue(_ value: Logger.Metadata.Value) -> Logger.Metadata.Value {
        switch value {
        case .string(let s): return .string(escaped(s, limit: maxValueCharacters))
        case .stringConvertible(let c): return .string(escaped(c.description, limit: maxValueCharacters))
        case .array(let values): return .array(values.map(safeValue))
        case .dictionary(let values): return .dictionary(values.mapValues(safeValue))
        }
    }

    /// `s` with C0 and C1 controls and DEL as `\u{XX}`, cut after `limit` characters.
    static func escaped(_ s: String, limit: Int = .max) -> String {
        // Most are short ASCII with nothing to escape (C1 controls start with 0xC2 in UTF-8).
        if s.utf8.count <= limit && !s.utf8.contains(where: { $0 < 0x20 || $0 == 0x7F || $0 == 0xC2 }) { return s }
        var out = ""
        var count = 0
        for scalar in s.unicodeScalars {
            if count == limit {
                out += "…"
                break
            }
            count += 1
            let v = scalar.value
            if v < 0x20 || (0x7F...0x9F).contains(v) {
                out += "\\u{" + String(v, radix: 16, uppercase: true) + "}"
            } else {
                out.unicodeScalars.append(scalar)
            }
        }
        return out
    }
}
