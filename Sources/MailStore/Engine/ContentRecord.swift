/// A stored content: the bytes of a message, shared by every message record that has them.
struct ContentRecord {
    var references: Int
    var size: Int
    var sha256: [UInt8]
    var pieceCount: Int
    /// The serialized parse of the content (MailMessage), computed once at append.
    var structure: [UInt8]

    static let recordVersion: UInt8 = 1

    func encoded() -> [UInt8] {
        var w = ByteWriter(capacity: 48 + structure.count)
        w.u8(Self.recordVersion)
        w.varint(references)
        w.varint(size)
        w.raw(sha256)
        w.varint(pieceCount)
        w.blob(structure)
        return w.bytes
    }

    init(references: Int, size: Int, sha256: [UInt8], pieceCount: Int, structure: [UInt8]) {
        self.references = references; self.size = size; self.sha256 = sha256
        self.pieceCount = pieceCount; self.structure = structure
    }

    /// The SHA-256 of an encoded record, read without decoding the rest.
    static func sha256(in buffer: UnsafeRawBufferPointer) throws -> [UInt8] {
        Array(UnsafeRawBufferPointer(rebasing: buffer[try sha256Range(in: buffer)]))
    }

    /// The SHA-256 of an encoded record as a dictionary key, read in place.
    static func sha256Key(in buffer: UnsafeRawBufferPointer) throws -> SHA256Key {
        SHA256Key(UnsafeRawBufferPointer(rebasing: buffer[try sha256Range(in: buffer)]))
    }

    /// Where the SHA-256 lies in an encoded record.
    private static func sha256Range(in buffer: UnsafeRawBufferPointer) throws -> Range<Int> {
        var r = ByteReader(buffer)
        guard try r.u8() == Self.recordVersion else { throw MailStoreError.corrupt("content record version") }
        _ = try r.varint()
        _ = try r.varint()
        return try r.skip(32)
    }

    init(decoding buffer: UnsafeRawBufferPointer) throws {
        var r = ByteReader(buffer)
        guard try r.u8() == Self.recordVersion else { throw MailStoreError.corrupt("content record version") }
        references = try r.int()
        size = try r.int()
        sha256 = try r.raw(32)
        pieceCount = try r.int()
        structure = try r.blob()
    }
}
