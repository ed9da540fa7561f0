/// What the store holds as distinct contents: each stored once, however many messages share it.
public struct ContentStatistics: Sendable, Equatable, Codable {
    /// Distinct contents.
    public var contents: Int
    /// Bytes of the distinct contents (their CRLF form), before any page overhead.
    public var bytes: Int
}

extension StoreReader {
    /// Counts the distinct stored contents and their bytes, for dedup figures. Reads every
    /// content record (not the content itself).
    public func contentStatistics() throws -> ContentStatistics {
        var result = ContentStatistics(contents: 0, bytes: 0)
        try kv.scan(.contents, prefix: []) { _, v in
            result.contents += 1
            result.bytes += try ContentRecord(decoding: v).size
            return true
        }
        return result
    }
}
