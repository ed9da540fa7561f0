import MailMessage

extension StoreReader {
    /// The messages of `mailbox` that match `query`, in UID order.
    ///
    /// Text keys are answered from the full-text index: a search string that is one word is
    /// answered by the index alone; a longer one takes the index's candidates and checks each
    /// by reading it. Flags, keywords and internal-date days come from the record indexes
    /// (`RecordIndex`), MODSEQ from the change log; keys on sizes and other dates use the
    /// message records,
    /// sent dates the per-message sort keys. Only HEADER with an empty string and text without
    /// any word read every message; `SearchOutcome.plan` says which keys did. With `useIndex`
    /// false every text key and sent date reads every message: the naive evaluation that
    /// tests compare the index against.
    ///
    /// The matches' records come back only when `records` is true: a plan that is a set of
    /// UIDs from the indexes then reads no record at all.
    public func search(in mailbox: MailboxID, _ query: SearchQuery, useIndex: Bool = true,
                       records: Bool = false) throws -> SearchOutcome {
        var planner = SearchPlanner(tx: self, mailbox: try requireMailbox(mailbox), useIndex: useIndex)
        return try planner.run(query, records: records)
    }
}

/// Turns a query into index lookups and per-message tests, and runs it.
struct SearchPlanner {
    let tx: StoreReader
    let mailbox: Mailbox
    /// Sets are bitmaps below this; nil when the mailbox's UIDs are too high for bitmaps.
    let universe: UInt32?
    let useIndex: Bool
    private var segments: [TextSegment]?
    /// The mailbox's lowest and highest day keys and size classes, once read (nil: no messages).
    private var spans: [Subspace: ClosedRange<UInt32>?] = [:]
    private var notes: [String] = []
    private var contentReads = 0

    init(tx: StoreReader, mailbox: Mailbox, useIndex: Bool) {
        self.tx = tx
        self.mailbox = mailbox
        self.useIndex = useIndex
        universe = mailbox.uidNext.rawValue <= SearchLimits.maxBitmapUIDs ? mailbox.uidNext.rawValue : nil
    }

    /// What reading a message's content can decide.
    enum ContentTest {
        /// One of the fields contains the folded needle.
        case text([SearchDocument.Field], [UInt8])
        case header(name: String, [UInt8])
        /// The Date: header parsed from the message (the naive form of `Node.sentDate`).
        case sentDate(SearchQuery.DateTest)
    }

    indirect enum Node {
        case constant(Bool)
        /// Exactly the messages in the set. `live` when every UID in it names a message (the
        /// record indexes and the change log are kept exact; a UID range or the full-text index,
        /// which keeps an expunged message until its next merge, may name others).
        case set(UIDBitmap, live: Bool)
        /// Decided by the message record.
        case record(SearchQuery)
        case keyword(KeywordID?)
        /// Decided by the message's sort keys (its Date: header).
        case sentDate(SearchQuery.DateTest)
        /// Decided by reading the message; only messages in `candidates` (when given) can match.
        case content(ContentTest, candidates: UIDBitmap?)
        case not(Node)
        case and([Node])
        case or(Node, Node)
    }

    /// One message under test, with what has been read of it so far. One instance serves
    /// every message of a search in turn.
    final class Candidate {
        private(set) var record: MessageRecord
        var raw: [UInt8]?
        var structure: ParsedMessage?
        var document: SearchDocument?
        var header: HeaderSection?
        init(_ record: MessageRecord) { self.record = record }

        /// Forgets the message before and takes up `record`.
        func reset(_ record: MessageRecord) {
            self.record = record
            raw = nil
            structure = nil
            document = nil
            header = nil
        }
    }

