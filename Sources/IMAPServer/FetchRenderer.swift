import IMAPProtocol
import MailMessage
import MailStore
import NIOCore

/// What a FETCH asks for, worked out once for all its messages.
struct FetchPlan: Sendable {
    var attributes: [FetchAttribute]
    /// Whether any item needs the parsed structure or the content.
    var needsStructure = false
    var needsContent = false
    /// Whether an item sets `\Seen` as a side effect (RFC 9051 §6.4.5: BODY[...], RFC822, RFC822.TEXT).
    var setsSeen = false
    var utf8: Bool
    var changedSince: UInt64?
    /// RFC 9586: answers are `* uid UIDFETCH (...)`, which carry the UID already.
    var uidOnly: Bool

    init(_ requested: [FetchAttribute], uid: Bool, uidOnly: Bool = false, utf8: Bool, changedSince: UInt64?) {
        var attributes = requested
        // RFC 9051 §6.4.9: UID FETCH answers with the UID whether asked or not (under UIDONLY
        // the response names it).
        if uid && !uidOnly && !attributes.contains(.uid) { attributes.insert(.uid, at: 0) }
        self.uidOnly = uidOnly
        if changedSince != nil && !attributes.contains(.modSeq) { attributes.append(.modSeq) }
        self.attributes = attributes
        self.utf8 = utf8
        self.changedSince = changedSince
        for a in attributes {
            switch a {
            case .envelope, .body, .bodyStructure, .preview, .binarySize:
                needsStructure = true
            case .bodySection(let spec, let partial, let peek):
                // The whole message streams from the store without parsing.
                if !(spec.part.isEmpty && spec.kind == nil && partial == nil) { needsStructure = true }
                needsContent = true
                if !peek { setsSeen = true }
            case .binary(_, _, let peek):
                needsStructure = true
                needsContent = true
                if !peek { setsSeen = true }
            case .rfc822, .rfc822Text:
                needsContent = true
                needsStructure = true
                setsSeen = true
            case .rfc822Header:
                needsContent = true
                needsStructure = true
            default:
                break
            }
        }
        if attributes.contains(where: { if case .binarySize = $0 { true } else { false } }) { needsContent = true }
        includesFlags = attributes.contains(.flags)
        metadata = attributes.map { a -> MetadataItem? in
            switch a {
            case .uid: .uid
            case .flags: .flags
            case .rfc822Size: .size
            case .modSeq: .modSeq
            default: nil
            }
        }
    }

    let includesFlags: Bool
    /// The items as metadata items, nil for each that needs more than the record.
    let metadata: [MetadataItem?]
}

/// Renders FETCH responses off the event loop, straight into a buffer.
struct FetchRenderer {
    let tx: StoreReader
    let mailbox: MailboxID
    let plan: FetchPlan
    let keywordNames: [KeywordID: String]
    /// `\Recent` UIDs for an IMAP4rev1 session, else empty.
    let recent: Set<UID>
    /// Messages whose flags changed as a side effect: their FLAGS go out even if not asked for.
    let flagsChanged: Set<UID>
    /// Set when every item comes from the record alone.
    let metadataWriter: MetadataWriter?

    init(tx: StoreReader, mailbox: MailboxID, plan: FetchPlan, keywordNames: [KeywordID: String],
         recent: Set<UID>, flagsChanged: Set<UID>) {
        self.tx = tx
        self.mailbox = mailbox
        self.plan = plan
        self.keywordNames = keywordNames
        self.recent = recent
        self.flagsChanged = flagsChanged
        metadataWriter = MetadataWriter(plan.metadata, keywords: keywordNames, recent: recent, flagsChanged: flagsChanged,
                                        uidOnly: plan.uidOnly)
    }

    /// Writes `* n FETCH (...)` for the targets from `start`, until `FetchLimits.batchMessages`
    /// messages or about `FetchLimits.batchBytes` bytes are written. Returns where the next batch
    /// starts and how many targets no longer exist. Dense UID runs (the usual `1:*`) are read with
    /// one cursor scan; sparse ones by lookup.
    func render(_ targets: [(Int, UID)], from start: Int, into out: inout ByteBuffer) throws -> (next: Int, missing: Int) {
        let end = min(targets.count, start + FetchLimits.batchMessages)
        guard start < end else { return (start, 0) }
        var index = start
        var missing = 0
        let (first, last) = (targets[start].1, targets[end - 1].1)
        guard Int(last.rawValue - first.rawValue) < 4 * (end - start) else {
            while index < end && out.readableBytes < FetchLimits.batchBytes {
                let (seq, uid) = targets[index]
                index += 1
                guard let record = try tx.message(in: mailbox, uid: uid) else { missing += 1; continue }
                try render(seq: seq, record, into: &out)
            }
            return (index, missing)
        }
        var full = false
        try tx.forEachMessage(in: mailbox, uids: first...last) { record in
            while index < end && targets[index].1 < record.uid {
                missing += 1
                index += 1
            }
            if index < end && targets[index].1 == record.uid {
                try render(seq: targets[index].0, record, into: &out)
                index += 1
            }
            full = out.readableBytes >= FetchLimits.batchBytes
            return index < end && !full
        }
        // The scan saw every UID up to `last`: targets it did not meet are gone.
        if !full {
            missing += end - index
            index = end
        }
        return (index, missing)
    }

