import Foundation
import MailMessage
import TestSupport
import Testing
@testable import MailStore

/// Varied generated mail: charsets, transfer encodings, encoded words, multipart, HTML,
/// attachments, long tokens and case-sensitive Unicode.
struct MailGenerator {
    var rng: SplitMix64

    static let words = [
        "would", "could", "should", "meeting", "report", "budget", "Alpha", "BETA", "gamma", "delta",
        "release", "patch", "notmuch", "review", "tomorrow", "invoice", "Grüße", "Straße", "STRASSE",
        "ΟΔΟΣ", "οδός", "İstanbul", "naïve", "日本語", "Привет", "café", "ﬁle", "x-ray", "re:",
        "foo.bar", "user@example.org", "2026", "v1.2.3", "the", "a", "of", "and",
    ]
    static let names = ["Alice Smith", "Bob Jones", "Chloé Dupont", "Jürgen Groß", "李小龙", "Zoë"]
    static let domains = ["example.org", "example.com", "mail.test"]

    mutating func pick<T>(_ list: [T]) -> T { list[Int.random(in: 0..<list.count, using: &rng)] }
    mutating func chance(_ p: Double) -> Bool { Double.random(in: 0..<1, using: &rng) < p }

    mutating func longToken() -> String {
        let hex = Array("0123456789abcdef")
        return String((0..<Int.random(in: 50...120, using: &rng)).map { _ in pick(hex) })
    }

    mutating func sentence(_ n: Int) -> String {
        (0..<n).map { _ in chance(0.03) ? longToken() : pick(Self.words) }.joined(separator: pick([" ", " ", ", ", "\t", " -- "]))
    }

    mutating func address() -> String {
        let name = pick(Self.names)
        let local = name.lowercased().filter { $0.isASCII && $0.isLetter }
        let addr = "\(local.isEmpty ? "user" : local)@\(pick(Self.domains))"
        if chance(0.3) { return addr }
        if name.allSatisfy(\.isASCII) { return "\"\(name)\" <\(addr)>" }
        return "\(encodedWord(name)) <\(addr)>"
    }

    mutating func encodedWord(_ s: String) -> String {
        if chance(0.5) { return "=?utf-8?b?\(Data(s.utf8).base64EncodedString())?=" }
        let q = s.utf8.map { b -> String in
            b < 0x80 && b != 0x20 && b != 0x3D && b != 0x3F && b != 0x5F ? String(UnicodeScalar(b)) : String(format: "=%02X", b)
        }.joined()
        return "=?UTF-8?Q?\(q)?="
    }

    mutating func quotedPrintable(_ s: String) -> String {
        s.utf8.map { b in b >= 0x80 || b == 0x3D ? String(format: "=%02X", b) : String(UnicodeScalar(b)) }.joined()
    }