    mutating func run(_ query: SearchQuery, records wantRecords: Bool) throws -> SearchOutcome {
        let root = try plan(query)
        var uids: [UID] = []
        var records: [MessageRecord] = []
        var candidate: Candidate?
        func test(_ record: MessageRecord) throws -> Bool {
            if let candidate { candidate.reset(record) } else { candidate = Candidate(record) }
            if try evaluate(root, candidate!) {
                uids.append(record.uid)
                if wantRecords { records.append(record) }
            }
            return true
        }
        let candidates = Self.candidates(root)
        let sorted = candidates?.elements
        // Sparse candidates are looked up one by one; dense ones found by a walk over their span.
        var span = UID(1)...UID(.max), sparse = false
        if let sorted {
            guard let first = sorted.first, let last = sorted.last else {
                return SearchOutcome(uids: [], records: [], plan: planText, contentReads: contentReads)
            }
            span = UID(first)...UID(last)
            sparse = sorted.count * SearchLimits.lookupFraction < min(mailbox.messages, Int(last - first) + 1)
        }
        if case .constant(let all) = root, !wantRecords {
            return SearchOutcome(uids: all ? try tx.uids(in: mailbox.id) : [], records: [], plan: planText, contentReads: contentReads)
        }
        if case .set(_, let live) = root, let sorted, !wantRecords {
            // The indexes answered exactly: only whether each message still exists may be left.
            if live { return SearchOutcome(uids: sorted.map { UID($0) }, records: [], plan: planText, contentReads: contentReads) }
            try tx.forEachMessageKey(in: mailbox.id, sortedUIDs: sorted, walk: !sparse) { uids.append($0); return true }
        } else if let sorted, sparse {
            try tx.forEachMessage(in: mailbox.id, sortedUIDs: sorted, test)
        } else {
            try tx.forEachMessage(in: mailbox.id, uids: span, where: { candidates?.contains($0.rawValue) ?? true }, test)
        }
        return SearchOutcome(uids: uids, records: records, plan: planText, contentReads: contentReads)
    }

    private var planText: String { notes.isEmpty ? "records only" : notes.joined(separator: "; ") }

    // MARK: Planning

