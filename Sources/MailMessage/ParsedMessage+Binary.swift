extension ParsedMessage {
    // RFC 3516 §4.2: BINARY[section-binary] = the decoded content of the part.
    /// The content of the part at `path`, with its transfer encoding removed.
    ///
    /// An empty path addresses the whole message for a non-multipart message, like BINARY[].
    public func binaryContent(at path: [Int], in raw: some Collection<UInt8>) throws -> [UInt8] {
        guard let p = path.isEmpty ? root : part(at: path) else { throw MailMessageError.noSuchPart }
        return try Self.withBuffer(raw) { buf in
            guard p.bodyRange.upperBound <= buf.count else { throw MailMessageError.noSuchPart }
            if path.isEmpty { return Array(buf) }
            let body = UnsafeBufferPointer(rebasing: buf[p.bodyRange])
            guard let decoded = TransferDecoding.decode(body, encoding: p.transferEncoding) else {
                throw MailMessageError.unknownTransferEncoding(p.transferEncoding)
            }
            return decoded
        }
    }

    /// The decoded size of the part at `path`: BINARY.SIZE. RFC 3516 §4.2.
    public func binarySize(at path: [Int], in raw: some Collection<UInt8>) throws -> Int {
        try binaryContent(at: path, in: raw).count
    }
}
