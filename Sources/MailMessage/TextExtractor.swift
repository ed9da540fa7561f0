/// Decodes text parts for the PREVIEW and for the search index.
struct TextExtractor {
    let buf: UnsafeBufferPointer<UInt8>

    init(_ buf: UnsafeBufferPointer<UInt8>) { self.buf = buf }

    /// Whether `part` is body text (text/plain or text/html, not an attachment).
    static func isBodyText(_ part: MessagePart) -> Bool {
        guard part.contentType.type == "text", case .single = part.body else { return false }
        guard part.contentType.subtype == "plain" || part.contentType.subtype == "html" else { return false }
        return part.disposition?.type != "attachment"
    }

    /// The first body-text part, depth first through multiparts.
    static func firstTextPart(_ part: MessagePart) -> MessagePart? {
        switch part.body {
        case .single: return isBodyText(part) ? part : nil
        case .multipart(let children):
            for c in children { if let t = firstTextPart(c) { return t } }
            return nil
        case .message: return nil
        }
    }

    /// The decoded UTF-8 text of a text part, reading at most `limit` encoded bytes; HTML is stripped.
    func text(of part: MessagePart, limit: Int) -> [UInt8] {
        let r = part.bodyRange
        let slice = UnsafeBufferPointer(rebasing: buf[r.lowerBound..<min(r.upperBound, r.lowerBound + limit)])
        let decoded = TransferDecoding.decode(slice, encoding: part.transferEncoding) ?? Array(slice)
        let charset = part.contentType.parameter("charset") ?? "us-ascii"
        var utf8: [UInt8]
        if Charset.canonicalName(charset) == "UTF-8", String(validating: decoded, as: UTF8.self) != nil {
            utf8 = decoded
        } else {
            utf8 = Array((Charset.decode(decoded, charset: charset) ?? Bytes.string(decoded)).utf8)
        }
        if part.contentType.subtype == "html" { utf8 = HTMLText.strip(utf8) }
        return utf8
    }

    // RFC 8970 §3: the preview holds at most 256 characters and no markup.
    /// The PREVIEW of a message whose top-level part is `root`.
    func preview(of root: MessagePart) -> String {
        guard let part = Self.firstTextPart(root) else { return "" }
        let limit = part.contentType.subtype == "html" ? MessageLimits.previewHTMLSourceBytes : MessageLimits.previewTextSourceBytes
        let collapsed = Self.collapsingWhitespace(text(of: part, limit: limit), maxScalars: 4 * MessageLimits.previewLength)
        return String(String(decoding: collapsed, as: UTF8.self).prefix(MessageLimits.previewLength))
    }

    /// UTF-8 text with runs of whitespace turned into one space, trimmed, cut after `maxScalars` scalars.
    static func collapsingWhitespace(_ s: [UInt8], maxScalars: Int) -> [UInt8] {
        var out = [UInt8]()
        out.reserveCapacity(min(s.count, maxScalars * 4))
        var pendingSpace = false
        var scalars = 0
        var i = 0
        while i < s.count {
            let b = s[i]
            // ASCII whitespace, and U+00A0 NO-BREAK SPACE (C2 A0).
            let nbsp = b == 0xC2 && i + 1 < s.count && s[i + 1] == 0xA0
            if Bytes.isSpace(b) || b == 0x0C || b == 0x0B || nbsp {
                pendingSpace = !out.isEmpty
                i += nbsp ? 2 : 1
                continue
            }
            if b & 0xC0 != 0x80 {
                scalars += 1
                if scalars > maxScalars { break }
            }
            if pendingSpace {
                out.append(Bytes.space)
                pendingSpace = false
            }
            out.append(b)
            i += 1
        }
        return out
    }

    /// Collects body texts and attachment names below `part`, nested messages included.
    func collect(_ part: MessagePart, into text: inout SearchText, depth: Int = 0) {
        if let name = part.fileName, !name.isEmpty { text.attachmentNames.append(name) }
        switch part.body {
        case .single:
            if Self.isBodyText(part), part.fileName == nil {
                text.bodies.append(String(decoding: self.text(of: part, limit: MessageLimits.maxIndexedTextBytes), as: UTF8.self))
            }
        case .multipart(let children):
            for c in children { collect(c, into: &text, depth: depth + 1) }
        case .message(let env, let inner):
            if let s = env.decodedSubject { text.bodies.append(s) }
            collect(inner, into: &text, depth: depth + 1)
        }
    }
}

extension ParsedMessage {
    /// The text to index for search, decoded from the stored bytes `raw` without reparsing.
    ///
    /// `raw` must be the bytes that were parsed.
    public func searchText(in raw: some Collection<UInt8>) -> SearchText {
        func join(_ list: [Address]) -> String { list.map(\.displayString).joined(separator: ", ") }
        var text = SearchText(
            from: join(envelope.from), to: join(envelope.to), cc: join(envelope.cc), bcc: join(envelope.bcc),
            subject: envelope.decodedSubject ?? "")
        let work = { (buf: UnsafeBufferPointer<UInt8>) in
            guard root.fullRange.upperBound <= buf.count else { return }
            TextExtractor(buf).collect(root, into: &text)
        }
        if raw.withContiguousStorageIfAvailable(work) == nil { Array(raw).withUnsafeBufferPointer(work) }
        return text
    }
}
