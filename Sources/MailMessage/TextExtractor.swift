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

    /// The decoded text of a text part, reading at most `limit` encoded bytes; HTML is stripped.
    func text(of part: MessagePart, limit: Int) -> String {
        let r = part.bodyRange
        let slice = UnsafeBufferPointer(rebasing: buf[r.lowerBound..<min(r.upperBound, r.lowerBound + limit)])
        let decoded = TransferDecoding.decode(slice, encoding: part.transferEncoding) ?? Array(slice)
        let charset = part.contentType.parameter("charset") ?? "us-ascii"
        let s = Charset.decode(decoded, charset: charset) ?? Bytes.string(decoded)
        return part.contentType.subtype == "html" ? HTMLText.strip(s) : s
    }

    // RFC 8970 §3: the preview holds at most 256 characters and no markup.
    /// The PREVIEW of a message whose top-level part is `root`.
    func preview(of root: MessagePart) -> String {
        guard let part = Self.firstTextPart(root) else { return "" }
        let collapsed = Self.collapsingWhitespace(text(of: part, limit: MessageLimits.previewSourceBytes))
        return String(collapsed.prefix(MessageLimits.previewLength))
    }

    /// `s` with runs of whitespace turned into one space, trimmed.
    static func collapsingWhitespace(_ s: String) -> String {
        var out = String.UnicodeScalarView()
        var pendingSpace = false
        for ch in s.unicodeScalars {
            if ch.properties.isWhitespace || ch == "\u{FEFF}" {
                pendingSpace = !out.isEmpty
            } else {
                if pendingSpace { out.append(" ") }
                pendingSpace = false
                out.append(ch)
            }
        }
        return String(out)
    }

    /// Collects body texts and attachment names below `part`, nested messages included.
    func collect(_ part: MessagePart, into text: inout SearchText, depth: Int = 0) {
        if let name = part.fileName, !name.isEmpty { text.attachmentNames.append(name) }
        switch part.body {
        case .single:
            if Self.isBodyText(part), part.fileName == nil {
                text.bodies.append(self.text(of: part, limit: MessageLimits.maxIndexedTextBytes))
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
