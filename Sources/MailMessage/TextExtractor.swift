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
        withText(of: part, limit: limit) { Array($0) }
    }

    /// Calls `body` with the text `text(of:limit:)` gives; plain UTF-8 or ASCII text that needs
    /// no decoding, most mail, is passed in place without a copy.
    func withText<Result>(of part: MessagePart, limit: Int, _ body: (UnsafeBufferPointer<UInt8>) -> Result) -> Result {
        let r = part.bodyRange
        let slice = UnsafeBufferPointer(rebasing: buf[r.lowerBound..<min(r.upperBound, r.lowerBound + limit)])
        let charset = part.contentType.parameter("charset") ?? "us-ascii"
        let canonical = Charset.canonicalName(charset)
        if part.contentType.subtype != "html", TransferDecoding.isIdentity(part.transferEncoding),
            canonical == "UTF-8" || canonical == "US-ASCII", Bytes.isValidUTF8(slice)
        {
            return body(slice)
        }
        let decoded = TransferDecoding.decode(slice, encoding: part.transferEncoding) ?? Array(slice)
        var utf8: [UInt8]
        switch canonical {
        case nil, "UTF-8", "US-ASCII":
            // As `Bytes.string`: UTF-8 when valid, otherwise ISO-8859-1.
            utf8 = decoded.withUnsafeBufferPointer { Bytes.isValidUTF8($0) ? decoded : Bytes.latin1UTF8($0) }
        case "ISO-8859-1":
            utf8 = decoded.withUnsafeBufferPointer(Bytes.latin1UTF8)
        default:
            utf8 = Array((Charset.decode(decoded, charset: charset) ?? Bytes.string(decoded)).utf8)
        }
        if part.contentType.subtype == "html" { utf8 = HTMLText.strip(utf8) }
        return utf8.withUnsafeBufferPointer(body)
    }

    // RFC 8970 §3: the preview holds at most 256 characters and no markup.
    /// The PREVIEW of a message whose top-level part is `root`.
    func preview(of root: MessagePart) -> String {
        guard let part = Self.firstTextPart(root) else { return "" }
        let limit = part.contentType.subtype == "html" ? MessageLimits.previewHTMLSourceBytes : MessageLimits.previewTextSourceBytes
        return withText(of: part, limit: limit, Self.preview(ofText:))
    }

    /// The first `MessageLimits.previewLength` characters of UTF-8 text, whitespace collapsed.
    ///
    /// Collapses only as much text as the preview needs: when the first `previewLength + 1`
    /// non-space scalars and the spaces between them are ASCII, every byte is one character
    /// (no CR is left to pair with an LF), so the preview is a byte prefix and needs no
    /// grapheme breaking. Other text takes up to four scalars a character and cuts by `Character`.
    static func preview(ofText text: UnsafeBufferPointer<UInt8>) -> String {
        let length = MessageLimits.previewLength
        let head = collapsingWhitespace(text, maxScalars: length + 1)
        if head.withUnsafeBufferPointer(Bytes.isASCII) {
            return String(decoding: head.prefix(length), as: UTF8.self)
        }
        let collapsed = collapsingWhitespace(text, maxScalars: 4 * length)
        return String(String(decoding: collapsed, as: UTF8.self).prefix(length))
    }

    /// UTF-8 text with runs of whitespace turned into one space, trimmed, cut after `maxScalars` non-space scalars.
    static func collapsingWhitespace(_ s: UnsafeBufferPointer<UInt8>, maxScalars: Int) -> [UInt8] {
        // Each input byte gives at most one output byte, so `s.count` bytes always suffice.
        [UInt8](unsafeUninitializedCapacity: s.count) { out, outCount in
            guard let src = s.baseAddress, let dst = out.baseAddress else { return }
            let n = s.count
            var count = 0
            var pendingSpace = false
            var scalars = 0
            var i = 0
            while i < n {
                let b = src[i]
                if b &- 0x21 < 0x5F {
                    // Visible ASCII, one scalar a byte: copy the whole run.
                    if scalars >= maxScalars { break }
                    if pendingSpace {
                        dst[count] = Bytes.space
                        count += 1
                        pendingSpace = false
                    }
                    repeat {
                        dst[count] = src[i]
                        count &+= 1
                        scalars &+= 1
                        i &+= 1
                    } while i < n && scalars < maxScalars && src[i] &- 0x21 < 0x5F
                    continue
                }
                // ASCII whitespace, and U+00A0 NO-BREAK SPACE (C2 A0).
                if b <= Bytes.space {
                    if Bytes.isSpace(b) || b == 0x0C || b == 0x0B {
                        pendingSpace = count > 0
                        i += 1
                        continue
                    }
                } else if b == 0xC2, i + 1 < n, src[i + 1] == 0xA0 {
                    pendingSpace = count > 0
                    i += 2
                    continue
                }
                if b & 0xC0 != 0x80 {
                    scalars += 1
                    if scalars > maxScalars { break }
                }
                if pendingSpace {
                    dst[count] = Bytes.space
                    count += 1
                    pendingSpace = false
                }
                dst[count] = b
                count += 1
                i += 1
            }
            outCount = count
        }
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