    private mutating func plan(_ query: SearchQuery) throws -> Node {
        switch query {
        case .all:
            return .constant(true)
        case .uids(let ranges):
            guard let universe else { return .record(query) }
            return .set(UIDBitmap(universe: universe, ranges: ranges), live: false)
        case .flags(let flags):
            guard useIndex, let universe, !flags.isEmpty else { return .record(query) }
            var result: UIDBitmap?
            for tag in RecordIndex.tags(flags, []) {
                let set = try tx.flaggedUIDs(mailbox.id, tag: tag, universe: universe)
                if result == nil { result = set } else { result!.formIntersection(set) }
            }
            notes.append("flags: index, \(result!.count) matches")
            return .set(result!, live: true)
        case .internalDate(let test):
            guard useIndex, let universe else { return .record(query) }
            if let constant = try spanAnswer(query) { return .constant(constant) }
            let days: Range<Int>
            switch test {
            case .before(let d): days = Int(Int32.min)..<d
            case .on(let d): days = d..<d + 1
            case .since(let d): days = d..<Int(Int32.max) + 1
            }
            let set = try tx.datedUIDs(mailbox.id, days: days, universe: universe)
            notes.append("internal date: index, \(set.count) matches")
            return .set(set, live: true)
        case .modSeq(let least):
            // The change log holds each live message once, at its current modseq.
            guard useIndex, let universe, least > 0 else { return .record(query) }
            var set = UIDBitmap(universe: universe)
            for change in try tx.changes(in: mailbox.id, since: ModSeq(least - 1)) where change.kind == .updated {
                if change.uid.rawValue < universe { set.insert(change.uid.rawValue) }
            }
            notes.append("modseq: change log, \(set.count) matches")
            return .set(set, live: true)
        case .larger(let n), .smaller(let n):
            guard useIndex, let universe else { return .record(query) }
            if let constant = try spanAnswer(query) { return .constant(constant) }
            // The classes beyond n's match whole; n's own class holds sizes on both sides, so
            // its messages' records are read.
            let larger = if case .larger = query { true } else { false }
            let edge = RecordIndex.sizeClass(n)
            var set = UIDBitmap(universe: universe)
            if larger, edge < .max {
                try tx.sizedUIDs(mailbox.id, classes: edge + 1 ... .max, universe: universe) { set.insert($0) }
            } else if !larger, edge > 0 {
                try tx.sizedUIDs(mailbox.id, classes: 0 ... edge - 1, universe: universe) { set.insert($0) }
            }
            var edgeUIDs: [UInt32] = []
            try tx.sizedUIDs(mailbox.id, classes: edge...edge, universe: universe) { edgeUIDs.append($0) }
            try tx.forEachMessage(in: mailbox.id, sortedUIDs: edgeUIDs) { record in
                if Self.matches(query, record) { set.insert(record.uid.rawValue) }
                return true
            }
            notes.append("size: index, \(set.count) matches (\(edgeUIDs.count) records read)")
            return .set(set, live: true)
        case .saveDate, .receivedAtOrBefore, .receivedAtOrAfter, .emailID, .threadID:
            return .record(query)
        case .keyword(let name):
            let id = try tx.keywordID(of: mailbox.account, named: name)
            guard useIndex, let universe, let id else { return .keyword(id) }
            let set = try tx.flaggedUIDs(mailbox.id, tag: RecordIndex.keywordBit | id.rawValue, universe: universe)
            notes.append("keyword \(name): index, \(set.count) matches")
            return .set(set, live: true)
        case .sentDate(let test):
            return useIndex ? .sentDate(test) : .content(.sentDate(test), candidates: nil)
        case .text(let field, let string):
            let needle = SearchFolding.fold(string)
            if needle.isEmpty { return .constant(true) }
            let fields = field.documentFields
            guard let (set, exact) = try lookup(needle, in: fields) else {
                notes.append("\(field) \"\(string)\": no word to look up, reads every message")
                return .content(.text(fields, needle), candidates: nil)
            }
            notes.append("\(field) \"\(string)\": index, \(set.count) \(exact ? "matches" : "candidates to check")")
            return exact ? .set(set, live: false) : .content(.text(fields, needle), candidates: set)
        case .header(let name, let string):
            let needle = SearchFolding.fold(string)
            guard let (set, _) = try lookup(needle, in: [.header]) else {
                notes.append("header \(name): reads every message")
                return .content(.header(name: name, needle), candidates: nil)
            }
            notes.append("header \(name) \"\(string)\": index, \(set.count) candidates to check")
            return .content(.header(name: name, needle), candidates: set)
        case .not(let q):
            switch try plan(q) {
            case .constant(let v): return .constant(!v)
            case let node: return .not(node)
            }
        case .and(let qs):
            // An internal-date or size range or a modseq goes to its index (the change log)
            // only when nothing else here narrows the search: testing the others' candidates'
            // records is cheaper than reading a range that may hold most of the mailbox.
            func isRange(_ q: SearchQuery) -> Bool {
                switch q {
                case .internalDate, .modSeq, .larger, .smaller: true
                default: false
                }
            }
            var nodes: [Node] = []
            for q in qs.filter({ !isRange($0) }) + qs.filter(isRange) {
                let narrowed = isRange(q) && nodes.contains { Self.candidates($0) != nil }
                let node = narrowed ? try spanAnswer(q).map { .constant($0) } ?? .record(q) : try plan(q)
                switch node {
                case .constant(true): continue
                case .constant(false): return .constant(false)
                case let node: nodes.append(node)
                }
            }
            return nodes.isEmpty ? .constant(true) : nodes.count == 1 ? nodes[0] : .and(nodes)
        case .or(let a, let b):
            switch (try plan(a), try plan(b)) {
            case (.constant(true), _), (_, .constant(true)): return .constant(true)
            case (.constant(false), let n), (let n, .constant(false)): return n
            case let (x, y): return .or(x, y)
            }
        }
    }

