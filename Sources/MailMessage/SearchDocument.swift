#if canImport(Glibc)
import Glibc
#elseif canImport(Darwin)
import Darwin
#endif
import CMemmem
import Foundation
import Synchronization

/// Case folding, word splitting and substring tests for SEARCH.
///
/// IMAP search keys match substrings without regard to case (RFC 9051 §6.4.4), by the
/// i;unicode-casemap collation (RFC 5051): case mapped, then decomposed by NFKD. Text and search
/// strings are both folded by `fold`, and a key matches when the folded string is a byte
/// substring of the folded text. Folding maps each Unicode scalar on its own, so it is
/// context-free: `fold(a + b) == fold(a) + fold(b)`. That is what lets a word index answer
/// substring queries exactly (see `words(in:)`). (Being per scalar, it leaves out NFKD's
/// reordering of several combining marks; text with marks in a non-canonical order is rare.)
public enum SearchFolding {
    /// Separates the pieces of one field's text; search strings cannot contain it (RFC 9051 §4.3).
    public static let separator: UInt8 = 0

    /// The folded UTF-8 of `s`: ASCII letters lowercased; every other scalar mapped through full
    /// Unicode upper then lower case and decomposed by NFKD (lower-cased again, for the few
    /// whose decomposition has capitals): `ß` matches `SS`, `ﬁ` matches `FI`, `é` matches
    /// `e` + U+0301, so `cafe` is found in `café`, and full-width `ＡＢＣ` matches `abc`.
    public static func fold(_ s: String) -> [UInt8] {
        var out: [UInt8] = []
        fold(s, into: &out)
        return out
    }

    /// Appends the folded UTF-8 of `s` to `out`.
    public static func fold(_ s: String, into out: inout [UInt8]) {
        var s = s
        s.withUTF8 { buf in
            out.reserveCapacity(out.count + buf.count)
            var i = 0
            while i < buf.count {
                // A run of ASCII: copied at once, then its capitals lowered.
                var end = i
                // Eight bytes at a time while none has its high bit set, then byte by byte.
                while end + 8 <= buf.count,
                      UnsafeRawPointer(buf.baseAddress! + end).loadUnaligned(as: UInt64.self) & 0x8080_8080_8080_8080 == 0 {
                    end += 8
                }
                while end < buf.count, buf[end] < 0x80 { end += 1 }
                if end > i {
                    let start = out.count
                    out.append(contentsOf: UnsafeBufferPointer(rebasing: buf[i..<end]))
                    out.withUnsafeMutableBufferPointer { o in
                        // Without a branch per byte, so that it vectorises.
                        for k in start..<o.count { o[k] |= (o[k] &- 65 < 26 ? 0x20 : 0) }
                    }
                    i = end
                    if i == buf.count { break }
                }
                // One other scalar: a String's UTF-8 is valid, so its first byte gives its length.
                let lead = buf[i]
                let length = lead >= 0xF0 ? 4 : lead >= 0xE0 ? 3 : 2
                var value = UInt32(lead & (lead >= 0xF0 ? 0x07 : lead >= 0xE0 ? 0x0F : 0x1F))
                for k in 1..<length { value = value << 6 | UInt32(buf[i + k] & 0x3F) }
                out.append(contentsOf: folded(Unicode.Scalar(value)!))
                i += length
            }
        }
    }

    /// The folded UTF-8 of each non-ASCII scalar met so far: the decomposition goes through
    /// Foundation, which is too slow to call per character. Bounded by the scalars there are.
    private static let foldedScalars = Mutex<[UInt32: [UInt8]]>([:])

    private static func folded(_ scalar: Unicode.Scalar) -> [UInt8] {
        if let known = foldedScalars.withLock({ $0[scalar.value] }) { return known }
        let cased = scalar.properties.uppercaseMapping.unicodeScalars.map { $0.properties.lowercaseMapping }.joined()
        let bytes = Array(cased.decomposedStringWithCompatibilityMapping.lowercased().utf8)
        foldedScalars.withLock { $0[scalar.value] = bytes }
        return bytes
    }

    /// Whether `b` belongs to a word: an ASCII letter or digit, or any byte of a non-ASCII
    /// scalar. Folded text has no upper-case ASCII.
    @inline(__always)
    public static func isWordByte(_ b: UInt8) -> Bool {
        b >= 0x80 || (b >= 0x61 && b <= 0x7A) || (b >= 0x30 && b <= 0x39)
    }

    /// `isWordByte` of every byte, for loops that look it up rather than compare.
    static let wordBytes: [Bool] = (0...255).map { isWordByte(UInt8($0)) }

    /// The words of folded text: the maximal runs of word bytes.
    ///
    /// If a folded needle occurs in folded text, each word of the needle lies inside one word
    /// of the text, since a run of word bytes cannot cross a non-word byte. So the text's words
    /// that contain each needle word give a superset of the matches, and when the needle is a
    /// single word with nothing around it, exactly the matches.
    public static func words(in folded: [UInt8]) -> [Range<Int>] {
        var result: [Range<Int>] = []
        var start = -1
        for (i, b) in folded.enumerated() {
            if isWordByte(b) {
                if start < 0 { start = i }
            } else if start >= 0 {
                result.append(start..<i)
                start = -1
            }
        }
        if start >= 0 { result.append(start..<folded.count) }
        return result
    }