    mutating func message(_ n: Int) -> [UInt8] {
        var h = "From: \(address())\r\nTo: \(address())"
        if chance(0.5) { h += ", \(address())" }
        h += "\r\n"
        if chance(0.4) { h += "Cc: \(address())\r\n" }
        if chance(0.2) { h += "Bcc: \(address())\r\n" }
        let subject = sentence(Int.random(in: 1...6, using: &rng))
        h += "Subject: \(chance(0.3) ? encodedWord(subject) : subject)\r\n"
        let day = Int.random(in: 1...28, using: &rng)
        h += "Date: \(pick(["Mon", "Tue", "Wed"])), \(day) Mar 2026 \(Int.random(in: 10...23, using: &rng)):00:00 \(pick(["+0000", "-0800", "+0530"]))\r\n"
        h += "Message-ID: <\(n).\(longToken().prefix(12))@\(pick(Self.domains))>\r\n"
        if chance(0.5) { h += "X-Tag: \(sentence(3))\r\n" }
        h += "MIME-Version: 1.0\r\n"
        let text = sentence(Int.random(in: 5...60, using: &rng))
        switch Int.random(in: 0..<5, using: &rng) {
        case 0:
            h += "Content-Type: text/plain; charset=utf-8\r\nContent-Transfer-Encoding: 8bit\r\n\r\n\(text)\r\n"
        case 1:
            h += "Content-Type: text/plain; charset=utf-8\r\nContent-Transfer-Encoding: quoted-printable\r\n\r\n\(quotedPrintable(text))\r\n"
        case 2:
            let latin = text.unicodeScalars.map { $0.value < 256 ? String($0) : "?" }.joined()
            let bytes = latin.unicodeScalars.map { UInt8($0.value) }
            h += "Content-Type: text/plain; charset=iso-8859-1\r\nContent-Transfer-Encoding: base64\r\n\r\n\(Data(bytes).base64EncodedString(options: .lineLength76Characters))\r\n"
        case 3:
            h += "Content-Type: multipart/alternative; boundary=\"b\(n)\"\r\n\r\n--b\(n)\r\nContent-Type: text/plain; charset=utf-8\r\n\r\n\(text)\r\n--b\(n)\r\nContent-Type: text/html; charset=utf-8\r\n\r\n<html><body><p>\(text.replacingOccurrences(of: " ", with: "</p> <p>"))</p> <b>\(pick(Self.words))</b>&amp;</body></html>\r\n--b\(n)--\r\n"
        default:
            let file = "\(pick(Self.words))-\(n).pdf"
            h += "Content-Type: multipart/mixed; boundary=\"m\(n)\"\r\n\r\n--m\(n)\r\nContent-Type: text/plain; charset=utf-8\r\n\r\n\(text)\r\n--m\(n)\r\nContent-Type: application/pdf; name=\"\(file)\"\r\nContent-Disposition: attachment; filename=\"\(file)\"\r\nContent-Transfer-Encoding: base64\r\n\r\n\(Data((0..<40).map { _ in UInt8.random(in: 0...255, using: &rng) }).base64EncodedString())\r\n--m\(n)--\r\n"
        }
        return Array(h.utf8)
    }

    /// A search string: a word, part of one, several, or text no message has.
    mutating func needle() -> String {
        let word = pick(Self.words)
        switch Int.random(in: 0..<9, using: &rng) {
        case 0: return word
        case 1: return word.uppercased()
        case 2:
            let chars = Array(word)
            let start = Int.random(in: 0..<chars.count, using: &rng)
            return String(chars[start..<min(chars.count, start + Int.random(in: 1...4, using: &rng))])
        case 3: return "\(pick(Self.words)) \(pick(Self.words))"
        case 4: return pick(["@", ".", " ", "-- ", "=?", "<", ""])
        case 5: return longToken().prefix(Int.random(in: 3...40, using: &rng)).description
        case 6: return pick(Self.names).split(separator: " ").first.map(String.init) ?? "x"
        case 7: return pick(Self.domains)
        default: return "zzqx\(Int.random(in: 0...9, using: &rng))"
        }
    }

    mutating func query(depth: Int = 0) -> SearchQuery {
        let n = Int.random(in: 0..<(depth < 3 ? 22 : 17), using: &rng)
        switch n {
        case 0: return .text(.from, needle())
        case 1: return .text(.to, needle())
        case 2: return .text(.cc, needle())
        case 3: return .text(.bcc, needle())
        case 4: return .text(.subject, needle())
        case 5, 6: return .text(.body, needle())
        case 7, 8: return .text(.text, needle())
        case 9: return .header(name: pick(["Subject", "x-tag", "Message-ID", "from", "X-None"]), needle())
        case 10: return .flags(pick([.seen, .flagged, [.seen, .answered]]))
        case 11:
            let size = Int.random(in: 200...1500, using: &rng)
            return Bool.random(using: &rng) ? .larger(size) : .smaller(size)
        case 12: return .sentDate(pick([.before(day: 20525), .on(day: 20522), .since(day: 20530)]))
        case 13: return .keyword(pick(["$label1", "todo", "unknown"]))
        case 14:
            let a = UInt32.random(in: 1...400, using: &rng)
            return .uids([a...a + UInt32.random(in: 0...300, using: &rng)])
        case 15: return .all
        case 16:
            if chance(0.5) { return .modSeq(atLeast: UInt64.random(in: 1...4000, using: &rng)) }
            return .internalDate(pick([.before(day: 20525), .since(day: 20530), .on(day: 20527)]))
        case 17, 18: return .not(query(depth: depth + 1))
        case 19: return .or(query(depth: depth + 1), query(depth: depth + 1))
        default: return .and((0..<Int.random(in: 2...3, using: &rng)).map { _ in query(depth: depth + 1) })
        }
    }
}

