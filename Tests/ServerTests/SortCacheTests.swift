import Foundation
@testable import IMAPServer
import IMAPProtocol
import MailStore
import TestSupport
import Testing

/// SORT over a mailbox big enough for the per-process sort cache gives the order the store
/// gives read afresh, as messages come and go and as commands ask for more keys.
@Suite struct SortCacheTests {
    static let credentials = try! PasswordHasher.credentials(for: "x", cost: .fast)

    /// Message n: subjects, senders, recipients and dates that repeat, so ties are common.
    static func message(_ n: Int) -> PreparedMessage {
        let day = 1 + n % 28
        let raw = "From: \"Sender \(n % 37)\" <s\(n % 41)@example.org>\r\nTo: r\(n % 13)@example.net\r\n"
            + "Cc: c\(n % 7)@example.com\r\nSubject: \(n % 3 == 0 ? "Re: " : "")topic \(n % 53)\r\n"
            + (n % 11 == 0 ? "" : "Date: \(day) Mar 2024 10:\(10 + n % 50):00 +0000\r\n")
            + "\r\n" + String(repeating: "x", count: n % 97) + "\r\n"
        return PreparedMessage(Array(raw.utf8))
    }

    /// The shared bookkeeping of the per-process caches drops the least recently used entries
    /// to stay under its weight, and never keeps an entry heavier than that.
    @Test func mailboxLRUKeepsTheRecentlyUsedUnderItsWeight() {
        var lru = MailboxLRU<String>(maxWeight: 10)
        let (a, b, c) = (MailboxID(rawValue: 1), MailboxID(rawValue: 2), MailboxID(rawValue: 3))
        lru.put("a", weight: 4, for: a)
        lru.put("b", weight: 4, for: b)
        #expect(lru.use(a) == "a")              // b is now the least recently used
        lru.put("c", weight: 4, for: c)         // 12 > 10: b goes
        #expect(lru.use(b) == nil && lru.use(a) == "a" && lru.use(c) == "c")
        lru.put("c2", weight: 6, for: c)        // replacing c frees its weight first: 4 + 6 fits
        #expect(lru.use(a) == "a" && lru.use(c) == "c2")
        lru.put("big", weight: 11, for: b)
        #expect(lru.use(b) == nil && lru.use(a) == "a")
    }

    @Test func cachedOrdersEqualFreshOnes() async throws {
        let path = scratchPath("sortcache")
        defer { try? FileManager.default.removeItem(atPath: path) }
        var options = MailStore.Options()
        options.unsafeNoSync = true
        let store = try MailStore(path: path, options: options)
        defer { store.close() }
        let inbox = try await store.write { tx in
            let account = try tx.createAccount(name: "alice", credentials: Self.credentials)
            let inbox = try tx.requireMailbox(of: account.id, named: "INBOX")
            for n in 0..<(SortCache.minCachedMessages + 200) {
                try tx.append(to: inbox.id, Self.message(n), flags: n % 5 == 0 ? [.flagged] : [],
                              internalDate: ZonedDate(seconds: 1_700_000_000 + Int64(n % 500) * 3_600))
            }
            return inbox.id
        }
        let cache = SortCache()
        let orders: [[SortCriterion]] = [
            [SortCriterion(.subject)], [SortCriterion(.date, reverse: true)], [SortCriterion(.arrival)],
            [SortCriterion(.from), SortCriterion(.size, reverse: true)], [SortCriterion(.displayFrom)],
            [SortCriterion(.cc, reverse: true), SortCriterion(.to), SortCriterion(.subject)],
        ]
        func check(_ key: SearchKey) throws {
            try store.read { tx in
                let scope = SearchScope(mailbox: inbox, uids: try tx.uids(in: inbox), recent: [], key: key)
                // THREAD gets the same rows from the cache as from the store.
                for algorithm in [ThreadAlgorithm.references, .orderedSubject] {
                    var fresh = MessageThreader(rows: try scope.threadRows(tx), number: { $0.uid.rawValue })
                    var cached = MessageThreader(rows: try scope.threadRows(tx, cache: cache), number: { $0.uid.rawValue })
                    #expect(cached.threads(algorithm) == fresh.threads(algorithm), "\(algorithm) \(key)")
                }
                let box = try #require(try tx.mailbox(inbox))
                #expect(try cache.rows(tx, box, needs: .thread, seqs: try scope.matches(tx).seqs, uids: scope.uids) != nil)
                for criteria in orders {
                    let fresh = try scope.sorted(tx, by: criteria)
                    let cached = try scope.sorted(tx, by: criteria, cache: cache)
                    #expect(cached.seqs == fresh.seqs, "\(criteria) \(key)")
                    let matches = try scope.matches(tx)
                    let direct = try cache.order(tx, box, criteria: criteria, seqs: matches.seqs, uids: scope.uids)
                    #expect(direct == fresh.seqs,
                            "the cache answers \(criteria): \(direct.map { Array($0.prefix(8)) } as Any) vs \(fresh.seqs.prefix(8))")
                }
            }
        }
        try check(.all)
        try check(.flagged)
        // New messages extend the rows; expunged ones leave rows that never match.
        try await store.write { tx in
            for n in 5_000..<5_040 { try tx.append(to: inbox, Self.message(n)) }
            _ = try tx.expunge(in: inbox, uids: stride(from: 1, to: 900, by: 9).map { UID(UInt32($0)) })
        }
        try check(.all)
        try check(.not(.flagged))
    }
}
