import Benchmark
import Foundation
import MailStore

/// Generated text mail: a Zipf-like vocabulary of made-up words, so that some words are in
/// most messages and most words in few, and one serial word per message.
enum TextMail {
    static let vocabulary: [String] = (0..<5000).map { i in
        let syllables = ["ka", "lo", "mi", "ne", "ru", "sa", "ti", "vo", "ze", "pa", "qu", "do"]
        var word = "", n = i + 7
        repeat { word += syllables[n % syllables.count]; n /= syllables.count } while n > 0
        return word
    }

    static func message(_ n: Int) -> [UInt8] {
        var rng = UInt64(n) &* 0x9E37_79B9_7F4A_7C15 | 1
        func next() -> Int {
            rng ^= rng << 13; rng ^= rng >> 7; rng ^= rng << 17
            return Int(rng % 1_000_000)
        }
        // Word k has weight about 1/(k+1): square a uniform draw to favour small indices.
        func word() -> String {
            let u = Double(next()) / 1_000_000
            return vocabulary[Int(u * u * u * Double(vocabulary.count - 1))]
        }
        let subject = (0..<5).map { _ in word() }.joined(separator: " ")
        let body = (0..<300).map { _ in word() }.joined(separator: " ")
        return Array(("From: \(word()) <\(word())@example.org>\r\nTo: team@example.org\r\nSubject: \(subject)\r\n"
            + "Message-ID: <\(n)@bench>\r\n\r\n\(body)\r\nserial s\(n)q\r\n").utf8)
    }
}

let searchMailboxSize = 20_000

/// A store holding `searchMailboxSize` generated messages, made once.
let searchStore: (MailStore, MailboxID) = {
    let semaphore = DispatchSemaphore(value: 0)
    nonisolated(unsafe) var result: (MailStore, MailboxID)?
    Task {
        let (store, inbox) = try await benchStore("search")
        for start in stride(from: 0, to: searchMailboxSize, by: 1000) {
            let batch = (start..<start + 1000).map { PreparedMessage(TextMail.message($0)) }
            try await store.write { tx in for m in batch { try tx.append(to: inbox, m) } }
        }
        result = (store, inbox)
        semaphore.signal()
    }
    semaphore.wait()
    return result!
}()

func searchBenchmarks() {
    let queries: [(String, SearchQuery)] = [
        ("BODY rare word", .text(.body, "s12345q")),
        ("BODY common word", .text(.body, TextMail.vocabulary[0])),
        ("BODY substring of a common word", .text(.body, String(TextMail.vocabulary[1].dropFirst()))),
        ("BODY two words (checked by reading)", .text(.body, "\(TextMail.vocabulary[3]) \(TextMail.vocabulary[4])")),
        ("FROM common word", .text(.from, TextMail.vocabulary[2])),
        ("SUBJECT rare AND unseen", .and([.text(.subject, TextMail.vocabulary[4000]), .not(.flags(.seen))])),
    ]
    for (name, query) in queries {
        Benchmark("store search \(searchMailboxSize) messages: \(name)") { benchmark in
            let (store, inbox) = searchStore
            for _ in benchmark.scaledIterations {
                blackHole(try store.read { try $0.search(in: inbox, query).uids.count })
            }
        }
    }
    // What a mailbox's waiting messages (not yet in its index, `SearchLimits.deferredMessages`)
    // cost a search at most: 31 messages searched while they wait (the first search reads them;
    // the next takes the segment it built), then once they are indexed.
    for state in ["waiting", "waiting, searched before", "indexed"] {
        Benchmark("store search \(SearchLimits.deferredMessages - 1) messages \(state): BODY rare word") { benchmark async throws in
            let (store, inbox) = try await benchStore("search-waiting")
            for n in 0..<SearchLimits.deferredMessages - 1 {
                let m = PreparedMessage(TextMail.message(n))
                try await store.write { tx in _ = try tx.append(to: inbox, m) }
            }
            let query = SearchQuery.text(.body, "s12q")
            if state == "indexed" { try await store.write { tx in _ = try tx.reindex(inbox) } }
            if state != "waiting" { _ = try store.read { try $0.search(in: inbox, query) } }
            benchmark.startMeasurement()
            for _ in benchmark.scaledIterations {
                blackHole(try store.read { try $0.search(in: inbox, query).uids.count })
            }
            benchmark.stopMeasurement()
            store.close()
        }
    }
    Benchmark("store append 1,000 text messages in one write, index included") { benchmark async throws in
        let (store, inbox) = try await benchStore("index-append")
        var counter = 0
        for _ in benchmark.scaledIterations {
            let batch = (counter..<counter + 1000).map { PreparedMessage(TextMail.message($0)) }
            counter += 1000
            benchmark.startMeasurement()
            try await store.write { tx in for m in batch { try tx.append(to: inbox, m) } }
            benchmark.stopMeasurement()
        }
        store.close()
    }
    Benchmark("PreparedMessage of a 2 KiB text message (parse, search words)") { benchmark in
        let raw = TextMail.message(1)
        for _ in benchmark.scaledIterations { blackHole(PreparedMessage(raw)) }
    }
}
