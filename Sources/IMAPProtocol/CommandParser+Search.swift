import MailMessage

extension CommandParser.Reader {
    /// Deepest chain of SEARCH operators (NOT, OR and parentheses together). Parentheses alone
    /// stop at `IMAPLimits.maxNestingDepth`; this bounds `OR OR OR ...` and `NOT NOT ...`, whose
    /// nesting costs stack in the parser and in every walk of the resulting key.
    static let maxSearchKeyDepth = 8 * IMAPLimits.maxNestingDepth

    // search             = "SEARCH" [search-return-opts] SP search-program
    // search-return-opts = SP "RETURN" SP "(" [search-return-opt *(SP search-return-opt)] ")"   ; RFC 4731
    // search-return-opt  = "MIN" / "MAX" / "ALL" / "COUNT" / "SAVE"                             ; SAVE: RFC 5182
    // search-return-opt  =/ "PARTIAL" SP partial-range                                         ; RFC 9394
    // search-program     = ["CHARSET" SP charset SP] search-key *(SP search-key)
    /// SEARCH after its name: `RETURN ()` gives `[.all]` (RFC 4731 §3.1); several keys give `.and`.
    mutating func search() throws(ParseError) -> SearchCommand {
        try sp()
        let (returnOptions, partial) = try searchReturnOptions()
        var charset: String?
        if keyword("CHARSET") {
            try sp()
            // charset = atom / quoted
            if peek == Char.quote {
                charset = try utf8(try quoted())
            } else {
                charset = try atom("charset")
            }
            try sp()
        }
        var keys: [SearchKey] = []
        repeat {
            keys.append(try searchKey(charset: charset))
        } while skip(Char.space)
        return SearchCommand(charset: charset, returnOptions: returnOptions, partial: partial,
                             key: keys.count == 1 ? keys[0] : .and(keys))
    }

    /// `RETURN (...) SP` when it is next, else nil; `RETURN ()` gives `[.all]` (RFC 4731 §3.1),
    /// and so does `RETURN (CONTEXT)`, a hint that asks for nothing (RFC 5267 §4.1); UPDATE
    /// alone asks for no result, only the updates (as Dovecot answers it).
    /// PARTIAL (RFC 9394) comes apart; it cannot go with ALL.
    mutating func searchReturnOptions() throws(ParseError) -> ([SearchReturnOption]?, PartialRange?) {
        guard keyword("RETURN") else { return (nil, nil) }
        try sp()
        var partial: PartialRange?
        var options: [SearchReturnOption] = []
        _ = try list(allowEmpty: true) { (r: inout Self) throws(ParseError) in
            let name = r.word()
            if name == "PARTIAL" {
                guard partial == nil else { throw r.error("Duplicate PARTIAL") }
                try r.sp()
                partial = try r.partialRange()
            } else if let option = SearchReturnOption(rawValue: name) {
                options.append(option)
            } else {
                throw r.error(name.isEmpty ? "Invalid return option" : "Unknown return option \(name)")
            }
        }
        try sp()
        if partial != nil && options.contains(.all) { throw error("PARTIAL and ALL cannot go together") }
        return (options.allSatisfy { $0 == .context } && partial == nil ? options + [.all] : options, partial)
    }

    // partial-range       = partial-range-first / partial-range-last     ; RFC 9394
    // partial-range-first = nz-number ":" nz-number
    // partial-range-last  = MINUS nz-number ":" MINUS nz-number
    mutating func partialRange() throws(ParseError) -> PartialRange {
        let fromEnd = skip(Char.dash)
        let a = try nzNumber()
        try expect(Char.colon, "Expected : in partial range")
        guard skip(Char.dash) == fromEnd else { throw error("Partial range bounds must have the same sign") }
        return PartialRange(a, try nzNumber(), fromEnd: fromEnd)
    }

