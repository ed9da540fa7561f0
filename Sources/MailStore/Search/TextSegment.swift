#if canImport(Glibc)
import Glibc
#elseif canImport(Darwin)
import Darwin
#endif
import CMemmem
import MailMessage

/// One immutable piece of a mailbox's full-text index: for each search field, a dictionary of
/// terms and, for each term, the UIDs of the messages whose field has that word.
///
/// Encoded form (`ByteWriter`'s: big-endian `u32`, LEB128 varints):
/// - `u32` message count, `u32` field count;
/// - per field: `u32` term count, `u32` dictionary length, the dictionary (each term preceded by
///   a 0 byte, and a final 0 byte: one buffer that a substring search runs over whole),
///   `u32` postings length, then per term a varint count and that many varint UIDs, the first
///   absolute and the rest as ascending deltas.
///
/// Segments are never changed once written, so a decoded segment can be cached by its id.
final class TextSegment: Sendable {
    struct Table: Sendable {
        /// The dictionary, as a range of `bytes`.
        var dictionary: Range<Int>
        /// Where each term starts in `bytes`, plus one entry past the last (its separator + 1).
        var termStarts: [Int32]
        /// Where each term's postings start in `bytes`.
        var postingStarts: [Int32]
        var termCount: Int { postingStarts.count }
    }

    let bytes: [UInt8]
    let messageCount: Int
    let tables: [Table]

    /// Decodes `bytes`. Throws on malformed data.
    init(bytes: [UInt8]) throws {
        self.bytes = bytes
        (messageCount, tables) = try bytes.withUnsafeBytes { buf in
            var reader = ByteReader(buf)
            let messages = Int(try reader.u32())
            let fieldCount = Int(try reader.u32())
            guard fieldCount == SearchDocument.Field.allCases.count else { throw MailStoreError.corrupt("text segment fields") }
            var tables: [Table] = []
            for _ in 0..<fieldCount {
                let termCount = Int(try reader.u32())
                let dictionary = try reader.skip(Int(try reader.u32()))
                guard !dictionary.isEmpty, buf[dictionary.lowerBound] == SearchFolding.separator else {
                    throw MailStoreError.corrupt("text segment dictionary")
                }
                var termStarts: [Int32] = []
                termStarts.reserveCapacity(termCount + 1)
                for i in dictionary where buf[i] == SearchFolding.separator { termStarts.append(Int32(i + 1)) }
                guard termStarts.count == termCount + 1 else { throw MailStoreError.corrupt("text segment term count") }
                let postings = try reader.skip(Int(try reader.u32()))
                var postingStarts: [Int32] = []
                postingStarts.reserveCapacity(termCount)
                var p = ByteReader(UnsafeRawBufferPointer(rebasing: buf[postings]))
                for _ in 0..<termCount {
                    postingStarts.append(Int32(postings.lowerBound + p.offset))
                    let n = try p.varint()
                    for _ in 0..<n { _ = try p.varint() }
                }
                guard p.isAtEnd else { throw MailStoreError.corrupt("text segment postings") }
                tables.append(Table(dictionary: dictionary, termStarts: termStarts, postingStarts: postingStarts))
            }
            return (messages, tables)
        }
    }

    /// The encoded segment of `messages` (ascending UIDs): every word of each with its UID.
    static func build(_ messages: [(uid: UInt32, terms: IndexTerms)]) -> [UInt8] {
        var builder = TextSegmentBuilder()
        for field in 0..<SearchDocument.Field.allCases.count {
            // The field's words of every message in one buffer, which the table's terms point
            // into: one allocation to compare against, not one per message.
            var all: [UInt8] = []
            all.reserveCapacity(messages.reduce(0) { $0 + $1.terms.fields[field].count } + TermTable.padding)
            var ends: [Int] = []
            for message in messages {
                all.append(contentsOf: message.terms.fields[field])
                ends.append(all.count)
            }
            all.append(contentsOf: repeatElement(0, count: TermTable.padding))
            all.withUnsafeBufferPointer { buf in
                var table = TermTable(buf)
                var start = 0
                for (m, message) in messages.enumerated() {
                    message.terms.hashes[field].withUnsafeBufferPointer { hashes in
                        // Each message's words start with a separator, and end with one. Words
                        // are short: a plain loop finds the next separator sooner than memchr.
                        var at = start + 1, k = 0
                        while at < ends[m] {
                            var end = at
                            while buf[end] != SearchFolding.separator { end += 1 }
                            table.add(hashes[k], at..<end, uid: message.uid)
                            k += 1
                            at = end + 1
                        }
                    }
                    start = ends[m]
                }
                table.forEachSorted { term, uids in builder.add(field: field, term: term, uids: uids) }
            }
        }
        return builder.encoded(messageCount: messages.count)
    }