/// Stores without fsync: these tests are about search results, not durability.
private let fastOptions = { var options = MailStore.Options(); options.unsafeNoSync = true; return options }()

/// A store opened with `fastOptions`, checked for consistency when `body` ends.
private func withFastStore<T>(_ body: (MailStore) async throws -> T) async throws -> T {
    let path = temporaryStorePath()
    defer { try? FileManager.default.removeItem(atPath: path) }
    let store = try MailStore(path: path, options: fastOptions)
    let result = try await body(store)
    #expect(try store.checkConsistency() == [])
    store.close()
    return result
}

/// Every (field, term, UID) a search of the mailbox sees for a live message: its segments and
/// the messages deferred from them.
private func postings(_ store: MailStore, _ mailbox: MailboxID) throws -> Set<String> {
    try store.read { tx in
        let live = Set(try tx.uids(in: mailbox).map(\.rawValue))
        var result = Set<String>()
        for segment in try tx.searchSegments(try tx.requireMailbox(mailbox)).segments {
            for (field, table) in segment.tables.enumerated() {
                for t in 0..<table.termCount {
                    let term = String(decoding: segment.bytes[segment.term(table, t)], as: UTF8.self)
                    segment.forEachPosting(table, t) { uid in
                        if live.contains(uid) { result.insert("\(field)|\(term)|\(uid)") }
                    }
                }
            }
        }
        return result
    }
}

@Suite struct SearchIndexTests {
    @Test func substringCaseAndEncodingSemantics() async throws {
        try await withFastStore { store in
            let (_, inbox) = try await makeAlice(store)
            let raw = "From: =?utf-8?q?J=C3=BCrgen_Gro=C3=9F?= <jg@example.org>\r\nTo: bob@example.com\r\n"
                + "Subject: =?iso-8859-1?q?Caf=E9?= would you\r\nContent-Type: text/html; charset=utf-8\r\n\r\n"
                + "<p>Stra&szlig;e Straße <b>ΟΔΟΣ</b> \(String(repeating: "ab", count: 40))xyz</p>\r\n"
            let uid = try await store.write { try $0.append(to: inbox.id, PreparedMessage(Array(raw.utf8))).uid }
            func hits(_ q: SearchQuery) throws -> [UID] { try store.read { try $0.search(in: inbox.id, q).uids } }
            func check() throws {
                for q: SearchQuery in [
                    .text(.subject, "ould"), .text(.subject, "CAFÉ"), .text(.from, "jürgen GROSS"), .text(.from, "GROß"),
                    .text(.from, "=?utf-8?q?"), .text(.body, "STRASSE"), .text(.body, "οδοσ"), .text(.text, "ould y"),
                    .text(.body, "babx"), .text(.body, String(repeating: "ba", count: 30)), .header(name: "to", "COM"),
                    .header(name: "Subject", ""), .text(.to, "@"), .text(.cc, ""),
                ] {
                    #expect(try hits(q) == [uid], "\(q)")
                }
                for q: SearchQuery in [
                    .text(.subject, "woulda"), .text(.body, "gross"), .text(.to, "jg"), .header(name: "cc", ""),
                    .text(.body, "would"), .text(.cc, "a"),
                    // Thousands of words: only the longest few are looked up, then the whole is checked.
                    .text(.text, (0..<5000).map { "w\($0 % 97)" }.joined(separator: " ")),
                ] {
                    #expect(try hits(q) == [], "\(q)")
                }
            }
            // Alone in its mailbox the message waits for others before it is indexed, and a
            // search reads it; reindexed, the index answers. Both must agree.
            let deferred = try store.read { try $0.search(in: inbox.id, .text(.subject, "ould")) }
            #expect(deferred.contentReads == 0 && deferred.plan.contains("not in the index yet"), "\(deferred.plan)")
            try check()
            try await store.write { try $0.reindex(inbox.id) }
            let plan = try store.read { try $0.search(in: inbox.id, .text(.subject, "ould")) }
            #expect(plan.contentReads == 0 && plan.plan.contains("index"))
            try check()
        }
    }

