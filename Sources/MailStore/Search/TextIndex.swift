import Foundation
import MailMessage

/// Limits and tuning of the full-text index and the search planner.
public enum SearchLimits {
    /// A mailbox's index merges its newest segments once this many of the same size class
    /// (a power of this number of messages) have piled up.
    public static let mergeFactor = 10
    /// Memory for segments kept between searches (decoded ones, and those built of a
    /// mailbox's waiting messages), per store.
    public static let segmentCacheBytes = 256 << 20
    /// UIDs at or above this make the planner fall back to scanning (its sets are bitmaps).
    public static let maxBitmapUIDs: UInt32 = 1 << 27
    /// A segment of at most this many bytes is kept in its mailbox's segment record, after
    /// its `SegmentInfo`, instead of in pieces of its own: LMDB keeps a value this small on the
    /// leaf (a node may take about half a 4 KiB page), so a delivery's one-message segment, and
    /// the merge that later removes it, touch only the leaf the mailbox's segment list is on.
    public static let inlineSegmentBytes = 1536
    /// Messages indexed per segment while reindexing.
    public static let reindexBatch = 2000
    /// A mailbox's newest messages join its index in one segment once this many UIDs have been
    /// given since its last segment; until then a search reads them (`searchSegments`). One
    /// segment per delivery cost each single append about a fifth of its time (the segment's
    /// record, the merges); a search now reads at most this many messages more.
    public static let deferredMessages = 32
    /// Memory for the words of deferred messages that the writer keeps between commits
    /// (`DeferredTerms`), per store.
    public static let deferredTermBytes = 32 << 20
    /// Mailboxes whose waiting messages' segment, built by a search, is kept for the next
    /// (`TextSegmentCache.waiting`): building it from the writer's words of 31 text messages
    /// of 2 KiB took 1.2 to 1.4 ms here (2.3 to 3 ms when it reads and parses them), the next
    /// search 23 to 44 µs, about what it takes once they are indexed.
    public static let cachedWaitingSegments = 256
    /// At most this many words of one search string are looked up (the longest); the
    /// candidates they give are checked against the whole string.
    public static let maxProbeWords = 8
    /// A search looks its candidates up one by one when they are fewer than one in this many
    /// of the messages between the first and the last of them; with more, it walks those
    /// messages' records in order, decoding only the candidates'. One lookup costs about as
    /// much as walking past this many records (measured over 100,000 messages: 10,000
    /// candidates spread evenly, 7.3 ms looked up against 10.3 ms walked; 30,000 in a row,
    /// 9.3 ms against 3.5 ms).
    public static let lookupFraction = 4
}

/// Figures for `mstore stats`.
public struct TextIndexStatistics: Sendable, Codable {
    public var segments = 0
    public var bytes = 0
    /// The decoded text indexed, when measured.
    public var decodedTextBytes: Int?
}

/// What the store keeps about one segment besides its bytes. Its record is this, followed by
/// the segment's bytes when they are inline (`SearchLimits.inlineSegmentBytes`); otherwise the
/// bytes are pieces in `textChunks`.
struct SegmentInfo {
    var messageCount: Int
    var minUID: UInt32
    var maxUID: UInt32
    var byteCount: Int
    /// Whether the bytes follow the info in its record.
    var isInline: Bool

    static let encodedSize = 16

    /// The number of `textChunks` pieces holding the bytes: none when they are inline.
    var pieceCount: Int { isInline ? 0 : ContentLayout.pieces(forSize: byteCount).count }

    func encoded() -> [UInt8] {
        var w = ByteWriter(capacity: Self.encodedSize)
        w.u32(UInt32(messageCount)); w.u32(minUID); w.u32(maxUID); w.u32(UInt32(byteCount))
        return w.bytes
    }

    init(messageCount: Int, minUID: UInt32, maxUID: UInt32, byteCount: Int) {
        self.messageCount = messageCount
        self.minUID = minUID
        self.maxUID = maxUID
        self.byteCount = byteCount
        isInline = byteCount <= SearchLimits.inlineSegmentBytes
    }

    /// Decodes a segment record (the info, and the inline bytes if any, which are left alone).
    init(decoding buffer: UnsafeRawBufferPointer) throws {
        var r = ByteReader(buffer)
        messageCount = Int(try r.u32())
        minUID = try r.u32()
        maxUID = try r.u32()
        byteCount = Int(try r.u32())
        isInline = buffer.count > Self.encodedSize
        if isInline && buffer.count != Self.encodedSize + byteCount { throw MailStoreError.corrupt("text segment record size") }
    }