    /// `bytes` (an encoded segment) with `base` added to every UID: the segment `build` gives
    /// for the same messages under UIDs `base` higher. Postings hold their first UID absolute
    /// and the rest as deltas, so only each term's first UID is rewritten; the rest is copied.
    static func rebased(_ bytes: [UInt8], by base: UInt32) throws -> [UInt8] {
        try bytes.withUnsafeBytes { buf in
            var r = ByteReader(buf)
            var out = ByteWriter(capacity: bytes.count + bytes.count / 8)
            out.u32(try r.u32())
            let fieldCount = try r.u32()
            out.u32(fieldCount)
            var postings = ByteWriter()
            for _ in 0..<fieldCount {
                let termCount = try r.u32()
                out.u32(termCount)
                let dictionary = try r.skip(Int(try r.u32()))
                out.u32(UInt32(dictionary.count))
                out.raw(buf[dictionary])
                let length = Int(try r.u32())
                let end = r.offset + length
                guard end <= buf.count else { throw MailStoreError.corrupt("text segment postings") }
                postings.bytes.removeAll(keepingCapacity: true)
                for _ in 0..<termCount {
                    let n = try r.varint()
                    postings.varint(n)
                    guard n > 0 else { continue }
                    postings.varint(try r.varint() + UInt64(base))
                    let rest = r.offset
                    for _ in 1..<n { _ = try r.varint() }
                    postings.raw(buf[rest..<r.offset])
                }
                guard r.offset == end else { throw MailStoreError.corrupt("text segment postings") }
                out.u32(UInt32(postings.bytes.count))
                out.raw(postings.bytes)
            }
            return out.bytes
        }
    }

    /// The bytes of term `index` of `table`.
    func term(_ table: Table, _ index: Int) -> Range<Int> {
        Int(table.termStarts[index])..<Int(table.termStarts[index + 1]) - 1
    }

    /// Calls `body` with the UIDs of term `index` of `table`, ascending.
    func forEachPosting(_ table: Table, _ index: Int, _ body: (UInt32) -> Void) {
        bytes.withUnsafeBytes { buf in
            var r = ByteReader(buf)
            r.offset = Int(table.postingStarts[index])
            guard let n = try? r.varint() else { return }
            var uid: UInt64 = 0
            for _ in 0..<n {
                guard let d = try? r.varint() else { return }
                uid += d
                body(UInt32(truncatingIfNeeded: uid))
            }
        }
    }

    /// Calls `body` with the index of each term of `field` that contains `needle` (a word).
    func forEachTerm(of field: Int, containing needle: [UInt8], _ body: (Int) -> Void) {
        let table = tables[field]
        guard !needle.isEmpty, !table.dictionary.isEmpty else { return }
        bytes.withUnsafeBufferPointer { buf in
            needle.withUnsafeBufferPointer { n in
                let base = buf.baseAddress!
                var from = table.dictionary.lowerBound
                let end = table.dictionary.upperBound
                while from < end, let hit = cmemmem(base + from, end - from, n.baseAddress!, n.count) {
                    let at = base.distance(to: hit.assumingMemoryBound(to: UInt8.self))
                    // The term holding the hit: the last one starting at or before it.
                    var lo = 0, hi = table.termCount - 1
                    while lo < hi {
                        let mid = (lo + hi + 1) / 2
                        if Int(table.termStarts[mid]) <= at { lo = mid } else { hi = mid - 1 }
                    }
                    body(lo)
                    from = Int(table.termStarts[lo + 1])
                }
            }
        }
    }