    /// A date or size test that every message passes (or none does) is settled by the mailbox's
    /// first and last days or size classes alone; one that splits the mailbox reads the date or
    /// size index. Both answer as the records do.
    @Test func rangesSettledByTheMailboxsSpan() async throws {
        try await withFastStore { store in
            let (_, inbox) = try await makeAlice(store)
            let day0 = 20_000
            try await store.write { tx in
                for i in 0..<12 {
                    // Days day0, day0 + 2 and day0 + 4, in zones that move some across midnight.
                    let date = ZonedDate(seconds: Int64(day0 + 2 * (i % 3)) * 86_400 + 3_600, zoneMinutes: i % 2 == 0 ? 0 : -120)
                    try tx.append(to: inbox.id, message(i, body: String(repeating: "w", count: i * 40)),
                                  flags: i % 4 == 0 ? [.flagged] : [], internalDate: date)
                }
            }
            let sizes = try store.read { tx in try tx.messages(in: inbox.id).map(\.size).sorted() }
            let cases: [(SearchQuery, String)] = [
                (.internalDate(.since(day: day0 - 30)), "in the range"),
                (.internalDate(.before(day: day0 - 30)), "outside the range"),
                (.internalDate(.before(day: day0 + 30)), "in the range"),
                (.internalDate(.on(day: day0 + 3)), "internal date: index"),
                (.internalDate(.on(day: day0 + 9)), "outside the range"),
                (.internalDate(.since(day: day0 + 2)), "internal date: index"),
                (.and([.flags(.flagged), .internalDate(.since(day: day0 - 1)), .internalDate(.before(day: day0 + 9))]), "in the range"),
                (.and([.flags(.flagged), .internalDate(.on(day: day0 + 2))]), "flags: index"),
                (.larger(1_000_000), "size: every message's size is outside"),
                (.smaller(1_000_000), "size: every message's size is in"),
                (.larger(2), "size: every message's size is in"),
                (.and([.flags(.flagged), .smaller(3)]), "size: every message's size is outside"),
                (.larger(sizes[sizes.count / 2]), "size: index"),
                (.smaller(sizes[sizes.count / 2] + 1), "size: index"),
            ]
            for (q, expected) in cases {
                let (indexed, naive) = try store.read { tx in
                    (try tx.search(in: inbox.id, q), try tx.search(in: inbox.id, q, useIndex: false))
                }
                #expect(indexed.uids == naive.uids, "\(q)")
                #expect(indexed.plan.contains(expected), "\(q): \(indexed.plan)")
            }
            #expect(try store.read { try $0.search(in: inbox.id, .internalDate(.since(day: day0 - 30))).uids.count } == 12)
        }
    }

