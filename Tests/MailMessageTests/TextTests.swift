import Testing
@testable import MailMessage

@Suite struct TextTests {
    static let html: [(String, String)] = [
        ("<p>Hello <b>world</b></p>", "\nHello world\n"),
        ("a &amp; b &lt;c&gt; &quot;d&quot; &#233; &#xE9; &nbsp;x &bogus; &", "a & b <c> \"d\" é é  x &bogus; &"),
        ("<style>p { color: red }</style>text<script>var a = '<p>';</script>", "text"),
        ("x<!-- comment <p> -->y", "xy"),
        ("1 < 2 <a href=\"x>y\">link</a>", "1 < 2 link"),
        ("<br/>line", "\nline"),
    ]

    @Test(arguments: html) func stripsHTML(_ input: String, _ expected: String) {
        #expect(HTMLText.strip(input) == expected)
    }

    @Test func previewFromFirstTextPart() {
        let m = ParsedMessage.parse(Gen.typicalMultipart(attachmentSize: 10))
        #expect(m.preview == "Hello there, this is café text.")
        let long = ParsedMessage.parse(Gen.message(["Content-Type: text/html; charset=utf-8"],
            body: "<html><head><style>x{}</style></head><body>" + String(repeating: "caf\u{e9}  ", count: 200) + "</body></html>"))
        #expect(long.preview.count == MessageLimits.previewLength)
        #expect(long.preview.hasPrefix("caf\u{e9} caf"))
        let none = ParsedMessage.parse(Gen.message(["Content-Type: image/png"], body: "xx"))
        #expect(none.preview == "")
    }

    @Test func searchTextCollectsHeadersBodiesAndNames() {
        let raw = Gen.typicalMultipart(attachmentSize: 10)
        let t = ParsedMessage.parse(raw).searchText(in: raw)
        #expect(t.from == "Alice Example <alice@example.org>")
        #expect(t.to == "Bob <bob@example.net>, carol@example.com")
        #expect(t.subject == "Re: [list] Quarterly report")
        #expect(t.bodies.count == 2)
        #expect(t.bodies[0] == "Hello there, \r\nthis is café text.\r\n")
        #expect(t.bodies[1].contains("Hello there & welcome"))
        #expect(t.attachmentNames == ["report.pdf"])
    }

    @Test func encodedAttachmentNames() {
        let raw = Gen.message(["Content-Type: multipart/mixed; boundary=b"], body: Gen.multipart(boundary: "b", parts: [
            "Content-Type: application/pdf; name=\"=?utf-8?B?w6l0w6kucGRm?=\"\r\n\r\nx",
            "Content-Disposition: attachment; filename*=utf-8''%E2%82%AC.txt\r\n\r\ny",
        ]))
        let t = ParsedMessage.parse(raw).searchText(in: raw)
        #expect(t.attachmentNames == ["été.pdf", "€.txt"])
        #expect(t.bodies.isEmpty)
    }

    /// i;unicode-casemap (RFC 5051): case mapped, then NFKD, per scalar. The pairs that match
    /// and do not match are the ones Dovecot 2.3 gives for the same BODY searches, except `ﬁ`
    /// and `ß`, where full case mapping (`FI`, `SS`) finds more than Dovecot.
    @Test func foldingIsCaseMappedAndDecomposed() {
        let fold: (String) -> [UInt8] = { SearchFolding.fold($0) }
        let text = fold("café ＡＢＣ ﬁle Straße e\u{301}t\u{e9} ㎒ Ⅻ")
        for needle in ["cafe", "café", "CAFÉ", "abc", "ＡＢＣ", "file", "strasse", "été", "mhz", "xii"] {
            #expect(SearchFolding.contains(text, fold(needle)), "\(needle)")
        }
        #expect(!SearchFolding.contains(text, fold("ete")), "a combining mark stays between e and t")
        #expect(fold("e\u{301}") == fold("\u{e9}"))
        #expect(fold("Ａ") == Array("a".utf8))
        // Context-free: folding a concatenation folds each part.
        let parts = ["Ça", "ＶＡ", "ß", "\u{301}", "ﬁ", "한국"]
        #expect(fold(parts.joined()) == parts.flatMap { fold($0) })
    }

    /// The index's terms are the words of folded text, each in full, or as overlapping windows
    /// when longer than `maxTermBytes`, each with its hash: checked against a plain split and
    /// plain hashes on random text with long words and multi-byte scalars (at every window
    /// boundary).
    @Test func indexTermsAreWordsAndWindows() {
        var random = SystemRandomNumberGenerator()
        let alphabet: [String] = ["a", "z", "0", "9", "é", "日", "😀", " ", "-", ".", "\u{301}"]
        for _ in 0..<300 {
            var text = ""
            for _ in 0..<Int.random(in: 0..<12, using: &random) {
                let length = [1, 5, 15, 16, 17, 23, 47, 48, 49, 60, 100, 500].randomElement(using: &random)!
                for _ in 0..<length { text += alphabet.randomElement(using: &random)! }
                text += [" ", ", ", "\n"].randomElement(using: &random)!
            }
            let folded = SearchFolding.fold(text)
            let (words, hashes) = IndexTerms.terms(folded)
            var expected: [UInt8] = [SearchFolding.separator], expectedHashes: [UInt64] = []
            for word in SearchFolding.words(in: folded) {
                var start = word.lowerBound
                while true {
                    var stop = min(start + IndexTerms.maxTermBytes, word.upperBound)
                    while stop < word.upperBound, folded[stop] & 0xC0 == 0x80 { stop -= 1 }
                    let piece = folded[start..<stop]
                    expected += piece + [SearchFolding.separator]
                    expectedHashes.append(Self.plainHash(Array(piece)))
                    if stop == word.upperBound { break }
                    start += IndexTerms.windowStep
                    while start < word.upperBound, folded[start] & 0xC0 == 0x80 { start += 1 }
                }
            }
            #expect(words == expected)
            #expect(hashes == expectedHashes)
        }
    }

    /// A term's hash written out byte by byte: FNV-1a for a short term; for a long one, its
    /// bytes in little-endian 64-bit chunks (the last one zero-padded), each mixed in.
    static func plainHash(_ term: [UInt8]) -> UInt64 {
        guard term.count >= IndexTerms.longTermBytes else {
            return term.reduce(IndexTerms.shortTermSeed) { ($0 ^ UInt64($1)) &* IndexTerms.shortTermPrime }
        }
        var h: UInt64 = 0x9E37_79B9_7F4A_7C15
        for start in stride(from: 0, to: term.count, by: 8) {
            var chunk: UInt64 = 0
            for (k, b) in term[start..<min(start + 8, term.count)].enumerated() { chunk |= UInt64(b) << (8 * k) }
            h = (h ^ chunk) &* 0xBF58_476D_1CE4_E5B9
            h ^= h >> 31
        }
        h ^= UInt64(term.count)
        h ^= h >> 33
        h = h &* 0xFF51_AFD7_ED55_8CCD
        return h ^ (h >> 33)
    }
}