    /// Merges segments into one. Terms are merged in order; a term's postings are the union
    /// of its postings in `segments`, ascending, keeping only UIDs for which `keep` is true.
    static func merge(_ segments: [TextSegment], messageCount: Int, keep: (UInt32) -> Bool) -> [UInt8] {
        var builder = TextSegmentBuilder()
        var uids: [UInt32] = []
        for field in 0..<SearchDocument.Field.allCases.count {
            var heap = TermHeap(segments: segments, field: field)
            for s in segments.indices where segments[s].tables[field].termCount > 0 { heap.push(s, 0) }
            while let top = heap.pop() {
                let (s, t) = (top.segment, top.term)
                let segment = segments[s]
                let termRange = segment.term(segment.tables[field], t)
                uids.removeAll(keepingCapacity: true)
                segment.forEachPosting(segment.tables[field], t) { if keep($0) { uids.append($0) } }
                if t + 1 < segment.tables[field].termCount { heap.push(s, t + 1) }
                // Every other segment holding the same term is at the top of the heap now.
                while let next = heap.peek(), heap.compare(next, top) == 0 {
                    _ = heap.pop()
                    let (s2, t2) = (next.segment, next.term)
                    let other = segments[s2]
                    other.forEachPosting(other.tables[field], t2) { if keep($0) { uids.append($0) } }
                    if t2 + 1 < other.tables[field].termCount { heap.push(s2, t2 + 1) }
                }
                guard !uids.isEmpty else { continue }
                if !uids.isSorted() { uids.sort() }
                builder.add(field: field, term: segment.bytes[termRange], uids: uids[...])
            }
        }
        return builder.encoded(messageCount: messageCount)
    }
}

/// The distinct terms of a batch of messages with their postings: open addressing on the
/// hashes `IndexTerms` computed, bytes compared on a hash match. Postings are kept as one list
/// of (term, UID) occurrences, grouped by term only once all are in (a counting sort), which
/// spares an array per term. Terms are ranges of one buffer, which must outlive the table.
private struct TermTable {
    /// What the table keeps of a term, together, so that a hit reads one entry rather than a
    /// slot in each of several arrays (a batch's terms do not stay in cache).
    private struct Entry {
        var hash: UInt64
        /// The term's first eight bytes (`head`): for a term that short, the whole comparison.
        var head: UInt64
        var start: Int32
        var end: Int32
        /// The last UID the term was seen with: a word repeated in a message counts once.
        var lastUID: UInt32
        var postingCount: Int32
    }

    let bytes: UnsafeBufferPointer<UInt8>
    /// Open addressing: 0 for empty, else a term's hash's high 32 bits over its index + 1, so
    /// that a probe rarely reads anything but the slot. Kept at most half full.
    private var slots: [UInt64]
    private var entries: [Entry] = []
    /// Every posting, in the order added: its term and its UID.
    private var occurrenceTerms: [Int32] = []
    private var occurrenceUIDs: [UInt32] = []

    /// The most slots to start with: a batch's distinct words are far fewer than its words,
    /// and a table sized for all of them would not stay in cache.
    private static let initialSlotLimit = 1 << 14

    /// The bytes past the last term that the buffer must hold, for `head` to read.
    static let padding = 8

    /// A table of terms in `bytes`, which ends with `padding` bytes that are no term's.
    init(_ bytes: UnsafeBufferPointer<UInt8>) {
        self.bytes = bytes
        let words = bytes.count / 8
        var capacity = 64
        while capacity < min(words * 2, Self.initialSlotLimit) { capacity <<= 1 }
        slots = [UInt64](repeating: 0, count: capacity)
        occurrenceTerms.reserveCapacity(words)
        occurrenceUIDs.reserveCapacity(words)
    }

    private static func tag(_ hash: UInt64) -> UInt64 { hash & 0xFFFF_FFFF_0000_0000 }