    private func render(seq: Int, _ record: MessageRecord, into out: inout ByteBuffer) throws {
        if let since = plan.changedSince, record.modSeq.rawValue <= since { return }
        if let metadataWriter { return metadataWriter.write(seq: seq, record, into: &out) }
        var structure: ParsedMessage?
        var raw: [UInt8]?
        if plan.needsContent && plan.needsStructure { raw = try tx.content(record.content) }
        if plan.needsStructure {
            structure = try tx.structure(of: record.content) ?? ParsedMessage.parse(raw ?? tx.content(record.content))
        }
        out.writeStaticString("* ")
        if plan.uidOnly {
            out.writeDecimal(record.uid.rawValue)
            out.writeStaticString(" UIDFETCH (")
        } else {
            out.writeDecimal(seq)
            out.writeStaticString(" FETCH (")
        }
        var first = true
        func separator(_ out: inout ByteBuffer) {
            if first { first = false } else { out.writeStaticString(" ") }
        }
        for attribute in plan.attributes {
            separator(&out)
            try write(attribute, record, structure, raw, into: &out)
        }
        if !plan.includesFlags && flagsChanged.contains(record.uid) {
            separator(&out)
            writeFlags(record, into: &out)
        }
        out.writeStaticString(")\r\n")
    }

    /// FLAGS on the general path; record-only FETCHes take `MetadataWriter`'s faster one.
    private func writeFlags(_ record: MessageRecord, into out: inout ByteBuffer) {
        var names = record.flags.flagNames + record.keywords.compactMap { keywordNames[$0] }
        if recent.contains(record.uid) { names.append("\\Recent") }
        out.writeStaticString("FLAGS ")
        out.writeFlags(names)
    }

    private func write(_ attribute: FetchAttribute, _ record: MessageRecord, _ structure: ParsedMessage?,
                       _ raw: [UInt8]?, into out: inout ByteBuffer) throws {
        switch attribute {
        case .uid:
            out.writeStaticString("UID ")
            out.writeDecimal(record.uid.rawValue)
        case .flags:
            writeFlags(record, into: &out)
        case .internalDate:
            out.writeStaticString("INTERNALDATE ")
            out.writeIMAPDateTime(seconds: record.internalDate.seconds, zoneMinutes: Int(record.internalDate.zoneMinutes))
        case .rfc822Size:
            out.writeStaticString("RFC822.SIZE ")
            out.writeDecimal(record.size)
        case .envelope:
            out.writeStaticString("ENVELOPE ")
            out.writeEnvelope(structure!.envelope, utf8: plan.utf8)
        case .body:
            out.writeStaticString("BODY ")
            out.writeBodyStructure(structure!.root, extensible: false, utf8: plan.utf8)
        case .bodyStructure:
            out.writeStaticString("BODYSTRUCTURE ")
            out.writeBodyStructure(structure!.root, extensible: true, utf8: plan.utf8)
        case .modSeq:
            out.writeStaticString("MODSEQ (")
            out.writeDecimal(record.modSeq.rawValue)
            out.writeStaticString(")")
        case .emailID:
            out.writeString("EMAILID (\(IMAPHandler.objectID("M", record.emailID.rawValue)))")
        case .threadID:
            out.writeString("THREADID (\(IMAPHandler.objectID("T", record.threadID.rawValue)))")
        case .saveDate:
            out.writeStaticString("SAVEDATE ")
            out.writeIMAPDateTime(seconds: record.saveDate, zoneMinutes: 0)
        case .preview:
            out.writeStaticString("PREVIEW ")
            out.writeNString(structure!.preview, utf8: true)
        case .rfc822:
            out.writeStaticString("RFC822 ")
            try writeWholeMessage(record, raw, into: &out)
        case .rfc822Header:
            out.writeStaticString("RFC822.HEADER ")
            writeSection(SectionSpec(kind: .header), nil, structure!, raw!, into: &out)
        case .rfc822Text:
            out.writeStaticString("RFC822.TEXT ")
            writeSection(SectionSpec(kind: .text), nil, structure!, raw!, into: &out)
        case .bodySection(let spec, let partial, _):
            out.writeStaticString("BODY[")
            Self.writeSectionName(spec, into: &out)
            out.writeStaticString("]")
            if let partial {
                out.writeStaticString("<")
                out.writeDecimal(partial.offset)
                out.writeStaticString(">")
            }
            out.writeStaticString(" ")
            if spec.part.isEmpty && spec.kind == nil && partial == nil {
                try writeWholeMessage(record, raw, into: &out)
            } else {
                writeSection(spec, partial, structure!, raw!, into: &out)
            }
        case .binary(let part, let partial, _):
            out.writeStaticString("BINARY[")
            out.writeString(part.map(String.init).joined(separator: "."))
            out.writeStaticString("]")
            if let partial {
                out.writeStaticString("<")
                out.writeDecimal(partial.offset)
                out.writeStaticString(">")
            }
            out.writeStaticString(" ")
            guard var bytes = try? structure!.binaryContent(at: part, in: raw!) else {
                out.writeStaticString("NIL")
                return
            }
            if let partial { bytes = Array(Self.clip(bytes[...], partial)) }
            writeLiteral(bytes[...], binary: bytes.contains(0), into: &out)
        case .binarySize(let part):
            out.writeStaticString("BINARY.SIZE[")
            out.writeString(part.map(String.init).joined(separator: "."))
            out.writeStaticString("] ")
            if let size = try? structure!.binarySize(at: part, in: raw ?? tx.content(record.content)) {
                out.writeDecimal(size)
            } else {
                out.writeStaticString("NIL")
            }
        }
    }

