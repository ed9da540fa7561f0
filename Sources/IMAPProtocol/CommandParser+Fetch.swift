import MailMessage

extension CommandParser.Reader {
    // fetch = "FETCH" SP sequence-set SP ("ALL" / "FULL" / "FAST" / fetch-att /
    //         "(" fetch-att *(SP fetch-att) ")") [fetch-modifiers]
    mutating func fetch(uid: Bool) throws(ParseError) -> Command {
        let set = try sequenceSet()
        try sp()
        var attributes: [FetchAttribute]
        if peek == Char.openParen {
            attributes = try list(allowEmpty: false) { (r: inout Self) throws(ParseError) in try r.fetchAttribute() }
        } else {
            let save = pos
            // RFC 9051 §6.4.5: the macros.
            switch word() {
            case "ALL": attributes = [.flags, .internalDate, .rfc822Size, .envelope]
            case "FAST": attributes = [.flags, .internalDate, .rfc822Size]
            case "FULL": attributes = [.flags, .internalDate, .rfc822Size, .envelope, .body]
            default:
                pos = save
                attributes = [try fetchAttribute()]
            }
        }
        let modifiers = try fetchModifiers()
        // RFC 7162 §3.2.6: VANISHED only in UID FETCH, and only with CHANGEDSINCE.
        if modifiers.vanished, !uid || modifiers.changedSince == nil {
            throw error("VANISHED needs UID FETCH and CHANGEDSINCE")
        }
        return .fetch(set, attributes, modifiers: modifiers, uid: uid)
    }

    // fetch-att = "ENVELOPE" / "FLAGS" / "INTERNALDATE" / "RFC822" [".HEADER" / ".SIZE" / ".TEXT"] /
    //             "BODY" ["STRUCTURE"] / "UID" / "BODY" section [partial] / "BODY.PEEK" section [partial] /
    //             "BINARY" [".PEEK"] section-binary [partial] / "BINARY.SIZE" section-binary
    // fetch-att =/ "MODSEQ"                                      ; RFC 7162
    // fetch-att =/ "EMAILID" / "THREADID"                        ; RFC 8474
    // fetch-att =/ "SAVEDATE"                                    ; RFC 8514
    // fetch-att =/ "PREVIEW" [SP "(" preview-mod *(SP preview-mod) ")"]   ; RFC 8970, preview-mod = "LAZY"
    mutating func fetchAttribute() throws(ParseError) -> FetchAttribute {
        let name = word()
        switch name {
        case "ENVELOPE": return .envelope
        case "FLAGS": return .flags
        case "INTERNALDATE": return .internalDate
        case "RFC822.SIZE": return .rfc822Size
        case "RFC822": return .rfc822
        case "RFC822.HEADER": return .rfc822Header
        case "RFC822.TEXT": return .rfc822Text
        case "UID": return .uid
        case "BODYSTRUCTURE": return .bodyStructure
        case "MODSEQ": return .modSeq
        case "EMAILID": return .emailID
        case "THREADID": return .threadID
        case "SAVEDATE": return .saveDate
        case "BODY", "BODY.PEEK":
            guard peek == Char.openBracket else {
                if name == "BODY" { return .body }
                throw error("BODY.PEEK needs a section")
            }
            let section = try section()
            return .bodySection(section, partial: try partial(), peek: name == "BODY.PEEK")
        case "BINARY", "BINARY.PEEK":
            let part = try sectionBinary()
            return .binary(part: part, partial: try partial(), peek: name == "BINARY.PEEK")
        case "BINARY.SIZE":
            return .binarySize(part: try sectionBinary())
        case "PREVIEW":
            return .preview(lazy: try previewModifiers())
        case "":
            throw error(isAtEnd ? "Missing fetch attribute" : "Invalid fetch attribute")
        default:
            throw error("Unknown fetch attribute \(name)")
        }
    }

    /// `SP "(" "LAZY" ")"` after PREVIEW, told apart from the fetch modifiers by its first word.
    mutating func previewModifiers() throws(ParseError) -> Bool {
        let save = pos
        guard skip(Char.space), peek == Char.openParen else {
            pos = save
            return false
        }
        pos += 1
        let isLazy = word() == "LAZY"
        pos = save
        guard isLazy else { return false }
        try sp()
        _ = try list(allowEmpty: false) { (r: inout Self) throws(ParseError) -> Bool in
            guard r.keyword("LAZY") else { throw r.error("Unknown PREVIEW modifier") }
            return true
        }
        return true
    }

    // section         = "[" [section-spec] "]"
    // section-spec    = section-msgtext / (section-part ["." section-text])
    // section-msgtext = "HEADER" / "HEADER.FIELDS" [".NOT"] SP header-list / "TEXT"
    // section-part    = nz-number *("." nz-number)
    // section-text    = section-msgtext / "MIME"
    mutating func section() throws(ParseError) -> SectionSpec {
        try expect(Char.openBracket, "Expected [")
        if skip(Char.closeBracket) { return SectionSpec() }
        var part: [Int] = []
        var wantsText = true
        while let p = peek, p >= 0x30, p <= 0x39 {
            part.append(Int(try nzNumber()))
            if !skip(Char.dot) {
                wantsText = false
                break
            }
        }
        var kind: SectionSpec.Kind?
        if wantsText {
            let name = word()
            switch name {
            case "HEADER": kind = .header
            case "TEXT": kind = .text
            case "MIME":
                // RFC 9051 §6.4.5: MIME only after a part number.
                guard !part.isEmpty else { throw error("MIME needs a part number") }
                kind = .mime
            case "HEADER.FIELDS", "HEADER.FIELDS.NOT":
                try sp()
                let names = try headerList()
                kind = name == "HEADER.FIELDS" ? .headerFields(names) : .headerFieldsNot(names)
            default:
                throw error(name.isEmpty ? "Invalid section" : "Unknown section \(name)")
            }
        }
        try expect(Char.closeBracket, "Expected ]")
        return SectionSpec(part: part, kind: kind)
    }

