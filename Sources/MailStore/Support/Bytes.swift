/// Appends big-endian integers, varints and byte strings: keys sort correctly and records stay small.
struct ByteWriter {
    var bytes: [UInt8] = []

    init(capacity: Int = 32) { bytes.reserveCapacity(capacity) }

    mutating func u8(_ v: UInt8) { bytes.append(v) }
    mutating func u16(_ v: UInt16) { bytes.append(UInt8(v >> 8)); bytes.append(UInt8(v & 0xFF)) }
    mutating func u32(_ v: UInt32) {
        bytes.append(UInt8(v >> 24)); bytes.append(UInt8((v >> 16) & 0xFF))
        bytes.append(UInt8((v >> 8) & 0xFF)); bytes.append(UInt8(v & 0xFF))
    }
    mutating func u64(_ v: UInt64) { u32(UInt32(v >> 32)); u32(UInt32(v & 0xFFFF_FFFF)) }

    /// LEB128 unsigned varint.
    mutating func varint(_ v: UInt64) {
        var v = v
        while v >= 0x80 { bytes.append(UInt8(v & 0x7F) | 0x80); v >>= 7 }
        bytes.append(UInt8(v))
    }
    mutating func varint(_ v: Int) { varint(UInt64(bitPattern: Int64(v))) }
    /// Zig-zag signed varint.
    mutating func svarint(_ v: Int64) { varint(UInt64(bitPattern: (v << 1) ^ (v >> 63))) }

    /// A varint length, then the bytes.
    mutating func blob<C: Collection>(_ b: C) where C.Element == UInt8 { varint(b.count); bytes.append(contentsOf: b) }
    mutating func string(_ s: String) { blob(Array(s.utf8)) }
    mutating func raw<C: Collection>(_ b: C) where C.Element == UInt8 { bytes.append(contentsOf: b) }
}

/// Reads what `ByteWriter` wrote. Every read is bounds-checked and throws on malformed data.
struct ByteReader {
    let buffer: UnsafeRawBufferPointer
    var offset = 0

    init(_ buffer: UnsafeRawBufferPointer) { self.buffer = buffer }

    var isAtEnd: Bool { offset >= buffer.count }

    mutating func u8() throws -> UInt8 {
        guard offset < buffer.count else { throw MailStoreError.corrupt("record too short") }
        defer { offset += 1 }
        return buffer[offset]
    }
    mutating func u16() throws -> UInt16 { UInt16(try u8()) << 8 | UInt16(try u8()) }
    mutating func u32() throws -> UInt32 {
        guard offset + 4 <= buffer.count else { throw MailStoreError.corrupt("record too short") }
        defer { offset += 4 }
        return readU32(buffer, at: offset)
    }
    mutating func u64() throws -> UInt64 { UInt64(try u32()) << 32 | UInt64(try u32()) }

    mutating func varint() throws -> UInt64 {
        var result: UInt64 = 0
        var shift: UInt64 = 0
        while true {
            let b = try u8()
            result |= UInt64(b & 0x7F) << shift
            if b < 0x80 { return result }
            shift += 7
            if shift > 63 { throw MailStoreError.corrupt("varint too long") }
        }
    }
    mutating func int() throws -> Int { Int(truncatingIfNeeded: try varint()) }
    mutating func svarint() throws -> Int64 {
        let u = try varint()
        return Int64(bitPattern: (u >> 1) ^ (0 &- (u & 1)))
    }
    mutating func blob() throws -> [UInt8] {
        let n = try int()
        guard n >= 0, offset + n <= buffer.count else { throw MailStoreError.corrupt("blob past end") }
        defer { offset += n }
        return Array(buffer[offset..<offset + n])
    }
    mutating func string() throws -> String {
        let n = try int()
        guard n >= 0, offset + n <= buffer.count else { throw MailStoreError.corrupt("blob past end") }
        defer { offset += n }
        return String(decoding: UnsafeRawBufferPointer(rebasing: buffer[offset..<offset + n]), as: UTF8.self)
    }
    /// Skips `n` bytes and returns where they lie.
    mutating func skip(_ n: Int) throws -> Range<Int> {
        guard n >= 0, offset + n <= buffer.count else { throw MailStoreError.corrupt("record too short") }
        defer { offset += n }
        return offset..<offset + n
    }
    /// Skips a blob or string.
    mutating func skipBlob() throws {
        let n = try int()
        guard n >= 0, offset + n <= buffer.count else { throw MailStoreError.corrupt("blob past end") }
        offset += n
    }
    mutating func raw(_ n: Int) throws -> [UInt8] {
        guard offset + n <= buffer.count else { throw MailStoreError.corrupt("record too short") }
        defer { offset += n }
        return Array(buffer[offset..<offset + n])
    }
}

@inline(__always)
func readU32(_ b: UnsafeRawBufferPointer, at i: Int) -> UInt32 {
    UInt32(b[i]) << 24 | UInt32(b[i + 1]) << 16 | UInt32(b[i + 2]) << 8 | UInt32(b[i + 3])
}

@inline(__always)
func readU64(_ b: UnsafeRawBufferPointer, at i: Int) -> UInt64 {
    UInt64(readU32(b, at: i)) << 32 | UInt64(readU32(b, at: i + 4))
}

/// Builds a key from big-endian parts.
func key(_ build: (inout ByteWriter) -> Void) -> [UInt8] {
    var w = ByteWriter(capacity: 16)
    build(&w)
    return w.bytes
}
