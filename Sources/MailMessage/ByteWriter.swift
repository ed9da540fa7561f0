/// Appends compact binary values: LEB128 varints and length-prefixed strings.
struct ByteWriter {
    var bytes = [UInt8]()

    mutating func varint(_ v: Int) {
        var x = UInt64(bitPattern: Int64(v))
        while x >= 0x80 {
            bytes.append(UInt8(truncatingIfNeeded: x) | 0x80)
            x >>= 7
        }
        bytes.append(UInt8(x))
    }

    /// A signed value, zigzag encoded.
    mutating func signed(_ v: Int64) {
        varint(Int(bitPattern: UInt(truncatingIfNeeded: UInt64(bitPattern: (v << 1) ^ (v >> 63)))))
    }

    mutating func string(_ s: String) {
        varint(s.utf8.count)
        bytes.append(contentsOf: s.utf8)
    }

    /// nil as 0, otherwise length + 1 and the bytes.
    mutating func optionalString(_ s: String?) {
        guard let s else { return varint(0) }
        varint(s.utf8.count + 1)
        bytes.append(contentsOf: s.utf8)
    }

    mutating func range(_ r: Range<Int>) {
        varint(r.lowerBound)
        varint(r.count)
    }
}

/// Reads what `ByteWriter` wrote, throwing on truncated or impossible input.
struct ByteReader {
    let bytes: [UInt8]
    var pos = 0

    init(_ bytes: [UInt8]) { self.bytes = bytes }

    var isAtEnd: Bool { pos == bytes.count }

    mutating func byte() throws -> UInt8 {
        guard pos < bytes.count else { throw MailMessageError.malformedSerialization }
        defer { pos += 1 }
        return bytes[pos]
    }

    mutating func varint() throws -> Int {
        var x: UInt64 = 0
        var shift: UInt64 = 0
        while true {
            let b = try byte()
            guard shift < 64 else { throw MailMessageError.malformedSerialization }
            x |= UInt64(b & 0x7F) << shift
            if b < 0x80 { break }
            shift += 7
        }
        let v = Int(truncatingIfNeeded: Int64(bitPattern: x))
        return v
    }

    /// A non-negative varint no larger than `limit`.
    mutating func count(max limit: Int) throws -> Int {
        let v = try varint()
        guard v >= 0, v <= limit else { throw MailMessageError.malformedSerialization }
        return v
    }

    mutating func signed() throws -> Int64 {
        let u = UInt64(bitPattern: Int64(try varint()))
        return Int64(bitPattern: (u >> 1) ^ (0 &- (u & 1)))
    }

    mutating func string() throws -> String {
        let n = try varint()
        guard n >= 0, n <= remaining else { throw MailMessageError.malformedSerialization }
        defer { pos += n }
        return String(decoding: bytes[pos..<(pos + n)], as: UTF8.self)
    }

    mutating func optionalString() throws -> String? {
        let n = try varint()
        guard n >= 0, n <= remaining + 1 else { throw MailMessageError.malformedSerialization }
        if n == 0 { return nil }
        defer { pos += n - 1 }
        return String(decoding: bytes[pos..<(pos + n - 1)], as: UTF8.self)
    }

    mutating func range() throws -> Range<Int> {
        let lo = try count(max: Int(Int32.max) * 1024)
        let n = try count(max: Int(Int32.max) * 1024)
        return lo..<(lo + n)
    }

    /// How many elements of at least one byte each can remain.
    var remaining: Int { bytes.count - pos }
}