    /// Whether `needle` occurs in `haystack`. An empty needle occurs everywhere.
    public static func contains(_ haystack: [UInt8], _ needle: [UInt8]) -> Bool {
        guard !needle.isEmpty else { return true }
        guard needle.count <= haystack.count else { return false }
        return haystack.withUnsafeBytes { h in
            needle.withUnsafeBytes { n in cmemmem(h.baseAddress, h.count, n.baseAddress, n.count) != nil }
        }
    }
}

/// The folded text a message offers to each SEARCH key, and the words indexed for it.
public struct SearchDocument: Sendable {
    /// The parts of a message that search keys look at.
    public enum Field: Int, CaseIterable, Sendable {
        /// FROM, TO, CC, BCC: the addresses as displayed, and every such field raw and decoded.
        case from, to, cc, bcc
        /// SUBJECT: the decoded subject and every Subject field raw and decoded.
        case subject
        /// TEXT's header part: the whole header section, raw and with encoded words decoded.
        case header
        /// BODY: decoded text bodies (HTML without markup), nested messages' subjects and
        /// attachment file names.
        case body
    }

    /// Folded text per field, indexed by `Field.rawValue`; pieces separated by `SearchFolding.separator`.
    public var fields: [[UInt8]]

    public init(fields: [[UInt8]]) { self.fields = fields }

    public subscript(_ field: Field) -> [UInt8] { fields[field.rawValue] }

    /// The document of the message `raw`, parsed as `structure`.
    public init(_ structure: ParsedMessage, raw: some Collection<UInt8>) {
        let text = structure.searchText(in: raw)
        let headerBytes = Array(raw.dropFirst(structure.root.headerSectionRange.lowerBound)
            .prefix(structure.root.headerSectionRange.count))
        let header = HeaderSection(headerBytes)
        var fields = [[UInt8]](repeating: [], count: Field.allCases.count)

        func add(_ s: String, to field: Field) {
            if !fields[field.rawValue].isEmpty { fields[field.rawValue].append(SearchFolding.separator) }
            SearchFolding.fold(s, into: &fields[field.rawValue])
        }
        add(text.from, to: .from)
        add(text.to, to: .to)
        add(text.cc, to: .cc)
        add(text.bcc, to: .bcc)
        add(text.subject, to: .subject)
        for f in header.fields {
            // Only names as long as those below are lowered and compared.
            switch f.name.utf8.count {
            case 2, 3, 4, 7: break
            default: continue
            }
            let field: Field
            switch Bytes.lowercased(f.name.utf8) {
            case Self.fromName: field = .from
            case Self.toName: field = .to
            case Self.ccName: field = .cc
            case Self.bccName: field = .bcc
            case Self.subjectName: field = .subject
            default: continue
            }
            let value = f.value
            add(value, to: field)
            let decoded = EncodedWords.decode(value)
            if decoded != value { add(decoded, to: field) }
        }
        let headerText = Bytes.string(headerBytes)
        add(headerText, to: .header)
        let decodedHeader = EncodedWords.decode(headerText)
        if decodedHeader != headerText { add(decodedHeader, to: .header) }
        for body in text.bodies { add(body, to: .body) }
        for name in text.attachmentNames { add(name, to: .body) }
        self.fields = fields
    }

    private static let fromName = Array("from".utf8), toName = Array("to".utf8), ccName = Array("cc".utf8)
    private static let bccName = Array("bcc".utf8), subjectName = Array("subject".utf8)

    /// Whether HEADER `name` `needle` matches: a field of that name whose value, raw or
    /// decoded, contains the folded needle; an empty needle asks only that the field exists.
    public static func headerMatches(_ header: HeaderSection, name: String, folded needle: [UInt8]) -> Bool {
        let fields = header.fields(named: name)
        if needle.isEmpty { return !fields.isEmpty }
        return fields.contains { f in
            let value = f.value
            if SearchFolding.contains(SearchFolding.fold(value), needle) { return true }
            let decoded = EncodedWords.decode(value)
            return decoded != value && SearchFolding.contains(SearchFolding.fold(decoded), needle)
        }
    }
}

/// The words of each field of a document: what the full-text index takes for one message.
public struct IndexTerms: Sendable, Equatable {
    /// The longest term kept. A longer word is indexed as overlapping windows of this length,
    /// each starting about `windowStep` bytes after the last (windows keep to UTF-8 scalar
    /// boundaries, which can move a start up to 3 bytes later and an end up to 3 bytes
    /// earlier), so that any piece of it of up to `longestExactProbe` bytes lies whole inside
    /// one window.
    public static let maxTermBytes = 48
    public static let windowStep = 24
    public static let longestExactProbe = maxTermBytes - windowStep - 6

    /// Per field (`SearchDocument.Field.rawValue`): the words in text order, repeats kept,
    /// each preceded by `SearchFolding.separator`, and a final separator.
    public var fields: [[UInt8]]
    /// Per field, the hash of each word of `fields` (`longTermBytes`), in the same order: computed here,
    /// off the writer thread, so that the index's hash table need not hash bytes.
    public var hashes: [[UInt64]]