    /// The index answers every generated program exactly as reading every message does.
    @Test(arguments: [UInt64(1), 2]) func indexedSearchEqualsNaiveScan(seed: UInt64) async throws {
        try await withFastStore { store in
            let (account, inbox) = try await makeAlice(store)
            var gen = MailGenerator(rng: SplitMix64(seed: seed))
            let count = 3000
            var n = 0
            while n < count {
                var batch: [(PreparedMessage, MessageFlags, [String], ZonedDate)] = []
                for _ in 0..<min(250, count - n) {
                    n += 1
                    let flags: MessageFlags = gen.pick([[], [.seen], [.seen, .flagged], [.seen, .answered]])
                    // Internal dates over days 20520 to 20535, some in a zone that moves their day.
                    let date = ZonedDate(seconds: Int64(20520 * 86400 + n * 461), zoneMinutes: gen.pick([0, 0, -300, 540]))
                    batch.append((PreparedMessage(gen.message(n)), flags, gen.chance(0.2) ? ["$label1"] : [], date))
                }
                let items = batch
                // Every other batch goes in as a `PreparedBatch`, whose segment is stored as
                // built; every fourth after one message appended alone in the same change,
                // which makes the commit build one segment for both instead.
                let prepared = n / 250 % 2 == 0
                    ? PreparedBatch(items.dropFirst(n / 250 % 4 == 0 ? 1 : 0).map {
                        PreparedBatch.Entry($0.0, flags: $0.1, keywords: $0.2, internalDate: $0.3)
                    }) : nil
                let alone = n / 250 % 4 == 0 ? items.prefix(1) : []
                try await store.write { tx in
                    for (m, flags, keywords, date) in prepared == nil ? items[...] : alone {
                        try tx.append(to: inbox.id, m, flags: flags, keywords: keywords, internalDate: date)
                    }
                    if let prepared { try tx.append(to: inbox.id, prepared) }
                }
            }
            // Some churn, so that the index holds postings of expunged messages.
            try await store.write { tx in
                _ = try tx.expunge(in: inbox.id, uids: stride(from: 3, to: count, by: 7).map { UID(UInt32($0)) })
            }
            _ = account
            var indexReads = 0, naiveReads = 0
            for i in 0..<(ProcessInfo.processInfo.environment["SEARCH_QUERIES"].flatMap { Int($0) } ?? 80) {
                let q = gen.query()
                let (indexed, naive) = try store.read { tx in
                    // Every other query asks for records, which takes the planner's other paths.
                    (try tx.search(in: inbox.id, q, records: i % 2 == 0), try tx.search(in: inbox.id, q, useIndex: false, records: true))
                }
                #expect(indexed.uids == naive.uids, "seed \(seed) query \(i): \(q)")
                #expect(naive.records.map(\.uid) == naive.uids)
                if i % 2 == 0 { #expect(indexed.records == naive.records, "seed \(seed) query \(i): \(q)") }
                indexReads += indexed.contentReads
                naiveReads += naive.contentReads
            }
            #expect(indexReads < naiveReads / 3, "the index should spare most reads: \(indexReads) vs \(naiveReads)")
        }
    }

    /// After random appends, flag changes, copies, moves and expunges, the index holds
    /// exactly what a fresh reindex builds.
    @Test func indexUnderChurnEqualsReindex() async throws {
        try await withFastStore { store in
            let (account, inbox) = try await makeAlice(store)
            let other = try await store.write { try $0.createMailbox(account: account.id, name: "Other") }
            var gen = MailGenerator(rng: SplitMix64(seed: 7))
            for step in 0..<400 {
                let action = Int.random(in: 0..<10, using: &gen.rng)
                let message = PreparedMessage(gen.message(step))
                let second = PreparedMessage(gen.message(step + 1000))
                let pick = UInt32.random(in: 1...UInt32(step + 1), using: &gen.rng)
                try await store.write { tx in
                    let box = step % 3 == 0 ? other.id : inbox.id
                    switch action {
                    case 0..<4: try tx.append(to: box, message)
                    case 4:
                        try tx.append(to: box, message)
                        try tx.append(to: box, second)
                    case 5: try tx.store(in: box, uids: [UID(pick)], FlagChange(.add, flags: .seen))
                    case 6: try tx.copy(uids: (pick..<pick + 5).map { UID($0) }, from: inbox.id, to: other.id)
                    case 7: try tx.move(uids: (pick..<pick + 3).map { UID($0) }, from: other.id, to: inbox.id)
                    default: try tx.expunge(in: box, uids: (pick..<pick + 2).map { UID($0) })
                    }
                }
            }
            for box in [inbox.id, other.id] {
                let before = try postings(store, box)
                #expect(!before.isEmpty)
                try await store.write { try $0.reindex(box) }
                #expect(try postings(store, box) == before)
            }
        }
    }

    /// A waiting segment (whose messages' text has no size limit) counts against the segment
    /// cache's byte budget like a decoded one: the cache never holds more than its budget.
    @Test func waitingSegmentsStayWithinTheCacheBudget() throws {
        func segment(_ n: Int, words: Int) throws -> TextSegment {
            let body = (0..<words).map { "w\(n)x\($0)" }.joined(separator: " ")
            let m = PreparedMessage(Array("Subject: s\(n)\r\n\r\n\(body)\r\n".utf8))
            return try TextSegment(bytes: TextSegment.build([(uid: 1, terms: m.terms)]))
        }
        let big = try segment(0, words: 2000)
        let cache = TextSegmentCache(budget: big.bytes.count * 5 / 2)
        let key = TextSegmentCache.WaitingKey(indexedThrough: 0, uidNext: 2, messages: 1)
        for n in 0..<4 { cache.putWaiting(MailboxID(rawValue: UInt32(n)), key, try segment(n, words: 2000), count: 1) }
        #expect(cache.keptBytes <= cache.budget)
        // The newest is kept; an older one was dropped to make room.
        #expect(cache.waiting(MailboxID(rawValue: 3), key) != nil)
        #expect(cache.waiting(MailboxID(rawValue: 0), key) == nil)
        // Replacing a mailbox's entry does not count it twice; one over the budget is not kept.
        cache.putWaiting(MailboxID(rawValue: 3), key, big, count: 1)
        #expect(cache.keptBytes <= cache.budget)
        cache.putWaiting(MailboxID(rawValue: 9), key, try segment(9, words: 6000), count: 1)
        #expect(cache.waiting(MailboxID(rawValue: 9), key) == nil)
        #expect(cache.keptBytes <= cache.budget)
        // A decoded segment is kept, pushing waiting ones out when no older decoded one is left...
        cache.put(1, big)
        #expect(cache.get(1) != nil && cache.waiting(MailboxID(rawValue: 3), key) == nil)
        // ...and older decoded ones first.
        cache.putWaiting(MailboxID(rawValue: 5), key, big, count: 1)
        cache.put(2, big)
        #expect(cache.get(2) != nil && cache.get(1) == nil && cache.waiting(MailboxID(rawValue: 5), key) != nil)
        #expect(cache.keptBytes <= cache.budget)
    }

    @Test func segmentsMergeAndEmptyMailboxesDropTheirIndex() async throws {
        try await withFastStore { store in
            let (_, inbox) = try await makeAlice(store)
            // Messages appended one by one join the index `deferredMessages` at a time, so ten
            // such segments (one size class) merge into one; the last three wait.
            let indexed = SearchLimits.mergeFactor * SearchLimits.deferredMessages
            for i in 0..<indexed + 3 {
                try await store.write { try $0.append(to: inbox.id, message(i, body: "word\(i)")) }
                let segments = try store.read { try $0.segmentList(inbox.id) }
                #expect(segments.count == (i + 1) / SearchLimits.deferredMessages % SearchLimits.mergeFactor
                        + (i + 1 >= indexed ? 1 : 0), "after \(i + 1)")
            }
            let infos = try store.read { try $0.segmentList(inbox.id).map(\.info) }
            #expect(infos.map(\.messageCount) == [indexed])
            #expect(infos.map(\.isInline) == [false])
            #expect(try store.read { try $0.kv.count(.textChunks) } == infos[0].pieceCount)
            let deferred = try store.read { try $0.search(in: inbox.id, .text(.body, "word\(indexed + 1)")) }
            #expect(deferred.uids == [UID(UInt32(indexed + 2))] && deferred.plan.contains("3 newest messages"), "\(deferred.plan)")
            #expect(try store.read { try $0.search(in: inbox.id, .text(.body, "word57")).uids.count } == 1)
            try await store.write { tx in _ = try tx.expunge(in: inbox.id, uids: try tx.uids(in: inbox.id)) }
            #expect(try store.read { try $0.segmentList(inbox.id) }.isEmpty)
        }
    }
}