    /// Adds a posting for `uid` of the term at `range` of `bytes`, whose hash is `hash`.
    mutating func add(_ hash: UInt64, _ range: Range<Int>, uid: UInt32) {
        let mask = slots.count - 1
        let tag = Self.tag(hash)
        let head = self.head(range)
        var i = Int(truncatingIfNeeded: hash) & mask
        while true {
            let slot = slots[i]
            if slot == 0 { break }
            if Self.tag(slot) == tag {
                let e = Int(slot & 0xFFFF_FFFF) - 1
                let entry = entries[e]
                if entry.hash == hash && entry.head == head && equal(entry, range) {
                    if entry.lastUID != uid {
                        entries[e].lastUID = uid
                        entries[e].postingCount += 1
                        occurrenceTerms.append(Int32(e))
                        occurrenceUIDs.append(uid)
                    }
                    return
                }
            }
            i = (i + 1) & mask
        }
        let e = entries.count
        slots[i] = tag | UInt64(e + 1)
        entries.append(Entry(hash: hash, head: head, start: Int32(range.lowerBound), end: Int32(range.upperBound), lastUID: uid, postingCount: 1))
        occurrenceTerms.append(Int32(e))
        occurrenceUIDs.append(uid)
        if entries.count * 2 > slots.count { grow() }
    }

    /// The first eight bytes at `range` (fewer, zero-filled, for a shorter range), read at
    /// once: `bytes` ends with `TermTable.padding` bytes that no term holds.
    @inline(__always)
    private func head(_ range: Range<Int>) -> UInt64 {
        let word = UInt64(littleEndian: UnsafeRawPointer(bytes.baseAddress!).loadUnaligned(fromByteOffset: range.lowerBound, as: UInt64.self))
        return range.count >= 8 ? word : word & ((1 << UInt64(8 * range.count)) - 1)
    }

    /// Whether `entry`'s term, whose head matched, has the bytes at `range`: past the head,
    /// eight bytes at a time, inline, since a call to memcmp would cost more.
    private func equal(_ entry: Entry, _ range: Range<Int>) -> Bool {
        guard Int(entry.end - entry.start) == range.count else { return false }
        guard range.count > 8 else { return true }
        var n = range.count - 8
        let raw = UnsafeRawPointer(bytes.baseAddress!)
        var a = Int(entry.start) + 8, b = range.lowerBound + 8
        while n >= 8 {
            if raw.loadUnaligned(fromByteOffset: a, as: UInt64.self) != raw.loadUnaligned(fromByteOffset: b, as: UInt64.self) {
                return false
            }
            a += 8
            b += 8
            n -= 8
        }
        while n > 0 {
            if bytes[a] != bytes[b] { return false }
            a += 1
            b += 1
            n -= 1
        }
        return true
    }

    private mutating func grow() {
        slots = [UInt64](repeating: 0, count: slots.count * 2)
        let mask = slots.count - 1
        for (e, entry) in entries.enumerated() {
            var i = Int(truncatingIfNeeded: entry.hash) & mask
            while slots[i] != 0 { i = (i + 1) & mask }
            slots[i] = Self.tag(entry.hash) | UInt64(e + 1)
        }
    }

    private func term(_ e: Int) -> UnsafeBufferPointer<UInt8> {
        UnsafeBufferPointer(rebasing: bytes[Int(entries[e].start)..<Int(entries[e].end)])
    }

    /// Calls `body` with each term and its UIDs, in bytewise term order.
    func forEachSorted(_ body: (UnsafeBufferPointer<UInt8>, ArraySlice<UInt32>) -> Void) {
        // Each term's postings, together and in the order added (ascending UIDs).
        var starts = [Int](repeating: 0, count: entries.count + 1)
        for e in entries.indices { starts[e + 1] = starts[e] + Int(entries[e].postingCount) }
        var fill = starts
        var grouped = [UInt32](repeating: 0, count: occurrenceUIDs.count)
        for (term, uid) in zip(occurrenceTerms, occurrenceUIDs) {
            grouped[fill[Int(term)]] = uid
            fill[Int(term)] += 1
        }
        // Sort by `prefixKey`, which is a term's head byte-swapped, comparing the rest only on a tie.
        let keys = entries.map { $0.head.byteSwapped }
        let order = entries.indices.sorted { a, b in
            if keys[a] != keys[b] { return keys[a] < keys[b] }
            return term(a).lexicographicallyPrecedes(term(b))
        }
        for e in order { body(term(e), grouped[starts[e]..<starts[e + 1]]) }
    }
}

/// A term's first eight bytes as a big-endian integer, zero-padded. Terms hold no zero byte,
/// so ordering these keys orders the terms, up to ties that only the rest of the bytes break.
private func prefixKey(_ term: some Collection<UInt8>) -> UInt64 {
    var key: UInt64 = 0, shift: UInt64 = 56
    for b in term.prefix(8) { key |= UInt64(b) << shift; shift &-= 8 }
    return key
}

