/// Builds the MIME part tree of a message held in one contiguous buffer.
///
/// Each level scans only its own byte range, and nesting is capped at
/// `MessageLimits.maxMIMEDepth`, so the work is linear in the message size.
struct MIMEParser {
    let buf: UnsafeBufferPointer<UInt8>
    private var partCount = 0

    init(_ buf: UnsafeBufferPointer<UInt8>) { self.buf = buf }

    /// The header fields the parser keeps, each by its first occurrence.
    enum Field: Int, CaseIterable {
        case contentType, transferEncoding, contentID, contentDescription, contentDisposition
        case contentLanguage, contentLocation, contentMD5
        case date, subject, from, sender, replyTo, to, cc, bcc, inReplyTo, messageID, references

        var name: [UInt8] {
            let s: String
            switch self {
            case .contentType: s = "content-type"
            case .transferEncoding: s = "content-transfer-encoding"
            case .contentID: s = "content-id"
            case .contentDescription: s = "content-description"
            case .contentDisposition: s = "content-disposition"
            case .contentLanguage: s = "content-language"
            case .contentLocation: s = "content-location"
            case .contentMD5: s = "content-md5"
            case .date: s = "date"
            case .subject: s = "subject"
            case .from: s = "from"
            case .sender: s = "sender"
            case .replyTo: s = "reply-to"
            case .to: s = "to"
            case .cc: s = "cc"
            case .bcc: s = "bcc"
            case .inReplyTo: s = "in-reply-to"
            case .messageID: s = "message-id"
            case .references: s = "references"
            }
            return Array(s.utf8)
        }

        /// Known fields grouped by name length (the index), for a quick match without hashing.
        static let byLength: [[(name: [UInt8], field: Field)]] = {
            var t = [[(name: [UInt8], field: Field)]](repeating: [], count: allCases.map(\.name.count).max()! + 1)
            for f in allCases { t[f.name.count].append((f.name, f)) }
            return t
        }()
    }

    /// Value ranges of the known fields of one header.
    struct Fields {
        var values = [Range<Int>?](repeating: nil, count: Field.allCases.count)

        subscript(_ f: Field) -> Range<Int>? { values[f.rawValue] }
    }

    /// The parsed part in `range` and the known fields of its header.
    mutating func parsePart(_ range: Range<Int>, depth: Int, defaultType: ContentType) -> (MessagePart, Fields) {
        partCount += 1
        var fields = Fields()
        let buf = self.buf
        let bounds = HeaderScanner.scan(buf, from: range.lowerBound, to: range.upperBound) { raw in
            guard raw.name.count < Field.byLength.count else { return }
            for c in Field.byLength[raw.name.count] where Bytes.equalsLowercased(buf, raw.name, c.name) {
                if fields.values[c.field.rawValue] == nil { fields.values[c.field.rawValue] = raw.value }
            }
        }
        var part = MessagePart(
            headerRange: range.lowerBound..<bounds.fieldsEnd, bodyRange: bounds.bodyStart..<range.upperBound,
            contentType: defaultType, contentID: nil, contentDescription: nil, transferEncoding: "7bit",
            contentMD5: nil, disposition: nil, language: [], location: nil, lineCount: 0, body: .single)
        applyContentFields(fields, to: &part)

        let composite = part.contentType.type == "multipart" || part.contentType.isEncapsulatedMessage
        if composite, depth >= MessageLimits.maxMIMEDepth || partCount >= MessageLimits.maxParts {
            // Too deep or too many parts: keep the rest opaque.
            part.contentType = ContentType(type: "application", subtype: "octet-stream", parameters: part.contentType.parameters)
        } else if part.contentType.type == "multipart" {
            parseMultipart(&part, depth: depth)
        } else if part.contentType.isEncapsulatedMessage,
            part.transferEncoding == "7bit" || part.transferEncoding == "8bit" || part.transferEncoding == "binary"
        {
            // RFC 2046 §5.2.1: message/rfc822 bodies are only 7bit, 8bit or binary.
            let (inner, innerFields) = parsePart(part.bodyRange, depth: depth + 1, defaultType: .textPlainDefault)
            part.body = .message(envelope(innerFields), inner)
        }
        if part.contentType.type == "text" || part.contentType.isEncapsulatedMessage {
            part.lineCount = Bytes.lineCount(buf, part.bodyRange)
        }
        return (part, fields)
    }

    /// The unfolded value of a field.
    func value(_ r: Range<Int>) -> [UInt8] { HeaderScanner.unfold(buf, r) }

    /// The unfolded value of a field as a string.
    func string(_ r: Range<Int>?) -> String? { r.map { HeaderScanner.unfoldedString(buf, $0) } }

    /// Fills the Content-* data of `part` from its header fields.
    private func applyContentFields(_ f: Fields, to part: inout MessagePart) {
        if let r = f[.contentType] {
            let (v, params) = MIMEParameters.parse(value(r))
            // RFC 2045 §5.2: an invalid Content-Type gives the text/plain default.
            if let (type, subtype) = Self.mediaType(v) {
                part.contentType = ContentType(type: type, subtype: subtype, parameters: params)
            } else {
                part.contentType = .textPlainDefault
            }
        }
        if let r = f[.transferEncoding] {
            let v = MIMEParameters.parse(value(r)).value
            if !v.isEmpty { part.transferEncoding = v }
        }
        if let r = f[.contentDisposition] {
            let (v, params) = MIMEParameters.parse(value(r))
            if !v.isEmpty { part.disposition = ContentDisposition(type: v, parameters: params) }
        }
        if let r = f[.contentLanguage] {
            // RFC 3282 §2: Content-Language = 1#Language-tag
            part.language = Bytes.string(value(r)).split(separator: ",").compactMap {
                let tag = $0.trimmingWhitespace
                return tag.isEmpty ? nil : tag
            }
        }
        part.contentID = string(f[.contentID])
        part.contentDescription = string(f[.contentDescription])
        part.contentMD5 = string(f[.contentMD5])
        part.location = string(f[.contentLocation])
    }