    /// The whole message as a literal, streamed from the stored pieces.
    private func writeWholeMessage(_ record: MessageRecord, _ raw: [UInt8]?, into out: inout ByteBuffer) throws {
        if let raw { return writeLiteral(raw[...], binary: false, into: &out) }
        out.writeStaticString("{")
        out.writeDecimal(record.size)
        out.writeStaticString("}\r\n")
        try tx.forEachPiece(of: record.content) { piece in out.writeBytes(piece) }
    }

    private func writeSection(_ spec: SectionSpec, _ partial: Partial?, _ structure: ParsedMessage,
                              _ raw: [UInt8], into out: inout ByteBuffer) {
        switch structure.section(spec, in: raw) {
        case nil:
            out.writeStaticString("NIL")
        case .range(let r)?:
            writeLiteral(partial.map { Self.clip(raw[r], $0) } ?? raw[r], binary: false, into: &out)
        case .bytes(let bytes)?:
            writeLiteral(partial.map { Self.clip(bytes[...], $0) } ?? bytes[...], binary: false, into: &out)
        }
    }

    private func writeLiteral(_ bytes: ArraySlice<UInt8>, binary: Bool, into out: inout ByteBuffer) {
        out.writeStaticString(binary ? "~{" : "{")
        out.writeDecimal(bytes.count)
        out.writeStaticString("}\r\n")
        out.writeBytes(bytes)
    }

    /// `<offset.length>` of RFC 9051 §6.4.5: past the end gives an empty string.
    static func clip(_ bytes: ArraySlice<UInt8>, _ partial: Partial) -> ArraySlice<UInt8> {
        let start = bytes.startIndex + min(partial.offset, bytes.count)
        let end = start + min(partial.length, bytes.endIndex - start)
        return bytes[start..<end]
    }

    /// The section as the client named it: `1.2.HEADER.FIELDS (SUBJECT)`.
    static func writeSectionName(_ spec: SectionSpec, into out: inout ByteBuffer) {
        out.writeString(spec.part.map(String.init).joined(separator: "."))
        guard let kind = spec.kind else { return }
        if !spec.part.isEmpty { out.writeStaticString(".") }
        switch kind {
        case .header: out.writeStaticString("HEADER")
        case .text: out.writeStaticString("TEXT")
        case .mime: out.writeStaticString("MIME")
        case .headerFields(let names):
            out.writeString("HEADER.FIELDS (\(names.map { $0.uppercased() }.joined(separator: " ")))")
        case .headerFieldsNot(let names):
            out.writeString("HEADER.FIELDS.NOT (\(names.map { $0.uppercased() }.joined(separator: " ")))")
        }
    }
}