    /// The size class: messages are 1-9, 10-99, ... for a merge factor of 10.
    var level: Int {
        var level = 0, n = max(messageCount, 1)
        while n >= SearchLimits.mergeFactor { n /= SearchLimits.mergeFactor; level += 1 }
        return level
    }
}

/// Decoded segments shared by every read of one store. Segments never change once written and
/// their ids are never reused by a committed write, so an entry never goes stale. Only reads
/// fill it, so it never holds a segment of a write that was later rolled back.
final class TextSegmentCache: @unchecked Sendable {
    private let lock = NSLock()
    private var segments: [UInt64: TextSegment] = [:]
    private var order: [UInt64] = []
    private var bytes = 0
    let budget: Int
    /// The writer's words of the messages waiting outside the index, which a search takes
    /// instead of reading those messages.
    let deferredTerms = DeferredTerms()

    init(budget: Int = SearchLimits.segmentCacheBytes) { self.budget = budget }

    func get(_ id: UInt64) -> TextSegment? { lock.withLock { segments[id] } }

    /// The segment a search built of a mailbox's waiting messages, with their count, kept under
    /// the mailbox's last indexed UID, UIDNEXT and message count: an append moves UIDNEXT and an
    /// expunge the count, so a snapshot with the same key has the same waiting messages.
    struct WaitingKey: Equatable { var indexedThrough: UInt32; var uidNext: UInt32; var messages: Int }
    private var waiting: [MailboxID: (key: WaitingKey, segment: TextSegment, count: Int)] = [:]

    func waiting(_ mailbox: MailboxID, _ key: WaitingKey) -> (segment: TextSegment, count: Int)? {
        lock.withLock { waiting[mailbox].flatMap { $0.key == key ? ($0.segment, $0.count) : nil } }
    }

    /// Keeps a mailbox's waiting segment, in the same byte budget as the decoded segments (a
    /// waiting message's text has no size limit). Past the budget, decoded segments go first,
    /// oldest first, then the other waiting segments; `put` likewise, keeping the segment put.
    func putWaiting(_ mailbox: MailboxID, _ key: WaitingKey, _ segment: TextSegment, count: Int) {
        lock.withLock {
            if let old = waiting.removeValue(forKey: mailbox) { bytes -= old.segment.bytes.count }
            guard segment.bytes.count <= budget else { return }
            if waiting.count >= SearchLimits.cachedWaitingSegments { dropWaiting() }
            waiting[mailbox] = (key, segment, count)
            bytes += segment.bytes.count
            trim(keepingNewest: false)
            if bytes > budget { dropWaiting(keeping: mailbox) }
        }
    }

    func put(_ id: UInt64, _ segment: TextSegment) {
        lock.withLock {
            guard segments[id] == nil, segment.bytes.count <= budget else { return }
            segments[id] = segment
            order.append(id)
            bytes += segment.bytes.count
            trim(keepingNewest: true)
            if bytes > budget { dropWaiting() }
        }
    }

    /// The bytes kept, decoded and waiting segments together; for tests.
    var keptBytes: Int { lock.withLock { bytes } }

    /// Drops decoded segments, oldest first, until the budget holds or none is left (but the
    /// newest, if `keepingNewest`). Under `lock`.
    private func trim(keepingNewest: Bool) {
        while bytes > budget, order.count > (keepingNewest ? 1 : 0) {
            let old = order.removeFirst()
            if let s = segments.removeValue(forKey: old) { bytes -= s.bytes.count }
        }
    }

    /// Drops every waiting segment but `mailbox`'s. Under `lock`.
    private func dropWaiting(keeping mailbox: MailboxID? = nil) {
        for (id, entry) in waiting where id != mailbox {
            waiting[id] = nil
            bytes -= entry.segment.bytes.count
        }
    }
}

/// The words of messages not yet in their mailbox's index (`SearchLimits.deferredMessages`),
/// kept by the writer between commits so that the segment that takes them in, and a search
/// meanwhile, need not read and parse them again. Only ever a saving: a message missing here
/// is read from the store, so entries may be dropped at any time (another process's commit may
/// index them, or the budget runs out). They are added only once their commit is durable, since
/// a UID of a commit that failed is given again; a committed UID's content never changes, so a
/// search of any snapshot may use the words of the UIDs it sees.
final class DeferredTerms: @unchecked Sendable {
    private let lock = NSLock()
    private var terms: [MailboxID: [UID: IndexTerms]] = [:]
    private var bytes = 0
    let budget: Int