    // search-key = "ALL" / "ANSWERED" / "BCC" SP astring / "BEFORE" SP date / "BODY" SP astring /
    //              "CC" SP astring / "DELETED" / "FLAGGED" / "FROM" SP astring / "KEYWORD" SP flag-keyword /
    //              "ON" SP date / "SEEN" / "SINCE" SP date / "SUBJECT" SP astring / "TEXT" SP astring /
    //              "TO" SP astring / "UNANSWERED" / "UNDELETED" / "UNFLAGGED" / "UNKEYWORD" SP flag-keyword /
    //              "UNSEEN" / "DRAFT" / "HEADER" SP header-fld-name SP astring / "LARGER" SP number64 /
    //              "NOT" SP search-key / "OR" SP search-key SP search-key / "SENTBEFORE" SP date /
    //              "SENTON" SP date / "SENTSINCE" SP date / "SMALLER" SP number64 / "UID" SP sequence-set /
    //              "UNDRAFT" / sequence-set / "(" search-key *(SP search-key) ")"
    // search-key =/ "NEW" / "OLD" / "RECENT"                                  ; RFC 3501
    // search-key =/ "MODSEQ" [search-modseq-ext] SP mod-sequence-valzer      ; RFC 7162 §7
    // search-key =/ "OLDER" SP nz-number / "YOUNGER" SP nz-number             ; RFC 5032
    mutating func searchKey(charset: String?) throws(ParseError) -> SearchKey {
        if peek == Char.openParen {
            try enterSearchKey()
            defer { searchDepth -= 1 }
            let keys = try list(allowEmpty: false) { (r: inout Self) throws(ParseError) in try r.searchKey(charset: charset) }
            return .and(keys)
        }
        if atSequenceSet { return .sequenceSet(try sequenceSet()) }
        let name = word()
        switch name {
        case "ALL": return .all
        case "ANSWERED": return .answered
        case "DELETED": return .deleted
        case "DRAFT": return .draft
        case "FLAGGED": return .flagged
        case "SEEN": return .seen
        case "UNANSWERED": return .unanswered
        case "UNDELETED": return .undeleted
        case "UNDRAFT": return .undraft
        case "UNFLAGGED": return .unflagged
        case "UNSEEN": return .unseen
        case "NEW": return .new
        case "OLD": return .old
        case "RECENT": return .recent
        case "KEYWORD": try sp(); return .keyword(try atom("keyword"))
        case "UNKEYWORD": try sp(); return .unkeyword(try atom("keyword"))
        case "BCC": try sp(); return .bcc(try searchString(charset))
        case "CC": try sp(); return .cc(try searchString(charset))
        case "FROM": try sp(); return .from(try searchString(charset))
        case "TO": try sp(); return .to(try searchString(charset))
        case "SUBJECT": try sp(); return .subject(try searchString(charset))
        case "BODY": try sp(); return .body(try searchString(charset))
        case "TEXT": try sp(); return .text(try searchString(charset))
        case "HEADER":
            try sp()
            // header-fld-name = astring
            let field = try astring("header field name")
            try sp()
            return .header(field, try searchString(charset))
        case "BEFORE": try sp(); return .before(try date())
        case "ON": try sp(); return .on(try date())
        case "SINCE": try sp(); return .since(try date())
        case "SENTBEFORE": try sp(); return .sentBefore(try date())
        case "SENTON": try sp(); return .sentOn(try date())
        case "SENTSINCE": try sp(); return .sentSince(try date())
        case "LARGER": try sp(); return .larger(Int(try number64()))
        case "SMALLER": try sp(); return .smaller(Int(try number64()))
        case "UID": try sp(); return .uid(try sequenceSet())
        case "OLDER": try sp(); return .older(Int(try nzNumber()))
        case "YOUNGER": try sp(); return .younger(Int(try nzNumber()))
        case "MODSEQ": try sp(); return .modSeq(try searchModSeq())
        case "EMAILID": try sp(); return .emailID(try atom("objectid"))
        case "THREADID": try sp(); return .threadID(try atom("objectid"))
        case "SAVEDBEFORE": try sp(); return .savedBefore(try date())
        case "SAVEDON": try sp(); return .savedOn(try date())
        case "SAVEDSINCE": try sp(); return .savedSince(try date())
        case "SAVEDATESUPPORTED": return .saveDateSupported
        case "NOT":
            try sp()
            try enterSearchKey()
            defer { searchDepth -= 1 }
            return .not(try searchKey(charset: charset))
        case "OR":
            try sp()
            try enterSearchKey()
            defer { searchDepth -= 1 }
            let a = try searchKey(charset: charset)
            try sp()
            return .or(a, try searchKey(charset: charset))
        case "":
            throw error(isAtEnd ? "Missing search key" : "Invalid search key")
        default:
            throw error("Unknown search key \(name)")
        }
    }

    /// Counts one SEARCH nesting level against `maxSearchKeyDepth` (parentheses also count
    /// against `IMAPLimits.maxNestingDepth` in `open()`).
    mutating func enterSearchKey() throws(ParseError) {
        guard searchDepth < Self.maxSearchKeyDepth else { throw error("Nesting too deep") }
        searchDepth += 1
    }

    /// `MODSEQ [entry-name SP entry-type-req] SP mod-sequence-valzer`; the entry is checked and dropped.
    // search-modseq-ext = SP entry-name SP entry-type-req
    // entry-name        = entry-flag-name        ; DQUOTE "/flags/" attr-flag DQUOTE
    // entry-type-req    = entry-type-resp / "all" ; "priv" / "shared" / "all"
    mutating func searchModSeq() throws(ParseError) -> UInt64 {
        if peek == Char.quote {
            let name = try quoted()
            guard name.count > 7, Self.uppercased(name.prefix(7)) == "/FLAGS/" else { throw error("Invalid MODSEQ entry name") }
            try sp()
            guard ["PRIV", "SHARED", "ALL"].contains(word()) else { throw error("Invalid MODSEQ entry type") }
            try sp()
        }
        return try modSequenceValzer()
    }

    /// A SEARCH string (astring), decoded from the SEARCH charset (UTF-8 when none is given).
    /// Unknown charsets decode as UTF-8 with replacement: the session answers NO [BADCHARSET].
    mutating func searchString(_ charset: String?) throws(ParseError) -> String {
        let bytes = try astringBytes("search string")
        if !bytes.contains(where: { $0 >= 0x80 }) { return String(decoding: bytes, as: UTF8.self) }
        return Charset.decode(bytes, charset: charset ?? "UTF-8") ?? String(decoding: bytes, as: UTF8.self)
    }
}