    /// The type and subtype of a Content-Type value split at its one "/", or nil when invalid.
    ///
    /// ASCII values, nearly all of them, are split by bytes; others by `Character`, so that a
    /// combining mark after "/" keeps the slash inside its character as it always has.
    static func mediaType(_ v: String) -> (String, String)? {
        if v.utf8.allSatisfy({ $0 < 0x80 }) {
            let slash = UInt8(ascii: "/")
            guard let i = v.utf8.firstIndex(of: slash), v.utf8.lastIndex(of: slash) == i else { return nil }
            let (type, subtype) = (v[..<i], v[v.utf8.index(after: i)...])
            return type.isEmpty || subtype.isEmpty ? nil : (String(type), String(subtype))
        }
        let pieces = v.split(separator: "/", omittingEmptySubsequences: false)
        guard pieces.count == 2, !pieces[0].isEmpty, !pieces[1].isEmpty else { return nil }
        return (String(pieces[0]), String(pieces[1]))
    }

    /// Splits a multipart body into subparts, or makes it opaque when it has no boundary.
    private mutating func parseMultipart(_ part: inout MessagePart, depth: Int) {
        guard let boundary = part.contentType.parameter("boundary"), !boundary.isEmpty else {
            // RFC 2046 §5.1.1 requires a boundary; without one the type is unusable.
            part.contentType = .textPlainDefault
            return
        }
        let childDefault: ContentType = part.contentType.subtype == "digest" ? .digestDefault : .textPlainDefault
        var children = [MessagePart]()
        for r in MultipartSplitter.split(buf, part.bodyRange, boundary: Array(boundary.utf8)) {
            if partCount >= MessageLimits.maxParts { break }
            children.append(parsePart(r, depth: depth + 1, defaultType: childDefault).0)
        }
        if children.isEmpty {
            // No delimiter at all: the body becomes one header-less text part.
            let start = part.bodyRange.lowerBound
            var only = MessagePart(
                headerRange: start..<start, bodyRange: part.bodyRange, contentType: .textPlainDefault, contentID: nil,
                contentDescription: nil, transferEncoding: "7bit", contentMD5: nil, disposition: nil, language: [],
                location: nil, lineCount: 0, body: .single)
            only.lineCount = Bytes.lineCount(buf, part.bodyRange)
            children.append(only)
        }
        part.body = .multipart(children)
    }

    /// The envelope built from a message header's fields. RFC 9051 §7.5.2.
    func envelope(_ f: Fields) -> Envelope {
        let from = addresses(f[.from])
        var sender = addresses(f[.sender])
        var replyTo = addresses(f[.replyTo])
        // RFC 9051 §7.5.2: absent Sender and Reply-To default to From.
        if sender.isEmpty { sender = from }
        if replyTo.isEmpty { replyTo = from }
        return Envelope(
            date: string(f[.date]), subject: string(f[.subject]), from: from, sender: sender, replyTo: replyTo,
            to: addresses(f[.to]), cc: addresses(f[.cc]), bcc: addresses(f[.bcc]),
            inReplyTo: string(f[.inReplyTo]), messageID: string(f[.messageID]))
    }

    /// The addresses of an address field, or none.
    private func addresses(_ r: Range<Int>?) -> [Address] {
        guard let r else { return [] }
        return HeaderScanner.withUnfolded(buf, r, AddressList.parse(_:))
    }

    /// The threading keys of a message header. RFC 5256.
    func threadingKeys(_ f: Fields, envelope: Envelope) -> ThreadingKeys {
        let (base, marked) = ThreadingKeys.baseSubject(envelope.decodedSubject ?? "")
        return ThreadingKeys(
            baseSubject: base, isReplyOrForward: marked,
            messageID: envelope.messageID.flatMap { ThreadingKeys.messageIDs(in: $0).first },
            inReplyTo: envelope.inReplyTo.map(ThreadingKeys.messageIDs(in:)) ?? [],
            references: f[.references].map(referenceIDs) ?? [])
    }

    /// The message ids of a References value.
    private func referenceIDs(_ r: Range<Int>) -> [String] {
        // Unfolding only removes line breaks, which the id scan treats as the spaces they stand beside;
        // bytes that are not UTF-8 are read as ISO-8859-1 across the whole value, so those take the string.
        let raw = UnsafeBufferPointer(rebasing: buf[r])
        return Bytes.isValidUTF8(raw) ? ThreadingKeys.messageIDs(in: raw) : ThreadingKeys.messageIDs(in: HeaderScanner.unfoldedString(buf, r))
    }
}

extension StringProtocol {
    /// The text without leading and trailing whitespace.
    var trimmingWhitespace: String {
        let scalars = unicodeScalars
        guard let first = scalars.firstIndex(where: { !$0.properties.isWhitespace }),
            let last = scalars.lastIndex(where: { !$0.properties.isWhitespace })
        else { return "" }
        var out = String.UnicodeScalarView()
        out.append(contentsOf: scalars[first...last])
        return String(out)
    }
}
