/// SORT and UID SORT: criteria, charset and search key. RFC 5256 §3, with ESORT's RETURN
/// options (RFC 5267 §3.2) and SORT=DISPLAY's keys (RFC 5957).
///
///     C: a1 UID SORT RETURN (MIN COUNT) (REVERSE DATE SUBJECT) UTF-8 UNSEEN
public struct SortCommand: Sendable, Equatable {
    /// nil without `RETURN`; `RETURN ()` gives `[.all]` (RFC 4731 §3.1, which RFC 5267 §3.2 follows).
    public var returnOptions: [SearchReturnOption]?
    /// `RETURN (PARTIAL range)`, RFC 9394: a window in sort order.
    public var partial: PartialRange?
    /// The sort criteria in order, at least one.
    public var criteria: [SortCriterion]
    /// The charset of the search strings, as sent (SORT requires one).
    public var charset: String
    /// The search criteria, ANDed together.
    public var key: SearchKey

    public init(returnOptions: [SearchReturnOption]? = nil, partial: PartialRange? = nil, criteria: [SortCriterion],
                charset: String, key: SearchKey) {
        self.returnOptions = returnOptions
        self.partial = partial
        self.criteria = criteria
        self.charset = charset
        self.key = key
    }
}

/// One `sort-criterion`: a key, optionally reversed. RFC 5256 §3.
public struct SortCriterion: Sendable, Equatable {
    public var key: SortKey
    public var reverse: Bool

    public init(_ key: SortKey, reverse: Bool = false) {
        self.key = key
        self.reverse = reverse
    }
}

/// `sort-key`: RFC 5256 §3, and DISPLAYFROM and DISPLAYTO from RFC 5957 §3.
public enum SortKey: String, Sendable, Equatable, CaseIterable {
    case arrival = "ARRIVAL"
    case cc = "CC"
    case date = "DATE"
    case from = "FROM"
    case size = "SIZE"
    case subject = "SUBJECT"
    case to = "TO"
    case displayFrom = "DISPLAYFROM"
    case displayTo = "DISPLAYTO"
}

/// THREAD and UID THREAD: algorithm, charset and search key. RFC 5256 §3.
///
///     C: a1 THREAD REFERENCES UTF-8 SINCE 5-MAR-2000
public struct ThreadCommand: Sendable, Equatable {
    public var algorithm: ThreadAlgorithm
    /// The charset of the search strings, as sent.
    public var charset: String
    /// The search criteria, ANDed together.
    public var key: SearchKey

    public init(algorithm: ThreadAlgorithm, charset: String, key: SearchKey) {
        self.algorithm = algorithm
        self.charset = charset
        self.key = key
    }
}

/// `thread-alg`: the two algorithms of RFC 5256 §2.
public enum ThreadAlgorithm: String, Sendable, Equatable, CaseIterable {
    case orderedSubject = "ORDEREDSUBJECT"
    case references = "REFERENCES"
}
