/// Finds the body parts of a multipart body between its boundary delimiters.
enum MultipartSplitter {
    // RFC 2046 §5.1.1:
    //   multipart-body := [preamble CRLF] dash-boundary transport-padding CRLF body-part
    //                     *encapsulation close-delimiter transport-padding [CRLF epilogue]
    //   encapsulation  := delimiter transport-padding CRLF body-part
    //   delimiter      := CRLF dash-boundary ; dash-boundary := "--" boundary
    /// The ranges of the body parts in `buf[range]`, preamble and epilogue excluded.
    ///
    /// A delimiter must start a line and be followed only by "--" and transport padding, so a
    /// boundary that is a prefix of another does not match it. The CRLF before a delimiter belongs
    /// to the delimiter. Without a close delimiter, the last part runs to the end of the range.
    static func split(_ buf: UnsafeBufferPointer<UInt8>, _ range: Range<Int>, boundary: [UInt8]) -> [Range<Int>] {
        let end = range.upperBound
        let needed = boundary.count + 2
        var parts = [Range<Int>]()
        var partStart: Int?
        var pos = range.lowerBound
        while pos < end {
            let nl = Bytes.find(Bytes.lf, in: buf, from: pos, to: end)
            let lineEnd = nl ?? end
            let next = nl.map { $0 + 1 } ?? end
            if lineEnd - pos >= needed, buf[pos] == Bytes.dash, buf[pos + 1] == Bytes.dash,
                matches(buf, at: pos + 2, boundary)
            {
                var after = pos + needed
                let isClose = after + 1 < lineEnd && buf[after] == Bytes.dash && buf[after + 1] == Bytes.dash
                if isClose { after += 2 }
                var padding = after
                while padding < lineEnd, Bytes.isSpace(buf[padding]) { padding += 1 }
                if padding == lineEnd {
                    if let s = partStart {
                        var e = pos
                        if e > s, buf[e - 1] == Bytes.lf {
                            e -= 1
                            if e > s, buf[e - 1] == Bytes.cr { e -= 1 }
                        }
                        parts.append(s..<e)
                    }
                    if isClose { return parts }
                    partStart = next
                }
            }
            pos = next
        }
        if let s = partStart { parts.append(s..<end) }
        return parts
    }

    @inline(__always)
    private static func matches(_ buf: UnsafeBufferPointer<UInt8>, at start: Int, _ boundary: [UInt8]) -> Bool {
        var i = start
        for b in boundary {
            if buf[i] != b { return false }
            i += 1
        }
        return true
    }
}
