/// The hash index (`Subspace.contentHashes`, SHA-256 to content) finds a message's bytes when
/// they are stored already. Its keys are random, so each entry written lands on a B-tree leaf
/// of its own: one more page, and one more disk request, in the commit of every new content.
/// So new contents are not entered one by one. The index covers the contents up to a mark
/// (`Keys.hashIndexedThrough`); a lookup that misses it compares the hash held in each newer
/// content record (at most `deferredContents` of them, in ID order at the end of the contents
/// B-tree); and once there are that many, the commit that stores the last one enters them all.
public enum HashIndex {
    /// The most contents newer than the hash index.
    public static let deferredContents: UInt64 = 64
}

/// A SHA-256 as a dictionary key: read from a record without a copy, compared in four words,
/// and hashed by one of them (the digest is uniform already) rather than byte by byte.
struct SHA256Key: Hashable {
    let words: (UInt64, UInt64, UInt64, UInt64)

    init(_ digest: UnsafeRawBufferPointer) {
        precondition(digest.count == 32)
        words = (digest.loadUnaligned(fromByteOffset: 0, as: UInt64.self),
                 digest.loadUnaligned(fromByteOffset: 8, as: UInt64.self),
                 digest.loadUnaligned(fromByteOffset: 16, as: UInt64.self),
                 digest.loadUnaligned(fromByteOffset: 24, as: UInt64.self))
    }

    init(_ digest: [UInt8]) { self = digest.withUnsafeBytes { SHA256Key($0) } }

    static func == (a: SHA256Key, b: SHA256Key) -> Bool { a.words == b.words }
    func hash(into hasher: inout Hasher) { hasher.combine(words.0) }
}

extension StoreWriter {
    /// The content stored with this SHA-256, if any, as `contentID(sha256:)` finds it, but
    /// reading the contents past the hash index's mark once per commit rather than per lookup.
    func storedContentID(sha256: [UInt8]) throws -> ContentID? {
        if let id = try indexedContentID(sha256: sha256) { return id }
        if let unindexed = pending.unindexedContents { return unindexed[SHA256Key(sha256)] }
        var unindexed: [SHA256Key: ContentID] = [:]
        unindexed.reserveCapacity(Int(HashIndex.deferredContents))
        try forEachUnindexedContent { id, record in
            unindexed[try ContentRecord.sha256Key(in: record)] = id
            return true
        }
        pending.unindexedContents = unindexed
        return unindexed[SHA256Key(sha256)]
    }

    /// Enters in the hash index every content up to `newest` (the newest there is), once
    /// `newest` is at least `minimum` past the index's mark; then moves the mark to `newest`.
    /// Content IDs are never reused, so at most `deferredContents` contents lie past the mark.
    func indexContentHashes(newest: ContentID, minimum: UInt64 = HashIndex.deferredContents) throws {
        guard newest.rawValue >= (try hashIndexedThrough()) &+ minimum else { return }
        var entries: [(sha256: [UInt8], id: ContentID)] = []
        try forEachUnindexedContent { id, record in
            entries.append((try ContentRecord.sha256(in: record), id))
            return true
        }
        for entry in entries { try w.put(.contentHashes, entry.sha256, ByteWriter.u64Bytes(entry.id.rawValue)) }
        try markHashIndexed(through: newest)
    }

    /// Records that the hash index holds every content up to `id` and none past it.
    func markHashIndexed(through id: ContentID) throws {
        try w.put(.meta, Keys.hashIndexedThrough, ByteWriter.u64Bytes(id.rawValue))
    }
}
