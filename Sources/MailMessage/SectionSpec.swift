/// A FETCH section: a part path and what to take from that part. RFC 9051 §6.4.5.
///
///     C: a FETCH 1 (BODY[1.2.HEADER.FIELDS (SUBJECT)])   →  SectionSpec(part: [1, 2], kind: .headerFields(["subject"]))
public struct SectionSpec: Sendable, Hashable {
    /// Part numbers from the top, each 1-based; empty for the whole message.
    public var part: [Int]
    /// What to take; nil for the whole part (or the whole message when `part` is empty).
    public var kind: Kind?

    public init(part: [Int] = [], kind: Kind? = nil) {
        self.part = part
        self.kind = kind
    }

    // RFC 9051 §9: section-msgtext = "HEADER" / "HEADER.FIELDS" [".NOT"] SP header-list / "TEXT"
    //              section-text    = section-msgtext / "MIME"
    /// The part of a section after the part path.
    public enum Kind: Sendable, Hashable {
        /// The header of the message (or of the encapsulated message), blank line included.
        case header
        /// Only the named header fields (compared without case), then a blank line.
        case headerFields([String])
        /// All header fields but the named ones, then a blank line.
        case headerFieldsNot([String])
        /// The body of the message (or of the encapsulated message).
        case text
        /// The MIME header of the part, blank line included; needs a part path.
        case mime
    }
}

/// What a section resolves to: a range of the stored bytes, or bytes built from them.
public enum SectionContent: Sendable, Equatable {
    /// A slice of the parsed bytes.
    case range(Range<Int>)
    /// Filtered header fields (HEADER.FIELDS and HEADER.FIELDS.NOT).
    case bytes([UInt8])
}

extension ParsedMessage {
    /// The part at a part path, following IMAP numbering. RFC 9051 §6.4.5.
    ///
    /// A non-multipart message (or encapsulated message) has one part, number 1: its body.
    /// After a message/rfc822 part, the numbers address the parts of the encapsulated message.
    public func part(at path: [Int]) -> MessagePart? {
        var current = root
        var isMessageRoot = true
        for n in path {
            guard let (next, root) = Self.step(current, isMessageRoot: isMessageRoot, n) else { return nil }
            current = next
            isMessageRoot = root
        }
        return current
    }

    /// One step down a part path.
    private static func step(_ part: MessagePart, isMessageRoot: Bool, _ n: Int) -> (MessagePart, Bool)? {
        switch part.body {
        case .multipart(let children):
            guard n >= 1, n <= children.count else { return nil }
            return (children[n - 1], false)
        case .message(_, let inner) where !isMessageRoot:
            return step(inner, isMessageRoot: true, n)
        default:
            guard isMessageRoot, n == 1 else { return nil }
            return (part, false)
        }
    }

    /// The header and body of the message a section refers to: the top level, or an encapsulated one.
    private func messageTarget(_ path: [Int]) -> MessagePart? {
        if path.isEmpty { return root }
        guard let p = part(at: path), case .message(_, let inner) = p.body else { return nil }
        return inner
    }

    /// Where a section lies in the parsed bytes `raw`, or nil when the message has no such section.
    ///
    /// Only the header section of the target part is scanned (for HEADER.FIELDS); nothing else is read.
    public func section(_ spec: SectionSpec, in raw: some Collection<UInt8>) -> SectionContent? {
        switch spec.kind {
        case nil:
            if spec.part.isEmpty { return .range(0..<raw.count) }
            return part(at: spec.part).map { .range($0.bodyRange) }
        case .mime:
            guard !spec.part.isEmpty, let p = part(at: spec.part) else { return nil }
            return .range(p.headerSectionRange)
        case .header:
            return messageTarget(spec.part).map { .range($0.headerSectionRange) }
        case .text:
            return messageTarget(spec.part).map { .range($0.bodyRange) }
        case .headerFields(let names):
            guard let m = messageTarget(spec.part) else { return nil }
            return .bytes(Self.filterFields(raw, m.headerRange, names: names, keep: true))
        case .headerFieldsNot(let names):
            guard let m = messageTarget(spec.part) else { return nil }
            return .bytes(Self.filterFields(raw, m.headerRange, names: names, keep: false))
        }
    }

    /// The bytes of a section: a slice of `raw`, or the filtered header fields.
    public func sectionBytes(_ spec: SectionSpec, in raw: some Collection<UInt8>) -> [UInt8]? {
        switch section(spec, in: raw) {
        case .range(let r)?:
            return Self.withBuffer(raw) { buf in r.upperBound <= buf.count ? Array(buf[r]) : [] }
        case .bytes(let b)?: return b
        case nil: return nil
        }
    }

    /// The `<start.length>` window of a section's bytes. RFC 9051 §6.4.5: a start past the end gives nothing.
    public static func partial(_ bytes: [UInt8], start: Int, length: Int) -> ArraySlice<UInt8> {
        let lo = min(max(0, start), bytes.count)
        let hi = min(bytes.count, lo + max(0, min(length, Int.max - lo)))
        return bytes[lo..<hi]
    }


    /// Runs `body` on a contiguous view of `bytes`.
    static func withBuffer<R>(
        _ bytes: some Collection<UInt8>, _ body: (UnsafeBufferPointer<UInt8>) throws -> R
    ) rethrows -> R {
        if let r = try bytes.withContiguousStorageIfAvailable(body) { return r }
        return try Array(bytes).withUnsafeBufferPointer(body)
    }

    // RFC 9051 §6.4.5: HEADER.FIELDS gives the matching fields followed by a blank line.
    /// The fields of `raw[range]` whose names are (or, with `keep` false, are not) in `names`, then CRLF.
    static func filterFields(_ raw: some Collection<UInt8>, _ range: Range<Int>, names: [String], keep: Bool) -> [UInt8] {
        let wanted = Set(names.map { Bytes.lowercased($0.utf8) })
        return withBuffer(raw) { buf in
            var out = [UInt8]()
            guard range.upperBound <= buf.count else { return out }
            _ = HeaderScanner.scan(buf, from: range.lowerBound, to: range.upperBound) { f in
                if wanted.contains(Bytes.lowercased(buf[f.name])) == keep {
                    out.append(contentsOf: buf[f.full])
                    if buf[f.full.upperBound - 1] != Bytes.lf { out += [Bytes.cr, Bytes.lf] }
                }
            }
            out += [Bytes.cr, Bytes.lf]
            return out
        }
    }
}
