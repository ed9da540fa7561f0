/// The fields RFC 5256 threading needs: base subject and message identifiers.
public struct ThreadingKeys: Sendable, Equatable {
    /// The base subject, RFC 5256 §2.1, with encoded words decoded and whitespace collapsed.
    public var baseSubject: String
    /// Whether the subject carried a reply or forward marker that §2.1 removed.
    public var isReplyOrForward: Bool
    /// The Message-ID without angle brackets, or nil.
    public var messageID: String?
    /// The message ids in In-Reply-To, without angle brackets, in order.
    public var inReplyTo: [String]
    /// The message ids in References, without angle brackets, in order.
    public var references: [String]

    public init(
        baseSubject: String = "", isReplyOrForward: Bool = false, messageID: String? = nil,
        inReplyTo: [String] = [], references: [String] = []
    ) {
        self.baseSubject = baseSubject
        self.isReplyOrForward = isReplyOrForward
        self.messageID = messageID
        self.inReplyTo = inReplyTo
        self.references = references
    }

    // RFC 5322 §3.6.4: msg-id = [CFWS] "<" id-left "@" id-right ">" [CFWS]
    /// The message ids in a Message-ID, In-Reply-To or References value, without brackets.
    ///
    /// Text outside angle brackets (phrases in obsolete In-Reply-To) is ignored; a value with no
    /// brackets at all is taken whole, as broken mailers write it.
    public static func messageIDs(in value: String) -> [String] {
        var ids = [String]()
        var current: String?
        for ch in value.unicodeScalars {
            if ch == "<" {
                current = ""
            } else if ch == ">" {
                if let c = current, !c.isEmpty { ids.append(c) }
                current = nil
            } else if current != nil, !(ch == " " || ch == "\t" || ch == "\r" || ch == "\n") {
                current?.unicodeScalars.append(ch)
            }
        }
        if ids.isEmpty {
            let bare = value.split(whereSeparator: { $0 == " " || $0 == "\t" || $0 == "<" || $0 == ">" })
            if bare.count == 1, bare[0].contains("@") { ids.append(String(bare[0])) }
        }
        return ids
    }

    // RFC 5256 §2.1:
    //   subj-refwd = ("re" / ("fw" ["d"])) *WSP [subj-blob] ":"
    //   subj-blob  = "[" *BLOBCHAR "]" *WSP
    //   subj-leader = (*subj-blob subj-refwd) / WSP
    //   subj-trailer = "(fwd)" / WSP
    //   subj-fwd = subj-fwd-hdr subject subj-fwd-trl ; "[fwd:" … "]"
    /// The base subject of `subject` (already decoded), and whether reply or forward markers were removed.
    public static func baseSubject(_ subject: String) -> (base: String, isReplyOrForward: Bool) {
        // Step 1: collapse whitespace to one space.
        var s = [Unicode.Scalar]()
        var lastSpace = false
        for ch in subject.unicodeScalars {
            let space = ch == " " || ch == "\t" || ch == "\r" || ch == "\n"
            if space { if !lastSpace { s.append(" ") } } else { s.append(ch) }
            lastSpace = space
        }
        var marked = false
        while true {
            // Step 2: remove trailers.
            while true {
                if s.last == " " { s.removeLast(); continue }
                if s.count >= 5, lowerString(s[(s.count - 5)...]) == "(fwd)" { s.removeLast(5); marked = true; continue }
                break
            }
            // Steps 3–5: remove leaders and blobs until nothing changes.
            var changed = true
            while changed {
                changed = false
                if s.first == " " { s.removeFirst(); changed = true; continue }
                if let n = refwdLength(s, at: leadingBlobsLength(s)) { s.removeFirst(n); marked = true; changed = true; continue }
                let blob = blobLength(s, at: 0)
                if blob > 0, blob < s.count { s.removeFirst(blob); changed = true }
            }
            // Step 6: "[fwd:" subject "]".
            if s.count >= 6, lowerString(s[0..<5]) == "[fwd:", s.last == "]" {
                s.removeFirst(5)
                s.removeLast()
                marked = true
                continue
            }
            break
        }
        var out = ""
        out.unicodeScalars.append(contentsOf: s)
        return (out, marked)
    }

    private static func lowerString(_ s: ArraySlice<Unicode.Scalar>) -> String {
        var out = ""
        out.unicodeScalars.append(contentsOf: s)
        return out.lowercased()
    }

    /// Length of the blob ("[" *BLOBCHAR "]" *WSP) at `i`, or 0.
    private static func blobLength(_ s: [Unicode.Scalar], at i: Int) -> Int {
        guard i < s.count, s[i] == "[" else { return 0 }
        var j = i + 1
        while j < s.count, s[j] != "]" {
            if s[j] == "[" { return 0 }
            j += 1
        }
        guard j < s.count else { return 0 }
        j += 1
        while j < s.count, s[j] == " " { j += 1 }
        return j - i
    }

    /// Length of the run of blobs at the start of `s`.
    private static func leadingBlobsLength(_ s: [Unicode.Scalar]) -> Int {
        var i = 0
        while true {
            let n = blobLength(s, at: i)
            if n == 0 { return i }
            i += n
        }
    }

    /// Length from the start of `s` to the end of a subj-refwd found at `i`, or nil.
    private static func refwdLength(_ s: [Unicode.Scalar], at i: Int) -> Int? {
        var j = i
        func letter(_ c: Character) -> Bool {
            guard j < s.count, Character(s[j]).lowercased() == String(c) else { return false }
            j += 1
            return true
        }
        if letter("r") {
            guard letter("e") else { return nil }
        } else if letter("f") {
            guard letter("w") else { return nil }
            _ = letter("d")
        } else {
            return nil
        }
        while j < s.count, s[j] == " " { j += 1 }
        j += blobLength(s, at: j)
        guard j < s.count, s[j] == ":" else { return nil }
        return j + 1
    }
}