    init(budget: Int = SearchLimits.deferredTermBytes) { self.budget = budget }

    /// Keeps the words of messages of a durable commit. Past the budget, whole mailboxes'
    /// entries are dropped, in no particular order.
    func add(_ mailbox: MailboxID, _ messages: [(uid: UID, terms: IndexTerms)]) {
        lock.withLock {
            for (uid, words) in messages {
                if let old = terms[mailbox, default: [:]].updateValue(words, forKey: uid) { bytes -= Self.size(old) }
                bytes += Self.size(words)
            }
            while bytes > budget, let victim = terms.keys.first { removeLocked(victim) }
        }
    }

    /// What is kept for `mailbox`.
    func words(of mailbox: MailboxID) -> [UID: IndexTerms] { lock.withLock { terms[mailbox] ?? [:] } }

    /// Removes and returns what is kept for `mailbox`.
    func take(_ mailbox: MailboxID) -> [UID: IndexTerms] { lock.withLock { removeLocked(mailbox) } }

    func drop(_ mailbox: MailboxID) { _ = take(mailbox) }

    @discardableResult
    private func removeLocked(_ mailbox: MailboxID) -> [UID: IndexTerms] {
        guard let taken = terms.removeValue(forKey: mailbox) else { return [:] }
        bytes -= taken.values.reduce(0) { $0 + Self.size($1) }
        return taken
    }

    private static func size(_ t: IndexTerms) -> Int {
        t.fields.reduce(0) { $0 + $1.count } + t.hashes.reduce(0) { $0 + 8 * $1.count }
    }
}

extension Keys {
    static func segment(_ mailbox: MailboxID, _ id: UInt64) -> [UInt8] { key { $0.u32(mailbox.rawValue); $0.u64(id) } }
    static func segmentChunk(_ id: UInt64, _ index: Int) -> [UInt8] { key { $0.u64(id); $0.u16(UInt16(index)) } }
    static let nextSegment = Array("next-segment".utf8)
}

extension StoreReader {
    /// The mailbox's segments, oldest first.
    func segmentList(_ mailbox: MailboxID) throws -> [(id: UInt64, info: SegmentInfo)] {
        var list: [(id: UInt64, info: SegmentInfo)] = []
        try kv.scan(.textSegments, prefix: Keys.mailboxPrefix(mailbox)) { k, v in
            list.append((readU64(k, at: 4), try SegmentInfo(decoding: v)))
            return true
        }
        return list
    }

    /// The highest UID the mailbox's index covers: its newest segment's (segments ascend), 0
    /// when it has none. Every live message above it is deferred (`SearchLimits.deferredMessages`).
    func lastIndexedUID(_ mailbox: MailboxID) throws -> UInt32 {
        var last: UInt32 = 0
        try kv.scan(.textSegments, prefix: Keys.mailboxPrefix(mailbox), reverse: true) { _, v in
            last = try SegmentInfo(decoding: v).maxUID
            return false
        }
        return last
    }

    /// The messages of `mailbox` above `indexedThrough`, in UID order, with their words: from
    /// `known` where given, else read and parsed. Also returns how many were read.
    func unindexedMessages(_ mailbox: MailboxID, after indexedThrough: UInt32,
                           known: [UID: IndexTerms] = [:]) throws -> (messages: [(uid: UID, terms: IndexTerms)], read: Int) {
        guard indexedThrough < .max else { return ([], 0) }
        var messages: [(uid: UID, terms: IndexTerms)] = []
        var read = 0
        try forEachMessage(in: mailbox, uids: UID(indexedThrough + 1)...UID(.max)) { record in
            if let words = known[record.uid] {
                messages.append((record.uid, words))
            } else {
                messages.append((record.uid, IndexTerms(try searchDocument(of: record.content))))
                read += 1
            }
            return true
        }
        return (messages, read)
    }