    // header-list     = "(" header-fld-name *(SP header-fld-name) ")"
    // header-fld-name = astring
    /// The field names, lower-cased (ASCII) as `SectionSpec` keeps them.
    mutating func headerList() throws(ParseError) -> [String] {
        try list(allowEmpty: false) { (r: inout Self) throws(ParseError) -> String in
            let name = try r.astringBytes("header field name")
            return try r.utf8(name.map { $0 >= 0x41 && $0 <= 0x5A ? $0 | 0x20 : $0 })
        }
    }

    // section-binary = "[" [section-part] "]"
    mutating func sectionBinary() throws(ParseError) -> [Int] {
        try expect(Char.openBracket, "Expected [")
        var part: [Int] = []
        if !skip(Char.closeBracket) {
            repeat {
                part.append(Int(try nzNumber()))
            } while skip(Char.dot)
            try expect(Char.closeBracket, "Expected ]")
        }
        return part
    }

    // partial = "<" number64 "." nz-number64 ">"
    mutating func partial() throws(ParseError) -> Partial? {
        guard skip(Char.lessThan) else { return nil }
        let offset = try number64()
        try expect(Char.dot, "Invalid partial")
        let length = try nzNumber64()
        try expect(Char.greaterThan, "Invalid partial")
        return Partial(offset: Int(offset), length: Int(length))
    }

    // fetch-modifiers    = SP "(" fetch-modifier *(SP fetch-modifier) ")"   ; RFC 4466
    // fetch-modifier     =/ chgsince-fetch-mod / "VANISHED"                    ; RFC 7162
    // chgsince-fetch-mod = "CHANGEDSINCE" SP mod-sequence-value
    // fetch-modifier     =/ "PARTIAL" SP partial-range                        ; RFC 9394
    mutating func fetchModifiers() throws(ParseError) -> FetchModifiers {
        var modifiers = FetchModifiers()
        guard skip(Char.space) else { return modifiers }
        _ = try list(allowEmpty: false) { (r: inout Self) throws(ParseError) -> Bool in
            let name = r.word()
            switch name {
            case "CHANGEDSINCE":
                guard modifiers.changedSince == nil else { throw r.error("Duplicate CHANGEDSINCE") }
                try r.sp()
                modifiers.changedSince = try r.modSequenceValue()
            case "VANISHED":
                modifiers.vanished = true
            case "PARTIAL":
                guard modifiers.partial == nil else { throw r.error("Duplicate PARTIAL") }
                try r.sp()
                modifiers.partial = try r.partialRange()
            default:
                throw r.error(name.isEmpty ? "Invalid FETCH modifier" : "Unknown FETCH modifier \(name)")
            }
            return true
        }
        return modifiers
    }

    // store           = "STORE" SP sequence-set [store-modifiers] SP store-att-flags
    // store-modifiers = SP "(" store-modifier *(SP store-modifier) ")"            ; RFC 4466
    // store-modifier  =/ "UNCHANGEDSINCE" SP mod-sequence-valzer                  ; RFC 7162
    // store-att-flags = (["+" / "-"] "FLAGS" [".SILENT"]) SP (flag-list / (flag *(SP flag)))
    mutating func store(uid: Bool) throws(ParseError) -> Command {
        let set = try sequenceSet()
        try sp()
        var unchangedSince: UInt64?
        if peek == Char.openParen {
            _ = try list(allowEmpty: false) { (r: inout Self) throws(ParseError) -> Bool in
                let name = r.word()
                guard name == "UNCHANGEDSINCE" else {
                    throw r.error(name.isEmpty ? "Invalid STORE modifier" : "Unknown STORE modifier \(name)")
                }
                guard unchangedSince == nil else { throw r.error("Duplicate UNCHANGEDSINCE") }
                try r.sp()
                unchangedSince = try r.modSequenceValzer()
                return true
            }
            try sp()
        }
        let operation: StoreAction.Operation
        if skip(Char.plus) {
            operation = .add
        } else if skip(Char.dash) {
            operation = .remove
        } else {
            operation = .replace
        }
        let silent: Bool
        switch word() {
        case "FLAGS": silent = false
        case "FLAGS.SILENT": silent = true
        case "": throw error(isAtEnd ? "Missing STORE action" : "Invalid STORE action")
        default: throw error("Unknown STORE action")
        }
        try sp()
        var flags: [String]
        if peek == Char.openParen {
            flags = try flagList()
        } else {
            flags = [try flag()]
            while skip(Char.space) { flags.append(try flag()) }
        }
        let action = StoreAction(operation: operation, silent: silent, flags: flags, unchangedSince: unchangedSince)
        return .store(set, action, uid: uid)
    }
}