/// A min-heap of (segment, term index) cursors ordered by term bytes, then segment order.
/// Each cursor carries its term's `prefixKey`, so most comparisons never touch the bytes.
private struct TermHeap {
    struct Item {
        var key: UInt64
        var segment: Int
        var term: Int
    }
    let segments: [TextSegment]
    let field: Int
    var items: [Item] = []

    init(segments: [TextSegment], field: Int) {
        self.segments = segments
        self.field = field
    }

    private func item(_ s: Int, _ t: Int) -> Item {
        let segment = segments[s]
        return Item(key: prefixKey(segment.bytes[segment.term(segment.tables[field], t)]), segment: s, term: t)
    }

    /// Bytewise order of the two cursors' terms.
    func compare(_ a: Item, _ b: Item) -> Int {
        if a.key != b.key { return a.key < b.key ? -1 : 1 }
        let sa = segments[a.segment], sb = segments[b.segment]
        let ra = sa.term(sa.tables[field], a.term), rb = sb.term(sb.tables[field], b.term)
        if ra.count <= 8 && rb.count <= 8 { return ra.count - rb.count }
        let n = min(ra.count, rb.count) - 8
        let c = n <= 0 ? 0 : sa.bytes.withUnsafeBufferPointer { pa in
            sb.bytes.withUnsafeBufferPointer { pb in
                Int(memcmp(pa.baseAddress! + ra.lowerBound + 8, pb.baseAddress! + rb.lowerBound + 8, n))
            }
        }
        return c != 0 ? c : ra.count - rb.count
    }

    private func less(_ i: Int, _ j: Int) -> Bool {
        let c = compare(items[i], items[j])
        return c < 0 || (c == 0 && items[i].segment < items[j].segment)
    }

    func peek() -> Item? { items.first }

    mutating func push(_ s: Int, _ t: Int) {
        items.append(item(s, t))
        var i = items.count - 1
        while i > 0 {
            let parent = (i - 1) / 2
            guard less(i, parent) else { break }
            items.swapAt(i, parent)
            i = parent
        }
    }

    mutating func pop() -> Item? {
        guard !items.isEmpty else { return nil }
        let top = items[0]
        items[0] = items[items.count - 1]
        items.removeLast()
        var i = 0
        while true {
            let l = 2 * i + 1, r = l + 1
            var m = i
            if l < items.count && less(l, m) { m = l }
            if r < items.count && less(r, m) { m = r }
            if m == i { break }
            items.swapAt(i, m)
            i = m
        }
        return top
    }
}

/// Writes a segment: terms must be added in ascending order per field.
struct TextSegmentBuilder {
    private var dictionaries = [[UInt8]](repeating: [SearchFolding.separator], count: SearchDocument.Field.allCases.count)
    private var postings = [ByteWriter](repeating: ByteWriter(), count: SearchDocument.Field.allCases.count)
    private var counts = [Int](repeating: 0, count: SearchDocument.Field.allCases.count)

    mutating func add(field: Int, term: some Collection<UInt8>, uids: ArraySlice<UInt32>) {
        dictionaries[field].append(contentsOf: term)
        dictionaries[field].append(SearchFolding.separator)
        counts[field] += 1
        postings[field].varint(uids.count)
        var last: UInt32 = 0
        for uid in uids {
            postings[field].varint(UInt64(uid - last))
            last = uid
        }
    }

    func encoded(messageCount: Int) -> [UInt8] {
        var out = ByteWriter(capacity: 8 + dictionaries.reduce(0) { $0 + $1.count + 12 } + postings.reduce(0) { $0 + $1.bytes.count })
        out.u32(UInt32(messageCount))
        out.u32(UInt32(dictionaries.count))
        for field in dictionaries.indices {
            out.u32(UInt32(counts[field]))
            out.u32(UInt32(dictionaries[field].count))
            out.raw(dictionaries[field])
            out.u32(UInt32(postings[field].bytes.count))
            out.raw(postings[field].bytes)
        }
        return out.bytes
    }
}

extension Array where Element == UInt32 {
    func isSorted() -> Bool {
        guard count > 1 else { return true }
        for i in 1..<count where self[i - 1] > self[i] { return false }
        return true
    }
}
