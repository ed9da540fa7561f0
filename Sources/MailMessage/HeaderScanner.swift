/// One header field located in a buffer: its name, its folded value and its whole extent.
struct RawField {
    /// The field name, without trailing WSP (RFC 5322 §4.5 obs-optional allows WSP before ":").
    var name: Range<Int>
    /// The folded value after the colon, without the final line break.
    var value: Range<Int>
    /// The whole field including its final line break.
    var full: Range<Int>
}

/// Where a header section ends inside a part.
struct HeaderBounds {
    /// End of the header fields, before the blank line.
    var fieldsEnd: Int
    /// Start of the body: after the blank line, or the end of the part when there is none.
    var bodyStart: Int
}

/// Scans header sections line by line, in linear time.
enum HeaderScanner {
    // RFC 5322 §2.2:  header = *field CRLF ; field = field-name ":" unstructured CRLF
    // RFC 5322 §2.2.3: a line that starts with WSP continues the previous field (folding).
    // RFC 5322 §4.5:   obs-optional = field-name *WSP ":" unstructured CRLF
    /// Calls `body` for every field of the header that starts at `start`, and returns its bounds.
    ///
    /// The header ends at the first empty line, or at `end` when no empty line comes.
    /// Lines without a colon are skipped.
    static func scan(
        _ buf: UnsafeBufferPointer<UInt8>, from start: Int, to end: Int, _ body: (RawField) -> Void
    ) -> HeaderBounds {
        var pos = start
        var pending: RawField?
        while pos < end {
            let nl = Bytes.find(Bytes.lf, in: buf, from: pos, to: end)
            let lineEnd = nl ?? end
            let next = nl.map { $0 + 1 } ?? end
            let first = buf[pos]
            // An empty line (CRLF, LF, or a lone CR before the end) ends the header.
            if lineEnd == pos || (first == Bytes.cr && lineEnd == pos + 1) {
                if let p = pending { body(p) }
                return HeaderBounds(fieldsEnd: pos, bodyStart: next)
            }
            if Bytes.isWSP(first), var p = pending {
                p.value = p.value.lowerBound..<contentEnd(buf, pos, lineEnd)
                p.full = p.full.lowerBound..<next
                pending = p
            } else {
                if let p = pending { body(p) }
                pending = nil
                if let colon = Bytes.find(Bytes.colon, in: buf, from: pos, to: lineEnd) {
                    var nameEnd = colon
                    while nameEnd > pos, Bytes.isWSP(buf[nameEnd - 1]) { nameEnd -= 1 }
                    if nameEnd > pos {
                        pending = RawField(
                            name: pos..<nameEnd, value: (colon + 1)..<contentEnd(buf, colon + 1, lineEnd),
                            full: pos..<next)
                    }
                }
            }
            pos = next
        }
        if let p = pending { body(p) }
        return HeaderBounds(fieldsEnd: end, bodyStart: end)
    }

    /// End of a line's content: `lineEnd` without a CR just before it.
    @inline(__always)
    private static func contentEnd(_ buf: UnsafeBufferPointer<UInt8>, _ start: Int, _ lineEnd: Int) -> Int {
        (lineEnd > start && buf[lineEnd - 1] == Bytes.cr) ? lineEnd - 1 : lineEnd
    }

    /// The unfolded value of `buf[range]` as a string; a value on one line is read in place.
    static func unfoldedString(_ buf: UnsafeBufferPointer<UInt8>, _ range: Range<Int>) -> String {
        withUnfolded(buf, range, Bytes.string)
    }

    /// Calls `body` with the unfolded value of `buf[range]`: a value on one line is its own
    /// unfolded form (once trimmed), so it is passed in place; a folded one is unfolded first.
    static func withUnfolded<R>(_ buf: UnsafeBufferPointer<UInt8>, _ range: Range<Int>,
                                _ body: (UnsafeBufferPointer<UInt8>) -> R) -> R {
        let r = Bytes.trimmed(buf, range)
        if Bytes.find(Bytes.lf, in: buf, from: r.lowerBound, to: r.upperBound) == nil {
            return body(UnsafeBufferPointer(rebasing: buf[r]))
        }
        return unfold(buf, range).withUnsafeBufferPointer(body)
    }

    /// The unfolded value of `buf[range]`: line breaks removed, WSP trimmed. RFC 5322 §2.2.3.
    static func unfold(_ buf: UnsafeBufferPointer<UInt8>, _ range: Range<Int>) -> [UInt8] {
        let r = Bytes.trimmed(buf, range)
        var out = [UInt8]()
        out.reserveCapacity(r.count)
        var i = r.lowerBound
        while i < r.upperBound {
            let b = buf[i]
            if b == Bytes.lf || (b == Bytes.cr && i + 1 < r.upperBound && buf[i + 1] == Bytes.lf) {
                i += 1
                continue
            }
            out.append(b)
            i += 1
        }
        return out
    }
}
