/// Parsing of MIME header values with parameters: Content-Type and Content-Disposition.
enum MIMEParameters {
    // RFC 2045 §5.1: content := "Content-Type" ":" type "/" subtype *(";" parameter)
    //                parameter := attribute "=" value ; value := token / quoted-string
    // RFC 2183 §2:   disposition := "Content-Disposition" ":" disposition-type *(";" disposition-parm)
    /// Splits a header value into its lowercased leading value and its parameters.
    static func parse(_ s: [UInt8]) -> (value: String, parameters: [MIMEParameter]) {
        // The kept bytes of the value, the names and the values, back to back in one array; each
        // input byte is kept at most once.
        var kept = [UInt8]()
        kept.reserveCapacity(s.count)
        var i = 0
        while i < s.count, s[i] != UInt8(ascii: ";") {
            if s[i] == UInt8(ascii: "(") { i = skipComment(s, i); continue }
            if !Bytes.isSpace(s[i]) { kept.append(Bytes.lower(s[i])) }
            i += 1
        }
        let head = Bytes.string(kept)
        var raw = [(name: Range<Int>, value: Range<Int>)]()
        while i < s.count {
            // Skip separators, whitespace and comments before a name.
            while i < s.count, Bytes.isSpace(s[i]) || s[i] == UInt8(ascii: ";") { i += 1 }
            if i < s.count, s[i] == UInt8(ascii: "(") { i = skipComment(s, i); continue }
            let nameStart = kept.count
            while i < s.count, s[i] != UInt8(ascii: "="), s[i] != UInt8(ascii: ";") {
                if !Bytes.isSpace(s[i]) { kept.append(Bytes.lower(s[i])) }
                i += 1
            }
            let name = nameStart..<kept.count
            guard i < s.count, s[i] == UInt8(ascii: "=") else { continue }
            i += 1
            while i < s.count, Bytes.isSpace(s[i]) { i += 1 }
            let valueStart = kept.count
            if i < s.count, s[i] == UInt8(ascii: "\"") {
                i += 1
                while i < s.count, s[i] != UInt8(ascii: "\"") {
                    if s[i] == UInt8(ascii: "\\"), i + 1 < s.count { i += 1 }
                    if s[i] != Bytes.cr, s[i] != Bytes.lf { kept.append(s[i]) }
                    i += 1
                }
                i += 1
                while i < s.count, s[i] != UInt8(ascii: ";") { i += 1 }
            } else {
                let start = i
                while i < s.count, s[i] != UInt8(ascii: ";") { i += 1 }
                var end = i
                while end > start, Bytes.isSpace(s[end - 1]) { end -= 1 }
                kept.append(contentsOf: s[start..<end])
            }
            if !name.isEmpty { raw.append((name, valueStart..<kept.count)) }
        }
        return (head, assemble(kept, raw))
    }

    /// Index after the comment that starts at `i`. RFC 5322 §3.2.2.
    private static func skipComment(_ s: [UInt8], _ start: Int) -> Int {
        var depth = 0
        var i = start
        while i < s.count {
            if s[i] == UInt8(ascii: "\\") { i += 2; continue }
            if s[i] == UInt8(ascii: "(") { depth += 1 }
            if s[i] == UInt8(ascii: ")") { depth -= 1; if depth == 0 { return i + 1 } }
            i += 1
        }
        return s.count
    }

    /// One RFC 2231 section of a parameter.
    private struct Section {
        var index: Int
        var extended: Bool
        var value: [UInt8]
    }

    /// Most parameters that `assemble` dedupes by comparing every pair; more are hashed.
    private static let pairwiseLimit = 8

    // RFC 2231 §3: parameter continuations name*0, name*1 …
    // RFC 2231 §4: extended values name*=charset'language'%XX, and name*0*= …
    /// Joins continuations, decodes extended values and returns parameters in first-seen order.
    private static func assemble(_ kept: [UInt8], _ ranges: [(name: Range<Int>, value: Range<Int>)]) -> [MIMEParameter] {
        // The usual few parameters without sections: the first value of each name, found by
        // comparing names rather than by building dictionaries.
        if ranges.count <= pairwiseLimit, !ranges.contains(where: { kept[$0.name].contains(UInt8(ascii: "*")) }) {
            return ranges.indices.compactMap { i in
                if ranges[..<i].contains(where: { kept[$0.name] == kept[ranges[i].name] }) { return nil }
                return MIMEParameter(name: Bytes.string(kept[ranges[i].name]), value: Bytes.string(kept[ranges[i].value]))
            }
        }
        let raw = ranges.map { (name: Array(kept[$0.name]), value: Array(kept[$0.value])) }
        var order = [[UInt8]]()
        var plain = [[UInt8]: [UInt8]]()
        var sections = [[UInt8]: [Section]]()
        for (name, value) in raw {
            let base: [UInt8]
            if let star = name.firstIndex(of: UInt8(ascii: "*")) {
                base = Array(name[..<star])
                var rest = name[(star + 1)...]
                let extended = rest.last == UInt8(ascii: "*") || rest.isEmpty
                if rest.last == UInt8(ascii: "*") { rest = rest.dropLast() }
                var index = 0
                if !rest.isEmpty {
                    guard rest.count <= 4, rest.allSatisfy({ $0 >= 48 && $0 <= 57 }) else { continue }
                    index = rest.reduce(0) { $0 * 10 + Int($1 - 48) }
                }
                guard index < MessageLimits.maxParameterSections, !base.isEmpty else { continue }
                if sections[base] == nil, plain[base] == nil { order.append(base) }
                if sections[base, default: []].contains(where: { $0.index == index }) { continue }
                sections[base, default: []].append(Section(index: index, extended: extended, value: value))
            } else {
                if plain[name] == nil, sections[name] == nil { order.append(name) }
                if plain[name] == nil { plain[name] = value }
            }
        }
        return order.map { name in
            let nameString = Bytes.string(name)
            guard let secs = sections[name] else {
                return MIMEParameter(name: nameString, value: Bytes.string(plain[name] ?? []))
            }
            return MIMEParameter(name: nameString, value: join(secs.sorted { $0.index < $1.index }))
        }
    }

    /// The decoded value of sorted RFC 2231 sections.
    private static func join(_ secs: [Section]) -> String {
        var charset: String?
        var bytes = [UInt8]()
        for (n, sec) in secs.enumerated() {
            var v = sec.value[...]
            if n == 0, sec.extended {
                // charset'language'value; the language is dropped.
                let quotes = v.indices.filter { v[$0] == UInt8(ascii: "'") }.prefix(2)
                if quotes.count == 2, let q1 = quotes.first, let q2 = quotes.last {
                    charset = Bytes.string(v[v.startIndex..<q1])
                    v = v[(q2 + 1)...]
                }
            }
            bytes += sec.extended ? percentDecoded(v) : Array(v)
        }
        if let cs = charset, !cs.isEmpty, let s = Charset.decode(bytes, charset: cs) { return s }
        return Bytes.string(bytes)
    }

    /// `%XX` escapes decoded; a "%" that starts no escape is kept.
    private static func percentDecoded(_ v: ArraySlice<UInt8>) -> [UInt8] {
        var out = [UInt8]()
        var i = v.startIndex
        while i < v.endIndex {
            if v[i] == UInt8(ascii: "%"), i + 2 < v.endIndex,
                let n = UInt8(String(decoding: v[(i + 1)...(i + 2)], as: UTF8.self), radix: 16)
            {
                out.append(n)
                i += 3
            } else {
                out.append(v[i])
                i += 1
            }
        }
        return out
    }
}
