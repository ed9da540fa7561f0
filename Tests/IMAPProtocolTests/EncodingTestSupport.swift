import NIOCore

/// What `write` puts in a fresh buffer, as text (bytes that are not UTF-8 become U+FFFD).
func rendered(_ write: (inout ByteBuffer) -> Void) -> String {
    var buffer = ByteBuffer()
    write(&buffer)
    return String(decoding: buffer.readableBytesView, as: UTF8.self)
}

/// What `write` puts in a fresh buffer, as bytes.
func renderedBytes(_ write: (inout ByteBuffer) -> Void) -> [UInt8] {
    var buffer = ByteBuffer()
    write(&buffer)
    return Array(buffer.readableBytesView)
}

/// A message from lines joined with CRLF, as the store keeps it.
func crlfMessage(_ lines: [String]) -> [UInt8] {
    Array(lines.joined(separator: "\r\n").utf8)
}