    /// The mailbox's index as a search sees it: its segments, then one built in memory from
    /// the messages not in them yet (or kept from the last search that built it). Returns the
    /// segments, how many messages wait, and how many of them were read.
    func searchSegments(_ mailbox: Mailbox) throws -> (segments: [TextSegment], waiting: Int, read: Int) {
        let list = try segmentList(mailbox.id)
        var segments = try list.map { try segment($0.id, $0.info, of: mailbox.id) }
        let key = TextSegmentCache.WaitingKey(indexedThrough: list.last?.info.maxUID ?? 0, uidNext: mailbox.uidNext.rawValue,
                                              messages: mailbox.messages)
        if let (kept, count) = segmentCache?.waiting(mailbox.id, key) { return (segments + [kept], count, 0) }
        let (tail, read) = try unindexedMessages(mailbox.id, after: key.indexedThrough,
                                                 known: segmentCache?.deferredTerms.words(of: mailbox.id) ?? [:])
        if !tail.isEmpty {
            let built = try TextSegment(bytes: TextSegment.build(tail.map { ($0.uid.rawValue, $0.terms) }))
            segments.append(built)
            segmentCache?.putWaiting(mailbox.id, key, built, count: tail.count)
        }
        return (segments, tail.count, read)
    }

    /// A segment of `mailbox`, decoded; from the cache when this reader has one.
    func segment(_ id: UInt64, _ info: SegmentInfo, of mailbox: MailboxID) throws -> TextSegment {
        if let cached = segmentCache?.get(id) { return cached }
        var bytes: [UInt8] = []
        bytes.reserveCapacity(info.byteCount)
        if info.isInline {
            try kv.withValue(.textSegments, Keys.segment(mailbox, id)) { v in
                guard let v else { throw MailStoreError.corrupt("missing text segment \(id)") }
                bytes.append(contentsOf: v.dropFirst(SegmentInfo.encodedSize))
            }
        }
        for index in 0..<info.pieceCount {
            try kv.withValue(.textChunks, Keys.segmentChunk(id, index)) { v in
                guard let v else { throw MailStoreError.corrupt("missing text segment \(id) piece \(index)") }
                bytes.append(contentsOf: v)
            }
        }
        guard bytes.count == info.byteCount else { throw MailStoreError.corrupt("text segment \(id) size") }
        let segment = try TextSegment(bytes: bytes)
        segmentCache?.put(id, segment)
        return segment
    }

    /// How the mailbox's index differs from what its messages' content gives: each segment
    /// is rebuilt from the live messages in its UID range and compared byte for byte.
    /// `progress` gets the number of messages compared so far, after each segment.
    func indexProblems(_ mailbox: Mailbox, progress: (Int) -> Void = { _ in }) throws -> [String] {
        var problems: [String] = []
        var covered = 0
        var previousMax: UInt32 = 0
        for (id, info) in try segmentList(mailbox.id) {
            if info.minUID <= previousMax || info.maxUID < info.minUID {
                problems.append("text segment \(id) UIDs \(info.minUID)-\(info.maxUID) out of order")
            }
            previousMax = info.maxUID
            let stored: TextSegment
            do { stored = try segment(id, info, of: mailbox.id) } catch {
                problems.append("text segment \(id): \(error)")
                continue
            }
            var live = UIDBitmap(universe: info.maxUID &+ 1)
            var messages: [(uid: UInt32, terms: IndexTerms)] = []
            try forEachMessage(in: mailbox.id, uids: UID(info.minUID)...UID(info.maxUID)) { record in
                live.insert(record.uid.rawValue)
                let data = try searchData(of: record.content)
                messages.append((record.uid.rawValue, IndexTerms(data.document)))
                if try sortKeys(in: mailbox.id, uid: record.uid) != data.sortKeys {
                    problems.append("UID \(record.uid): sort keys differ from its content; run mstore reindex")
                }
                return true
            }
            covered += messages.count
            progress(covered)
            let have = TextSegment.merge([stored], messageCount: messages.count) { live.contains($0) }
            let want = TextSegment.build(messages)
            if have != want { problems.append("text segment \(id) differs from its messages' content; run mstore reindex") }
        }
        // Messages above the last segment are deferred, fewer than `deferredMessages` of them
        // since every commit that adds one indexes them all once there are that many UIDs.
        var deferred = 0
        if previousMax < .max {
            try forEachMessage(in: mailbox.id, uids: UID(previousMax + 1)...UID(.max)) { _ in deferred += 1; return true }
        }
        if covered + deferred != mailbox.messages {
            problems.append("\(mailbox.messages - covered - deferred) messages missing from the text index")
        } else if deferred >= SearchLimits.deferredMessages {
            problems.append("\(deferred) messages missing from the text index")
        }
        var sortKeyCount = 0
        try kv.scan(.sortKeys, prefix: Keys.mailboxPrefix(mailbox.id)) { _, _ in sortKeyCount += 1; return true }
        if sortKeyCount != mailbox.messages { problems.append("\(sortKeyCount) sort-key records for \(mailbox.messages) messages") }
        return problems
    }

