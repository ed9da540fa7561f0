extension CommandParser.Reader {
    // sort             = ["UID" SP] "SORT" [sort-return-opts] SP sort-criteria SP search-criteria   ; RFC 5256 §4, RFC 5267 §5
    // sort-return-opts = SP "RETURN" SP "(" [search-return-opt *(SP search-return-opt)] ")"
    // sort-criteria    = "(" sort-criterion *(SP sort-criterion) ")"
    /// SORT after its name.
    mutating func sort() throws(ParseError) -> SortCommand {
        try sp()
        let (returnOptions, partial) = try searchReturnOptions()
        let criteria = try list(allowEmpty: false) { (r: inout Self) throws(ParseError) in try r.sortCriterion() }
        try sp()
        let (charset, key) = try searchCriteria()
        return SortCommand(returnOptions: returnOptions, partial: partial, criteria: criteria, charset: charset, key: key)
    }

    // sort-criterion = ["REVERSE" SP] sort-key
    // sort-key       = "ARRIVAL" / "CC" / "DATE" / "FROM" / "SIZE" / "SUBJECT" / "TO"
    // sort-key       =/ "DISPLAYFROM" / "DISPLAYTO"                                   ; RFC 5957 §4
    mutating func sortCriterion() throws(ParseError) -> SortCriterion {
        var name = word()
        let reverse = name == "REVERSE"
        if reverse {
            try sp()
            name = word()
        }
        guard let key = SortKey(rawValue: name) else {
            throw error(name.isEmpty ? "Invalid sort key" : "Unknown sort key \(name)")
        }
        return SortCriterion(key, reverse: reverse)
    }

    // thread     = ["UID" SP] "THREAD" SP thread-alg SP search-criteria     ; RFC 5256 §4
    // thread-alg = "ORDEREDSUBJECT" / "REFERENCES" / thread-alg-ext
    /// THREAD after its name; an algorithm this server lacks is a syntax error.
    mutating func thread() throws(ParseError) -> ThreadCommand {
        try sp()
        let name = Self.uppercased(buf[try atomRange("threading algorithm")].prefix(40))
        guard let algorithm = ThreadAlgorithm(rawValue: name) else { throw error("Unknown threading algorithm \(name)") }
        try sp()
        let (charset, key) = try searchCriteria()
        return ThreadCommand(algorithm: algorithm, charset: charset, key: key)
    }

    // search-criteria = charset 1*(SP search-key)        ; RFC 5256 §4
    // charset         = atom / quoted
    mutating func searchCriteria() throws(ParseError) -> (charset: String, key: SearchKey) {
        let charset = peek == Char.quote ? try utf8(try quoted()) : try atom("charset")
        var keys: [SearchKey] = []
        repeat {
            try sp()
            keys.append(try searchKey(charset: charset))
        } while !isAtEnd
        return (charset, keys.count == 1 ? keys[0] : .and(keys))
    }
}