extension SearchIndexTests {
    /// Messages wait outside the index until `deferredMessages` UIDs have been given since its
    /// last segment, then join it as one segment. A search takes the waiting ones' words from
    /// the writer, or reads them. The words are lost when the store closes; the segment then
    /// reads those messages back.
    @Test func deferredMessagesJoinTheIndexTogether() async throws {
        let path = temporaryStorePath()
        defer { try? FileManager.default.removeItem(atPath: path) }
        let k = SearchLimits.deferredMessages
        func open() throws -> MailStore { try MailStore(path: path, options: fastOptions) }
        func search(_ store: MailStore, _ inbox: MailboxID, _ word: String) throws -> SearchOutcome {
            try store.read { try $0.search(in: inbox, .text(.body, word)) }
        }
        var store = try open()
        let (_, inbox) = try await makeAlice(store)
        for i in 1...10 { try await store.write { try $0.append(to: inbox.id, message(i, body: "early\(i) common")) } }
        // Two of the waiting messages go before they are indexed (a third below).
        _ = try await store.write { try $0.expunge(in: inbox.id, uids: [UID(3), UID(4)]) }
        #expect(try store.read { try $0.segmentList(inbox.id) }.isEmpty)
        // A search in the process that appended them takes the writer's words of them.
        var found = try search(store, inbox.id, "common")
        #expect(found.uids.count == 8 && found.contentReads == 0 && found.plan.contains("8 newest messages"), "\(found.plan)")
        #expect(try store.checkConsistency() == [])
        store.close()

        store = try open()
        // Reopened, the words are gone: a search reads the waiting messages, and the next takes
        // the segment it built from the last, until an expunge changes them.
        found = try search(store, inbox.id, "common")
        #expect(found.uids.count == 8 && found.contentReads == 8, "\(found.plan)")
        let again = try search(store, inbox.id, "common")
        #expect(again.uids == found.uids && again.contentReads == 0, "\(again.plan)")
        #expect(try search(store, inbox.id, "early10").uids == [UID(10)])
        _ = try await store.write { try $0.expunge(in: inbox.id, uids: [UID(10)]) }
        found = try search(store, inbox.id, "early10")
        #expect(found.uids.isEmpty && found.contentReads == 7, "\(found.plan)")
        for i in 11..<k { try await store.write { try $0.append(to: inbox.id, message(i, body: "late\(i) common")) } }
        #expect(try store.read { try $0.segmentList(inbox.id) }.isEmpty)
        // The k-th UID brings every message above the (absent) last segment in.
        try await store.write { try $0.append(to: inbox.id, message(k, body: "late\(k) common")) }
        let segments = try store.read { try $0.segmentList(inbox.id).map(\.info) }
        #expect(segments.map(\.messageCount) == [k - 3] && segments.map(\.minUID) == [1] && segments.map(\.maxUID) == [UInt32(k)])
        found = try search(store, inbox.id, "common")
        #expect(found.uids.count == k - 3 && found.contentReads == 0, "\(found.plan)")
        #expect(try search(store, inbox.id, "early5").uids == [UID(5)])
        #expect(try search(store, inbox.id, "early3").uids.isEmpty)
        // What the segment holds is what a reindex builds.
        let before = try postings(store, inbox.id)
        try await store.write { try $0.reindex(inbox.id) }
        #expect(try postings(store, inbox.id) == before)
        // The next message waits again, and a search finds it beside the segment's.
        try await store.write { try $0.append(to: inbox.id, message(k + 1, body: "after common")) }
        found = try search(store, inbox.id, "common")
        #expect(found.uids.count == k - 2 && found.contentReads == 0 && found.plan.contains("1 newest message"), "\(found.plan)")
        #expect(try store.checkConsistency() == [])
        store.close()
    }