    /// The full-text index's size: segments and their bytes over every mailbox; with
    /// `measureText`, also the decoded text it indexes (TEXT's header and body text of every
    /// message, as folded for search), which reads every message.
    public func textIndexStatistics(measureText: Bool) throws -> TextIndexStatistics {
        var stats = TextIndexStatistics()
        try kv.scan(.textSegments, prefix: []) { _, v in
            stats.segments += 1
            stats.bytes += try SegmentInfo(decoding: v).byteCount
            return true
        }
        guard measureText else { return stats }
        var text = 0
        for account in try accounts() {
            for mailbox in try mailboxes(of: account.id) {
                try forEachMessage(in: mailbox.id) { record in
                    let document = try searchDocument(of: record.content)
                    text += document[.header].count + document[.body].count
                    return true
                }
            }
        }
        stats.decodedTextBytes = text
        return stats
    }

    /// What the full-text index and the sort keys take from a stored message, from one read.
    func searchData(of content: ContentID) throws -> (document: SearchDocument, sortKeys: SortKeys) {
        let (structure, raw) = try parsedContent(content)
        return (SearchDocument(structure, raw: raw), SortKeys(structure))
    }

    /// What the full-text index takes from a stored message, without the sort keys: for a
    /// search or a segment that reads messages the writer kept no words of.
    func searchDocument(of content: ContentID) throws -> SearchDocument {
        let (structure, raw) = try parsedContent(content)
        return SearchDocument(structure, raw: raw)
    }
}

extension StoreWriter {
    /// Queues messages just inserted into `mailbox` (consecutive UIDs) for the index, with
    /// their segment when it was built before the write (UIDs from 0). `flushIndex` sees to
    /// them before the change commits.
    func indexMessages(_ mailbox: MailboxID, _ messages: [(uid: UID, terms: IndexTerms)], prebuilt: [UInt8]? = nil) {
        let first = pending.messages[mailbox] == nil
        pending.messages[mailbox, default: []].append(contentsOf: messages)
        pending.prebuilt[mailbox] = first ? prebuilt : nil
    }

    /// For each mailbox with messages queued by this commit: once `SearchLimits.deferredMessages`
    /// UIDs have been given since its last segment, every message above that segment becomes
    /// one new segment (the queue's prebuilt one when it is exactly those); before that they
    /// stay deferred, and their queue is left in `pending.messages` for the writer to keep
    /// (`DeferredTerms`) once the commit is durable. Called once every change of the commit
    /// has run, inside its transaction.
    func flushIndex() throws {
        var deferred: [MailboxID: [(uid: UID, terms: IndexTerms)]] = [:]
        for (mailboxID, queued) in pending.messages.sorted(by: { $0.key < $1.key }) {
            guard let mailbox = try mailbox(mailboxID) else { continue }
            let indexedThrough = try lastIndexedUID(mailboxID)
            guard Int(mailbox.uidNext.rawValue) - 1 - Int(indexedThrough) >= SearchLimits.deferredMessages else {
                deferred[mailboxID] = queued
                continue
            }
            var known = pending.deferred.take(mailboxID)
            for m in queued { known[m.uid] = m.terms }
            let messages = try unindexedMessages(mailboxID, after: indexedThrough, known: known).messages
            if let prebuilt = pending.prebuilt[mailboxID], let first = messages.first, let last = messages.last,
               messages.count == queued.count, first.uid == queued.lazy.map(\.uid).min() {
                try addSegment(mailboxID, try TextSegment.rebased(prebuilt, by: first.uid.rawValue),
                               messageCount: messages.count, uids: first.uid...last.uid)
            } else {
                try writeSegment(mailboxID, messages)
            }
        }
        pending.messages = deferred
        pending.prebuilt = [:]
    }

    /// Indexes messages of `mailbox` (ascending UIDs) as one new segment, then merges the
    /// mailbox's newest segments as the merge policy asks.
    private func writeSegment(_ mailbox: MailboxID, _ messages: [(uid: UID, terms: IndexTerms)]) throws {
        guard let first = messages.first, let last = messages.last else { return }
        try addSegment(mailbox, TextSegment.build(messages.map { ($0.uid.rawValue, $0.terms) }),
                       messageCount: messages.count, uids: first.uid...last.uid)
    }