    public init(_ document: SearchDocument) {
        var fields: [[UInt8]] = [], hashes: [[UInt64]] = []
        for text in document.fields {
            let (words, wordHashes) = Self.terms(text)
            fields.append(words)
            hashes.append(wordHashes)
        }
        self.fields = fields
        self.hashes = hashes
    }

    /// The words of folded text, long ones as windows, in the separator-joined form, with
    /// their hashes.
    static func terms(_ folded: [UInt8]) -> ([UInt8], [UInt64]) {
        // One pass: each word (each window of a long one) is copied with its hash as it is
        // found. A word of L bytes gives at most L + 1 bytes, or as windows (each starting at
        // least `windowStep` after the one before and at most `maxTermBytes` long) under
        // 2L + L / 24 with their separators; so 2n + n / 16 + 16 bounds the whole.
        var out: [UInt8] = []
        // Pieces are separated, or start at least `windowStep` apart: n / 2 + 1 bounds them.
        var pieces = 0
        let hashes = [UInt64](unsafeUninitializedCapacity: folded.count / 2 + 1) { hashes, hashCount in
            defer { hashCount = pieces }
            let capacity = 2 * folded.count + folded.count / 16 + 16
            out = [UInt8](unsafeUninitializedCapacity: capacity) { out, count in
                folded.withUnsafeBufferPointer { buf in
                    SearchFolding.wordBytes.withUnsafeBufferPointer { isWord in
                        var o = 0
                        out[o] = SearchFolding.separator
                        o += 1
                        var i = 0
                        let n = buf.count
                        while i < n {
                            while i < n, !isWord[Int(buf[i])] { i += 1 }
                            guard i < n else { break }
                            let wordStart = i
                            while i < n, isWord[Int(buf[i])] { i += 1 }
                            let wordEnd = i
                            var start = wordStart
                            while true {
                                var stop = min(start + maxTermBytes, wordEnd)
                                // Keep windows on scalar boundaries: never end inside a UTF-8 sequence.
                                while stop < wordEnd, buf[stop] & 0xC0 == 0x80 { stop -= 1 }
                                if stop - start >= longTermBytes {
                                    (out.baseAddress! + o).update(from: buf.baseAddress! + start, count: stop - start)
                                    o += stop - start
                                    hashes[pieces] = longTermHash(UnsafeRawBufferPointer(UnsafeBufferPointer(rebasing: buf[start..<stop])))
                                } else {
                                    var h = shortTermSeed
                                    for k in start..<stop {
                                        let b = buf[k]
                                        out[o] = b
                                        o += 1
                                        h = (h ^ UInt64(b)) &* shortTermPrime
                                    }
                                    hashes[pieces] = h
                                }
                                out[o] = SearchFolding.separator
                                o += 1
                                pieces += 1
                                if stop == wordEnd { break }
                                var next = start + windowStep
                                while next < wordEnd, buf[next] & 0xC0 == 0x80 { next += 1 }
                                start = next
                            }
                        }
                        count = o
                    }
                }
            }
        }
        return (out, hashes)
    }

    /// A term's hash, which the index's hash table files it under, is FNV-1a for a term shorter
    /// than `longTermBytes`: one multiply per byte, the cheapest for the short words most text
    /// is made of. A longer one (the windows of a long word) is hashed eight bytes at a time
    /// (`longTermHash`), several times faster there. Equal terms have equal lengths, so they
    /// always get the same hash.
    static let longTermBytes = 16
    static let shortTermSeed: UInt64 = 0xCBF2_9CE4_8422_2325
    static let shortTermPrime: UInt64 = 0x0000_0100_0000_01B3

    /// The hash of a term of `longTermBytes` or more: its little-endian 64-bit chunks, the
    /// last one ending with the term (overlapping the one before) and shifted down to the bytes
    /// not yet mixed in, each mixed in with a multiply, then the length, and a last avalanche
    /// so that both the low bits (the table's slot) and the high bits (its tag) vary.
    @inline(never)
    static func longTermHash(_ term: UnsafeRawBufferPointer) -> UInt64 {
        func chunk(_ offset: Int) -> UInt64 {
            UInt64(littleEndian: term.loadUnaligned(fromByteOffset: offset, as: UInt64.self))
        }
        func mix(_ h: UInt64, _ chunk: UInt64) -> UInt64 {
            let m = (h ^ chunk) &* 0xBF58_476D_1CE4_E5B9
            return m ^ (m &>> 31)
        }
        let n = term.count
        var h: UInt64 = 0x9E37_79B9_7F4A_7C15
        var k = 0
        while k + 8 <= n {
            h = mix(h, chunk(k))
            k += 8
        }
        if k < n { h = mix(h, chunk(n - 8) &>> UInt64(8 &* (8 &- (n - k)))) }
        h ^= UInt64(n)
        h ^= h &>> 33
        h = h &* 0xFF51_AFD7_ED55_8CCD
        return h ^ (h &>> 33)
    }
}