    /// What a date or size test says of every message, when the mailbox's lowest and highest
    /// days or size classes (from the record indexes) settle it: a range that covers them all
    /// (SINCE a date before any message, as sync clients send) or none. Nil when it depends on
    /// the message.
    private mutating func spanAnswer(_ q: SearchQuery) throws -> Bool? {
        guard useIndex else { return nil }
        func span(_ space: Subspace) throws -> ClosedRange<UInt32>? {
            if let known = spans[space] { return known }
            let found = try tx.indexSpan(space, mailbox.id)
            spans[space] = .some(found)
            return found
        }
        switch q {
        case .internalDate(let test):
            guard let keys = try span(.dateIndex) else { return nil }
            let (first, last) = (RecordIndex.day(fromKey: keys.lowerBound), RecordIndex.day(fromKey: keys.upperBound))
            // BEFORE and SINCE match a run of days reaching one end: agreeing on both ends, they
            // agree on every day between. ON can match a day between two it does not.
            let answer = test.matches(first)
            guard answer == test.matches(last) else { return nil }
            if case .on(let day) = test, !answer, (first...last).contains(day) { return nil }
            notes.append("internal date: every message's day is \(answer ? "in" : "outside") the range")
            return answer
        case .larger(let n), .smaller(let n):
            // Every class but n's own lies wholly on one side of n.
            guard let classes = try span(.sizeIndex) else { return nil }
            let edge = RecordIndex.sizeClass(n)
            guard classes.lowerBound > edge || classes.upperBound < edge else { return nil }
            let larger = if case .larger = q { true } else { false }
            let answer = (classes.lowerBound > edge) == larger
            notes.append("size: every message's size is \(answer ? "in" : "outside") the range")
            return answer
        default:
            return nil
        }
    }

    /// The messages whose `fields` hold every word of `needle`, and whether that set is exact
    /// (the needle is one word, short enough to be found whole in the index). Nil when the
    /// index cannot help: no index, or no word in the needle.
    private mutating func lookup(_ needle: [UInt8], in fields: [SearchDocument.Field]) throws -> (UIDBitmap, Bool)? {
        guard useIndex, let universe else { return nil }
        let words = SearchFolding.words(in: needle)
        guard !words.isEmpty else { return nil }
        if segments == nil {
            let (found, waiting, read) = try tx.searchSegments(mailbox)
            segments = found
            if waiting > 0 {
                notes.append("\(waiting) newest message\(waiting == 1 ? "" : "s") not in the index yet, \(read) read")
                contentReads += read
            }
        }
        let exact = words.count == 1 && words[0] == needle.indices && needle.count <= IndexTerms.longestExactProbe
        // Each word narrows the candidates; the longest few narrow them most, and a bound keeps
        // a hostile string of thousands of words from costing a dictionary scan each.
        var probes: [ArraySlice<UInt8>] = []
        for word in words.sorted(by: { $0.count > $1.count }) where !probes.contains(needle[word]) {
            probes.append(needle[word])
            if probes.count == SearchLimits.maxProbeWords { break }
        }
        var result: UIDBitmap?
        for word in probes {
            var probe = Array(word)
            if probe.count > IndexTerms.longestExactProbe {
                // Only a prefix is sure to lie whole inside one indexed window of a long word.
                var end = IndexTerms.longestExactProbe
                while probe[end] & 0xC0 == 0x80 { end -= 1 }
                probe = Array(probe[..<end])
            }
            var set = UIDBitmap(universe: universe)
            for segment in segments! {
                for field in fields {
                    let table = segment.tables[field.rawValue]
                    segment.forEachTerm(of: field.rawValue, containing: probe) { term in
                        segment.forEachPosting(table, term) { set.insert($0) }
                    }
                }
            }
            if result == nil { result = set } else { result!.formIntersection(set) }
        }
        return (result!, exact)
    }

    /// A superset of the node's matches, or nil for "any message".
    private static func candidates(_ node: Node) -> UIDBitmap? {
        switch node {
        case .constant(true), .record, .sentDate, .not: return nil
        case .constant(false): return UIDBitmap(universe: 0)
        case .keyword(let id): return id == nil ? UIDBitmap(universe: 0) : nil
        case .set(let set, _): return set
        case .content(_, let set): return set
        case .and(let nodes):
            var result: UIDBitmap?
            for n in nodes {
                guard let c = candidates(n) else { continue }
                if result == nil { result = c } else { result!.formIntersection(c) }
            }
            return result
        case .or(let a, let b):
            guard let x = candidates(a), let y = candidates(b) else { return nil }
            var (wide, narrow) = x.universe >= y.universe ? (x, y) : (y, x)
            wide.formUnion(narrow)
            return wide
        }
    }