    /// Stores `bytes`, the segment of `messageCount` messages with UIDs in `uids`, as the
    /// mailbox's newest segment, then merges as the merge policy asks.
    private func addSegment(_ mailbox: MailboxID, _ bytes: [UInt8], messageCount: Int, uids: ClosedRange<UID>) throws {
        try putSegment(mailbox, bytes, SegmentInfo(messageCount: messageCount, minUID: uids.lowerBound.rawValue,
                                                   maxUID: uids.upperBound.rawValue, byteCount: bytes.count))
        try mergeSegments(of: mailbox)
    }

    private func putSegment(_ mailbox: MailboxID, _ bytes: [UInt8], _ info: SegmentInfo) throws {
        let id = try nextCounter(Keys.nextSegment)
        if info.isInline { return try w.put(.textSegments, Keys.segment(mailbox, id), info.encoded() + bytes) }
        try bytes.withUnsafeBytes { all in
            var offset = 0
            for (index, piece) in ContentLayout.pieces(forSize: bytes.count).enumerated() {
                try w.put(.textChunks, Keys.segmentChunk(id, index), UnsafeRawBufferPointer(rebasing: all[offset..<offset + piece]))
                offset += piece
            }
        }
        try w.put(.textSegments, Keys.segment(mailbox, id), info.encoded())
    }

    func deleteSegment(_ mailbox: MailboxID, _ id: UInt64, _ info: SegmentInfo) throws {
        for index in 0..<info.pieceCount {
            try w.delete(.textChunks, Keys.segmentChunk(id, index))
        }
        try w.delete(.textSegments, Keys.segment(mailbox, id))
    }

    /// Tiered merging: while the newest `mergeFactor` or more segments share a size class,
    /// they become one, without the postings of messages expunged since. Merged segments
    /// are always the newest run, so UIDs stay ascending across a mailbox's segments.
    private func mergeSegments(of mailbox: MailboxID) throws {
        while true {
            let list = try segmentList(mailbox)
            guard let level = list.last?.info.level else { return }
            let run = list.reversed().prefix { $0.info.level == level }.count
            guard run >= SearchLimits.mergeFactor else { return }
            let chosen = Array(list.suffix(run))
            let lo = chosen.map(\.info.minUID).min()!, hi = chosen.map(\.info.maxUID).max()!
            var live = UIDBitmap(universe: hi &+ 1)
            var liveCount = 0, minLive = UInt32.max, maxLive: UInt32 = 0
            try forEachMessage(in: mailbox, uids: UID(lo)...UID(hi)) { record in
                live.insert(record.uid.rawValue)
                liveCount += 1
                minLive = min(minLive, record.uid.rawValue)
                maxLive = max(maxLive, record.uid.rawValue)
                return true
            }
            let segments = try chosen.map { try segment($0.id, $0.info, of: mailbox) }
            for s in chosen { try deleteSegment(mailbox, s.id, s.info) }
            guard liveCount > 0 else { continue }
            let bytes = TextSegment.merge(segments, messageCount: liveCount) { live.contains($0) }
            try putSegment(mailbox, bytes, SegmentInfo(messageCount: liveCount, minUID: minLive, maxUID: maxLive,
                                                       byteCount: bytes.count))
        }
    }

    /// Removes the mailbox's whole index.
    func dropIndex(_ mailbox: MailboxID) throws {
        pending.messages[mailbox] = nil
        pending.prebuilt[mailbox] = nil
        pending.deferred.drop(mailbox)
        for s in try segmentList(mailbox) { try deleteSegment(mailbox, s.id, s.info) }
    }

    /// Rebuilds the mailbox's full-text index and sort keys from its messages, calling
    /// `progress` with the number of messages indexed so far after each batch. Returns the
    /// number of messages indexed.
    @discardableResult
    public func reindex(_ mailbox: MailboxID, progress: (Int) -> Void = { _ in }) throws -> Int {
        try dropIndex(mailbox)
        var messages: [(UID, ContentID)] = []
        try forEachMessage(in: mailbox) { messages.append(($0.uid, $0.content)); return true }
        var batch: [(uid: UID, terms: IndexTerms)] = []
        var total = 0
        for (uid, content) in messages {
            let data = try searchData(of: content)
            batch.append((uid, IndexTerms(data.document)))
            try w.put(.sortKeys, Keys.message(mailbox, uid), data.sortKeys.encoded())
            if batch.count == SearchLimits.reindexBatch {
                try writeSegment(mailbox, batch)
                total += batch.count
                batch.removeAll(keepingCapacity: true)
                progress(total)
            }
        }
        try writeSegment(mailbox, batch)
        total += batch.count
        progress(total)
        return total
    }
}