    /// Schema 5 kept every segment in pieces, whatever its size; such a segment still reads.
    @Test func segmentsInPiecesFromBeforeSchemaSixStillRead() async throws {
        try await withFastStore { store in
            let (_, inbox) = try await makeAlice(store)
            try await store.write { tx in
                for i in 0..<SearchLimits.deferredMessages { try tx.append(to: inbox.id, message(i, body: "needle")) }
            }
            try await store.write { tx in
                let (id, info) = try tx.segmentList(inbox.id)[0]
                #expect(info.isInline)
                let bytes = try tx.segment(id, info, of: inbox.id).bytes
                try tx.w.put(.textSegments, Keys.segment(inbox.id, id), info.encoded())
                try tx.w.put(.textChunks, Keys.segmentChunk(id, 0), bytes)
            }
            #expect(try store.read { try $0.segmentList(inbox.id)[0].info.isInline } == false)
            #expect(try store.read { try $0.search(in: inbox.id, .text(.body, "needle")).uids }
                    == (1...UInt32(SearchLimits.deferredMessages)).map { UID($0) })
        }
    }
}

@Suite struct SearchCLITests {
    @Test func searchReindexAndCheck() async throws {
        try await withScratch { dir, data in
            try addUser("ann", data)
            let count = try makeFlagMaildir(dir + "/src")
            #expect(try mstore(["import", "ann", dir + "/src", "--data", data]).status == 0)
            // IMAP syntax; UIDs one per line; the plan on stderr.
            let flagged = try mstore(["search", "--data", data, "--plan", "ann", "INBOX", "FLAGGED", "SUBJECT", "\"flags 1\""])
            #expect(flagged.status == 0, "\(flagged.err)")
            // Subjects "flags 1" and "flags 10".."flags 19" with F (bit 1) set: 10, 11, 14, 15,
            // 18 and 19; message n has UID n + 1.
            #expect(flagged.out == "11\n12\n15\n16\n19\n20\n")
            #expect(flagged.err.contains("subject \"flags 1\": index"))
            let json = try mstore(["search", "--data", data, "--json", "ann", "INBOX", "OR BODY twice NOT ALL"])
            let uids = (try JSONSerialization.jsonObject(with: Data(json.out.utf8)) as? [String: Any])?["uids"] as? [Int]
            #expect(uids == Array(1...count))
            expectUserError(try mstore(["search", "--data", data, "ann", "INBOX", "FROM ("]), "bad search program")
            expectUserError(try mstore(["search", "--data", data, "ann", "Nowhere", "ALL"]), "Nowhere")
            let reindex = try mstore(["reindex", "--data", data, "ann"])
            #expect(reindex.status == 0 && reindex.out == "reindexed 32 messages in 1 mailbox\n", "\(reindex)")
            #expect(try mstore(["check", "--data", data]).status == 0)
            #expect(try mstore(["search", "--data", data, "ann", "INBOX", "BODY", "\"not at the\""]).out.split(separator: "\n").count == count)
        }
    }

    /// A store written before the full-text index (schema 1) is indexed when opened.
    @Test func schemaOneStoresAreIndexedOnOpen() async throws {
        let path = temporaryStorePath()
        defer { try? FileManager.default.removeItem(atPath: path) }
        do {
            let store = try MailStore(path: path)
            let (_, inbox) = try await makeAlice(store)
            try await store.write { tx in
                for i in 0..<30 { try tx.append(to: inbox.id, message(i, body: "needle\(i)")) }
                try tx.dropIndex(inbox.id)
                try tx.keepHashIndexAsBeforeSchemaSeven()
                try tx.w.put(.meta, Keys.schemaVersion, ByteWriter.u32Bytes(1))
            }
            store.close()
        }
        let store = try MailStore(path: path)
        defer { store.close() }
        let inbox = try store.read { tx in try tx.requireMailbox(of: try tx.requireAccount(named: "alice").id, named: "INBOX") }
        #expect(try store.read { try $0.search(in: inbox.id, .text(.body, "needle17")).uids } == [UID(18)])
        #expect(try store.checkConsistency() == [])
    }
}