    // MARK: Evaluation

    private mutating func evaluate(_ node: Node, _ c: Candidate) throws -> Bool {
        switch node {
        case .constant(let v): return v
        case .set(let set, _): return set.contains(c.record.uid.rawValue)
        case .record(let q): return Self.matches(q, c.record)
        case .keyword(let id): return id.map { c.record.keywords.contains($0) } ?? false
        case .sentDate(let test):
            let keys = try tx.sortKeys(in: mailbox.id, uid: c.record.uid, parts: [])
            return test.matches(Self.sentDay(keys?.sentDate, keys?.sentZoneMinutes ?? 0, c.record))
        case .content(let test, let set):
            if let set, !set.contains(c.record.uid.rawValue) { return false }
            return try matches(test, c)
        case .not(let n): return try !evaluate(n, c)
        case .and(let nodes):
            for n in nodes where try !evaluate(n, c) { return false }
            return true
        case .or(let a, let b): return try evaluate(a, c) || evaluate(b, c)
        }
    }

    static func matches(_ q: SearchQuery, _ r: MessageRecord) -> Bool {
        switch q {
        case .uids(let ranges): return ranges.contains { $0.contains(r.uid.rawValue) }
        case .flags(let f): return r.flags.isSuperset(of: f)
        case .larger(let n): return r.size > n
        case .smaller(let n): return r.size < n
        case .internalDate(let t): return t.matches(day(r.internalDate.seconds, Int(r.internalDate.zoneMinutes)))
        case .saveDate(let t): return t.matches(day(r.saveDate, 0))
        case .receivedAtOrBefore(let s): return r.internalDate.seconds <= s
        case .receivedAtOrAfter(let s): return r.internalDate.seconds >= s
        case .modSeq(let n): return r.modSeq.rawValue >= n
        case .emailID(let id): return r.emailID == id
        case .threadID(let id): return r.threadID == id
        default: return false
        }
    }

    private mutating func matches(_ test: ContentTest, _ c: Candidate) throws -> Bool {
        switch test {
        case .text(let fields, let needle):
            let document = try document(c)
            return fields.contains { SearchFolding.contains(document[$0], needle) }
        case .header(let name, let needle):
            return SearchDocument.headerMatches(try header(c), name: name, folded: needle)
        case .sentDate(let test):
            let sent = try parsed(c).0.sentDate
            return test.matches(Self.sentDay(sent?.secondsSince1970, sent?.zoneOffsetMinutes ?? 0, c.record))
        }
    }

    private mutating func parsed(_ c: Candidate) throws -> (ParsedMessage, [UInt8]) {
        if let s = c.structure, let raw = c.raw { return (s, raw) }
        contentReads += 1
        let (structure, raw) = try tx.parsedContent(c.record.content)
        c.raw = raw
        c.structure = structure
        return (structure, raw)
    }

    private mutating func document(_ c: Candidate) throws -> SearchDocument {
        if let d = c.document { return d }
        let (structure, raw) = try parsed(c)
        let d = SearchDocument(structure, raw: raw)
        c.document = d
        return d
    }

    private mutating func header(_ c: Candidate) throws -> HeaderSection {
        if let h = c.header { return h }
        let (structure, raw) = try parsed(c)
        let h = HeaderSection(raw[structure.root.headerSectionRange])
        c.header = h
        return h
    }

    /// The day of the Date: header in its own zone; without a usable one, the internal date's
    /// (as Dovecot does).
    static func sentDay(_ seconds: Int64?, _ zoneMinutes: Int, _ record: MessageRecord) -> Int {
        guard let seconds else { return day(record.internalDate.seconds, Int(record.internalDate.zoneMinutes)) }
        return day(seconds, zoneMinutes)
    }

    /// The day number (since 1970-01-01) of an instant in its own zone.
    static func day(_ seconds: Int64, _ zoneMinutes: Int) -> Int {
        let local = seconds + Int64(zoneMinutes) * 60
        return Int(local >= 0 ? local / 86400 : (local - 86399) / 86400)
    }
}
