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
        var value = value
        return value.withUTF8(messageIDs(in:))
    }

    /// The message ids in a field value's bytes; see `messageIDs(in:)`. Line breaks count as spaces.
    static func messageIDs(in buf: UnsafeBufferPointer<UInt8>) -> [String] {
        var ids = [String]()
        // Where the open id starts: after the last "<" not yet closed.
        var open: Int?
        for i in 0..<buf.count {
            let b = buf[i]
            if b == UInt8(ascii: "<") {
                open = i + 1
            } else if b == UInt8(ascii: ">"), let start = open {
                // The id is the non-space bytes inside the brackets; usually there are no spaces.
                let inside = UnsafeBufferPointer(rebasing: buf[start..<i])
                if !inside.contains(where: Bytes.isSpace) {
                    if !inside.isEmpty { ids.append(Bytes.string(inside)) }
                } else {
                    let kept = inside.filter { !Bytes.isSpace($0) }
                    if !kept.isEmpty { ids.append(Bytes.string(kept)) }
                }
                open = nil
            }
        }
        if ids.isEmpty {
            let bare = buf.split(whereSeparator: { Bytes.isSpace($0) || $0 == UInt8(ascii: "<") || $0 == UInt8(ascii: ">") })
            if bare.count == 1, bare[0].contains(UInt8(ascii: "@")) { ids.append(Bytes.string(bare[0])) }
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
        // Step 1: collapse whitespace to one space. The markers are ASCII, so UTF-8 bytes suffice.
        var s = [UInt8]()
        s.reserveCapacity(subject.utf8.count)
        var lastSpace = false
        for b in subject.utf8 {
            let space = Bytes.isSpace(b)
            if space { if !lastSpace { s.append(Bytes.space) } } else { s.append(b) }
            lastSpace = space
        }
        var lo = 0
        var hi = s.count
        var marked = false
        while true {
            // Step 2: remove trailers.
            while hi > lo {
                if s[hi - 1] == Bytes.space { hi -= 1; continue }
                if hi - lo >= 5, equalsLower(s, hi - 5, "(fwd)") { hi -= 5; marked = true; continue }
                break
            }
            // Steps 3–5: remove leaders and blobs until nothing changes.
            var changed = true
            while changed, lo < hi {
                changed = false
                if s[lo] == Bytes.space { lo += 1; changed = true; continue }
                if let end = refwdEnd(s, lo + leadingBlobsLength(s, lo, hi), hi) { lo = end; marked = true; changed = true; continue }
                let blob = blobLength(s, lo, hi)
                if blob > 0, lo + blob < hi { lo += blob; changed = true }
            }
            // Step 6: "[fwd:" subject "]".
            if hi - lo >= 6, equalsLower(s, lo, "[fwd:"), s[hi - 1] == UInt8(ascii: "]") {
                lo += 5
                hi -= 1
                marked = true
                continue
            }
            break
        }
        return (Bytes.string(s[lo..<hi]), marked)
    }

    /// Whether `s` holds the lowercase ASCII `word` at `i`, ignoring case.
    private static func equalsLower(_ s: [UInt8], _ i: Int, _ word: String) -> Bool {
        var j = i
        for c in word.utf8 {
            guard j < s.count, Bytes.lower(s[j]) == c else { return false }
            j += 1
        }
        return true
    }

    /// Length of the blob ("[" *BLOBCHAR "]" *WSP) at `i`, or 0.
    private static func blobLength(_ s: [UInt8], _ i: Int, _ hi: Int) -> Int {
        guard i < hi, s[i] == UInt8(ascii: "[") else { return 0 }
        var j = i + 1
        while j < hi, s[j] != UInt8(ascii: "]") {
            if s[j] == UInt8(ascii: "[") { return 0 }
            j += 1
        }
        guard j < hi else { return 0 }
        j += 1
        while j < hi, s[j] == Bytes.space { j += 1 }
        return j - i
    }

    /// Length of the run of blobs starting at `lo`.
    private static func leadingBlobsLength(_ s: [UInt8], _ lo: Int, _ hi: Int) -> Int {
        var i = lo
        while true {
            let n = blobLength(s, i, hi)
            if n == 0 { return i - lo }
            i += n
        }
    }

    /// The index after a subj-refwd found at `i`, or nil.
    private static func refwdEnd(_ s: [UInt8], _ i: Int, _ hi: Int) -> Int? {
        var j = i
        func letter(_ a: UInt8) -> Bool {
            guard j < hi, Bytes.lower(s[j]) == a else { return false }
            j += 1
            return true
        }
        if letter(UInt8(ascii: "r")) {
            guard letter(UInt8(ascii: "e")) else { return nil }
        } else if letter(UInt8(ascii: "f")) {
            guard letter(UInt8(ascii: "w")) else { return nil }
            _ = letter(UInt8(ascii: "d"))
        } else {
            return nil
        }
        while j < hi, s[j] == Bytes.space { j += 1 }
        j += blobLength(s, j, hi)
        guard j < hi, s[j] == UInt8(ascii: ":") else { return nil }
        return j + 1
    }
}
