import MailStore
import NIOCore

/// The FETCH items that come from the message record alone: the ones clients ask for on every
/// message of a mailbox when they sync (`UID FLAGS RFC822.SIZE`, with MODSEQ under CONDSTORE).
enum MetadataItem: Sendable {
    case uid, flags, size, modSeq
}

/// Writes one `* n FETCH (...)` line of metadata items straight into the buffer's memory: one
/// capacity check per message instead of one per token. The hot path of a client's sync.
struct MetadataWriter {
    let items: [MetadataItem]
    /// Keyword names as bytes, by keyword number.
    let keywords: [KeywordID: [UInt8]]
    let recent: Set<UID>
    /// Added when the record's flags changed as a side effect and FLAGS was not asked for.
    let flagsChanged: Set<UID>
    /// `* uid UIDFETCH (` instead of `* seq FETCH (` (RFC 9586).
    let uidOnly: Bool
    /// Bytes a line can need beyond its keywords.
    private static let fixedBound = 160

    init?(_ attributes: [MetadataItem?], keywords: [KeywordID: String], recent: Set<UID>, flagsChanged: Set<UID>,
          uidOnly: Bool) {
        guard !attributes.contains(where: { $0 == nil }) else { return nil }
        items = attributes.compactMap { $0 }
        self.keywords = keywords.mapValues { Array($0.utf8) }
        self.recent = recent
        self.flagsChanged = flagsChanged
        self.uidOnly = uidOnly
    }

    func write(seq: Int, _ record: MessageRecord, into out: inout ByteBuffer) {
        var bound = Self.fixedBound
        for k in record.keywords { bound += (keywords[k]?.count ?? 0) + 1 }
        let withFlags = !items.contains(.flags) && flagsChanged.contains(record.uid)
        out.writeWithUnsafeMutableBytes(minimumWritableBytes: bound) { raw in
            var w = PointerWriter(raw.baseAddress!)
            w.put("* ")
            w.decimal(UInt64(uidOnly ? Int(record.uid.rawValue) : seq))
            w.put(uidOnly ? " UIDFETCH (" : " FETCH (")
            var first = true
            for item in items {
                if first { first = false } else { w.put(" ") }
                switch item {
                case .uid:
                    w.put("UID ")
                    w.decimal(UInt64(record.uid.rawValue))
                case .flags:
                    flags(record, &w)
                case .size:
                    w.put("RFC822.SIZE ")
                    w.decimal(UInt64(record.size))
                case .modSeq:
                    w.put("MODSEQ (")
                    w.decimal(record.modSeq.rawValue)
                    w.put(")")
                }
            }
            if withFlags {
                if !first { w.put(" ") }
                flags(record, &w)
            }
            w.put(")\r\n")
            return w.count
        }
    }

    private func flags(_ record: MessageRecord, _ w: inout PointerWriter) {
        w.put("FLAGS (")
        var first = true
        func space(_ w: inout PointerWriter) {
            if first { first = false } else { w.put(" ") }
        }
        let f = record.flags
        if f.contains(.seen) { space(&w); w.put("\\Seen") }
        if f.contains(.answered) { space(&w); w.put("\\Answered") }
        if f.contains(.flagged) { space(&w); w.put("\\Flagged") }
        if f.contains(.deleted) { space(&w); w.put("\\Deleted") }
        if f.contains(.draft) { space(&w); w.put("\\Draft") }
        for k in record.keywords {
            guard let name = keywords[k] else { continue }
            space(&w)
            w.put(name)
        }
        if !recent.isEmpty && recent.contains(record.uid) { space(&w); w.put("\\Recent") }
        w.put(")")
    }
}

/// Appends bytes at a raw pointer whose room the caller has checked.
struct PointerWriter {
    private let base: UnsafeMutableRawPointer
    private(set) var count = 0

    init(_ base: UnsafeMutableRawPointer) { self.base = base }

    mutating func put(_ s: StaticString) {
        (base + count).copyMemory(from: s.utf8Start, byteCount: s.utf8CodeUnitCount)
        count += s.utf8CodeUnitCount
    }

    mutating func put(_ bytes: [UInt8]) {
        bytes.withUnsafeBytes { (base + count).copyMemory(from: $0.baseAddress!, byteCount: $0.count) }
        count += bytes.count
    }

    mutating func decimal(_ n: UInt64) {
        var digits = 1
        var v = n
        while v >= 10 { v /= 10; digits += 1 }
        v = n
        var i = count + digits - 1
        repeat {
            base.storeBytes(of: UInt8(truncatingIfNeeded: 48 &+ v % 10), toByteOffset: i, as: UInt8.self)
            v /= 10
            i -= 1
        } while v > 0
        count += digits
    }
}
