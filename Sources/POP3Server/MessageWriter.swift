import NIOCore
#if canImport(Glibc)
import Glibc
#endif

/// Writes a stored message as a POP3 multi-line response body (RFC 1939 §3): lines that start
/// with "." get another ".", the text ends with CRLF, then the ".\r\n" terminator. For TOP it
/// stops after the header and `bodyLines` lines of the body. Fed piece by piece, so a large
/// message is copied once, from the store into the output buffer.
struct MessageWriter {
    private var atLineStart = true
    private var inHeader = true
    /// Whether the current line so far is empty (to find the blank line after the header).
    private var lineEmpty = true
    private var bodyLinesLeft: Int?
    private var endedWithLF = true
    private(set) var done = false

    /// `bodyLines` nil means the whole message (RETR).
    init(bodyLines: Int?) { self.bodyLinesLeft = bodyLines }

    /// Appends one piece; returns false once TOP has written all it needs.
    mutating func append(_ piece: UnsafeRawBufferPointer, to out: inout ByteBuffer) -> Bool {
        guard !done, let base = piece.baseAddress else { return !done }
        var i = 0
        let n = piece.count
        if !inHeader, bodyLinesLeft == 0 { done = true; return false }
        while i < n {
            if atLineStart {
                if piece[i] == UInt8(ascii: ".") { out.writeInteger(UInt8(ascii: ".")) }
                atLineStart = false
            }
            // Copy up to and including the next LF in one go.
            let rest = n - i
            let found = memchr(base + i, Int32(UInt8(ascii: "\n")), rest)
            let end = found.map { UnsafeRawPointer($0) - UnsafeRawPointer(base) + 1 } ?? n
            let segment = UnsafeRawBufferPointer(start: base + i, count: end - i)
            out.writeBytes(segment)
            if found == nil {
                if lineEmpty { lineEmpty = segment.allSatisfy { $0 == UInt8(ascii: "\r") } }
                endedWithLF = false
                i = end
                continue
            }
            // A line ended.
            let lineIsBlank = lineEmpty && segment.allSatisfy { $0 == UInt8(ascii: "\r") || $0 == UInt8(ascii: "\n") }
            endedWithLF = true
            atLineStart = true
            lineEmpty = true
            i = end
            if inHeader {
                if lineIsBlank { inHeader = false }
            } else if let left = bodyLinesLeft {
                bodyLinesLeft = left - 1
            }
            if !inHeader, bodyLinesLeft == 0 { done = true; return false }
        }
        return true
    }

    /// Ends the response: a CRLF if the text did not end with one, then ".\r\n".
    mutating func finish(_ out: inout ByteBuffer) {
        if !endedWithLF { out.writeString("\r\n") }
        out.writeString(".\r\n")
        done = true
    }
}
