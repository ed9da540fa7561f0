extension CommandParser.Reader {
    // command         = tag SP (command-any / command-auth / command-nonauth / command-select) CRLF
    // command-any     = "CAPABILITY" / "LOGOUT" / "NOOP" / id
    // command-auth    = append / create / delete / enable / examine / list / namespace-command /
    //                   rename / select / status / subscribe / unsubscribe / idle / lsub
    // command-nonauth = login / authenticate / "STARTTLS"
    // command-select  = "CLOSE" / "UNSELECT" / "EXPUNGE" / copy / move / fetch / store / search / uid / "CHECK"
    // command-select  =/ sort / thread                ; RFC 5256 §4
    /// The command after the tag and its space; the command name is compared without case.
    mutating func command() throws(ParseError) -> Command {
        let r = run(Self.isAtomChar)
        guard !r.isEmpty else { throw error(isAtEnd ? "Missing command" : "Invalid command") }
        let name = Self.uppercased(buf[r].prefix(40))
        switch name {
        case "CAPABILITY": return .capability
        case "NOOP": return .noop
        case "LOGOUT": return .logout
        case "STARTTLS": return .starttls
        case "NAMESPACE": return .namespace
        case "IDLE": return .idle
        case "CHECK": return .check
        case "CLOSE": return .close
        case "UNSELECT": return .unselect
        case "EXPUNGE": return .expunge(uids: nil)
        case "ID": try sp(); return .id(try idParameters())
        case "AUTHENTICATE": try sp(); return try authenticate()
        case "LOGIN": try sp(); return try login()
        case "ENABLE": return .enable(try enable())
        case "SELECT", "EXAMINE":
            try sp()
            let mailbox = try mailbox()
            return .select(mailbox: mailbox, readOnly: name == "EXAMINE", parameters: try selectParameters())
        case "CREATE": try sp(); return try create()
        case "DELETE": try sp(); return .delete(mailbox: try mailbox())
        case "RENAME":
            try sp()
            let from = try mailbox()
            try sp()
            return .rename(from: from, to: try mailbox())
        case "SUBSCRIBE": try sp(); return .subscribe(mailbox: try mailbox())
        case "UNSUBSCRIBE": try sp(); return .unsubscribe(mailbox: try mailbox())
        case "LIST": try sp(); return .list(try list())
        case "LSUB":
            try sp()
            let reference = try mailbox()
            try sp()
            return .lsub(reference: reference, pattern: try listMailbox())
        case "STATUS":
            try sp()
            let mailbox = try mailbox()
            try sp()
            return .status(mailbox: mailbox, items: try statusAttributes())
        case "APPEND": try sp(); return try append()
        case "REPLACE": try sp(); return try replace(uid: false)
        case "SEARCH": return .search(try search(), uid: false)
        case "SORT": return .sort(try sort(), uid: false)
        case "THREAD": return .thread(try thread(), uid: false)
        case "FETCH": try sp(); return try fetch(uid: false)
        case "STORE": try sp(); return try store(uid: false)
        case "COPY", "MOVE": try sp(); return try copyOrMove(move: name == "MOVE", uid: false)
        case "UID": try sp(); return try uid()
        case "COMPRESS", "UNAUTHENTICATE", "GETQUOTA", "GETQUOTAROOT", "SETQUOTA", "GETMETADATA", "SETMETADATA", "NOTIFY",
             "CANCELUPDATE":
            return try extensionCommand(name)
        default: throw error("Unknown command \(name)")
        }
    }

    // uid         = "UID" SP (copy / move / fetch / search / store / uid-expunge)
    // uid         =/ "UID" SP (sort / thread)        ; RFC 5256 §4
    // uid-expunge = "EXPUNGE" SP sequence-set     ; RFC 4315
    mutating func uid() throws(ParseError) -> Command {
        let r = run(Self.isAtomChar)
        guard !r.isEmpty else { throw error(isAtEnd ? "Missing UID command" : "Invalid UID command") }
        let name = Self.uppercased(buf[r].prefix(40))
        switch name {
        case "FETCH": try sp(); return try fetch(uid: true)
        case "SEARCH": return .search(try search(), uid: true)
        case "SORT": return .sort(try sort(), uid: true)
        case "THREAD": return .thread(try thread(), uid: true)
        case "STORE": try sp(); return try store(uid: true)
        case "COPY", "MOVE": try sp(); return try copyOrMove(move: name == "MOVE", uid: true)
        case "EXPUNGE": try sp(); return .expunge(uids: try sequenceSet())
        case "REPLACE": try sp(); return try replace(uid: true)
        default: throw error("Unknown UID command \(name)")
        }
    }

    // copy = "COPY" SP sequence-set SP mailbox
    // move = "MOVE" SP sequence-set SP mailbox   ; RFC 6851
    mutating func copyOrMove(move: Bool, uid: Bool) throws(ParseError) -> Command {
        let set = try sequenceSet()
        try sp()
        let mailbox = try mailbox()
        return move ? .move(set, mailbox: mailbox, uid: uid) : .copy(set, mailbox: mailbox, uid: uid)
    }

    // id             = "ID" SP id-params-list        ; RFC 2971
    // id-params-list = "(" #(string SP nstring) ")" / nil
    mutating func idParameters() throws(ParseError) -> [IDField]? {
        if keyword("NIL") { return nil }
        return try list(allowEmpty: true) { (r: inout Self) throws(ParseError) in
            guard let name = try r.stringBytes() else { throw r.error("Expected an ID field name") }
            try r.sp()
            return IDField(name: try r.utf8(name), value: try r.nstring())
        }
    }

    // authenticate = "AUTHENTICATE" SP auth-type [SP initial-resp]
    // auth-type    = atom
    // initial-resp = (base64 / "=")                  ; RFC 4959
    /// The mechanism is upper-cased; the initial response is kept as sent.
    mutating func authenticate() throws(ParseError) -> Command {
        let mechanism = Self.uppercased(buf[try atomRange("authentication mechanism")])
        guard skip(Char.space) else { return .authenticate(mechanism: mechanism, initialResponse: nil) }
        if skip(Char.equals) {
            guard isAtEnd else { throw error("Invalid base64") }
            return .authenticate(mechanism: mechanism, initialResponse: "=")
        }
        return .authenticate(mechanism: mechanism, initialResponse: try base64())
    }

    // base64          = *(4base64-char) [base64-terminal]
    // base64-char     = ALPHA / DIGIT / "+" / "/"
    // base64-terminal = (2base64-char "==") / (3base64-char "=")
    /// Base64 text as sent; the padding is not required (the SASL layer decodes).
    mutating func base64() throws(ParseError) -> String {
        let r = run { ($0 >= 0x41 && $0 <= 0x5A) || ($0 >= 0x61 && $0 <= 0x7A) || ($0 >= 0x30 && $0 <= 0x39) || $0 == Char.plus || $0 == 0x2F }
        let pad = run { $0 == Char.equals }
        guard !r.isEmpty, pad.count <= 2 else { throw error("Invalid base64") }
        return String(decoding: buf[r.lowerBound..<pad.upperBound], as: UTF8.self)
    }

    /// 1*ATOM-CHAR as a range.
    mutating func atomRange(_ what: String) throws(ParseError) -> Range<Int> {
        let r = run(Self.isAtomChar)
        guard !r.isEmpty else { throw error(isAtEnd ? "Missing \(what)" : "Invalid \(what)") }
        return r
    }

    // login    = "LOGIN" SP userid SP password
    // userid   = astring
    // password = astring
    mutating func login() throws(ParseError) -> Command {
        let user = try astring("user name")
        try sp()
        return .login(user: user, password: try astring("password"))
    }

    // enable     = "ENABLE" 1*(SP capability)        ; RFC 5161
    // capability = ("AUTH=" auth-type) / atom
    mutating func enable() throws(ParseError) -> [String] {
        var names: [String] = []
        try sp()
        repeat {
            names.append(Self.uppercased(buf[try atomRange("capability")]))
        } while skip(Char.space)
        return names
    }

    // select-params = SP "(" select-param *(SP select-param) ")"       ; RFC 4466
    // select-param  =/ "CONDSTORE"                                      ; RFC 7162 §7
    // select-param  =/ "QRESYNC" SP "(" uidvalidity SP mod-sequence-value [SP known-uids] [SP seq-match-data] ")"
    mutating func selectParameters() throws(ParseError) -> SelectParameters {
        var parameters = SelectParameters()
        guard skip(Char.space) else { return parameters }
        _ = try list(allowEmpty: false) { (r: inout Self) throws(ParseError) -> String in
            let name = r.word()
            switch name {
            case "CONDSTORE":
                guard !parameters.condstore else { throw r.error("Duplicate CONDSTORE") }
                parameters.condstore = true
            case "QRESYNC":
                guard parameters.qresync == nil else { throw r.error("Duplicate QRESYNC") }
                try r.sp()
                parameters.qresync = try r.qresyncParameters()
            default:
                throw r.error(name.isEmpty ? "Invalid SELECT parameter" : "Unknown SELECT parameter \(name)")
            }
            return name
        }
        return parameters
    }

    // "(" uidvalidity SP mod-sequence-value [SP known-uids] [SP seq-match-data] ")"
    // known-uids     = sequence-set
    // seq-match-data = "(" known-sequence-set SP known-uid-set ")"
    mutating func qresyncParameters() throws(ParseError) -> QResyncParameters {
        try open()
        let uidValidity = try nzNumber()
        try sp()
        var result = QResyncParameters(uidValidity: uidValidity, modSeq: try modSequenceValue())
        if skip(Char.space) {
            if peek != Char.openParen {
                result.knownUIDs = try sequenceSet()
            }
            if peek == Char.openParen || (result.knownUIDs != nil && skip(Char.space)) {
                try open()
                let sequences = try sequenceSet()
                try sp()
                let uids = try sequenceSet()
                try close()
                result.sequenceMatch = (sequences, uids)
            }
        }
        try close()
        return result
    }

    // create        = "CREATE" SP mailbox [create-params]
    // create-params = SP "(" create-param *(SP create-param) ")"       ; RFC 4466
    // create-param  =/ "USE" SP "(" [use-attr *(SP use-attr)] ")"      ; RFC 6154 §6
    /// The USE attributes are kept as sent (`\Sent`); the session compares them without case.
    mutating func create() throws(ParseError) -> Command {
        let mailbox = try mailbox()
        var specialUse: [String] = []
        if skip(Char.space) {
            var sawUse = false
            _ = try list(allowEmpty: false) { (r: inout Self) throws(ParseError) -> Bool in
                let name = r.word()
                guard name == "USE" else {
                    throw r.error(name.isEmpty ? "Invalid CREATE parameter" : "Unknown CREATE parameter \(name)")
                }
                guard !sawUse else { throw r.error("Duplicate USE") }
                sawUse = true
                try r.sp()
                specialUse = try r.list(allowEmpty: true) { (r: inout Self) throws(ParseError) -> String in
                    // use-attr = "\All" / "\Archive" / "\Drafts" / "\Flagged" / "\Junk" / "\Sent" / "\Trash" / use-attr-ext
                    guard r.peek == Char.backslash else { throw r.error("Invalid special-use attribute") }
                    return try r.flag()
                }
                return true
            }
        }
        return .create(mailbox: mailbox, specialUse: specialUse)
    }

    // list             = "LIST" [SP list-select-opts] SP mailbox SP mbox-or-pat [SP list-return-opts]
    // list-select-opts = "(" [list-select-option *(SP list-select-option)] ")"    ; RFC 5258
    // mbox-or-pat      = list-mailbox / patterns
    // patterns         = "(" list-mailbox *(SP list-mailbox) ")"
    // list-return-opts = "RETURN" SP "(" [return-option *(SP return-option)] ")"
    mutating func list() throws(ParseError) -> ListCommand {
        var selection: [String] = []
        if peek == Char.openParen {
            selection = try list(allowEmpty: true) { (r: inout Self) throws(ParseError) -> String in
                let name = r.word()
                // list-select-option = "SUBSCRIBED" / "REMOTE" / "RECURSIVEMATCH" / "SPECIAL-USE" (RFC 6154)
                guard ["SUBSCRIBED", "REMOTE", "RECURSIVEMATCH", "SPECIAL-USE"].contains(name) else {
                    throw r.error(name.isEmpty ? "Invalid LIST selection option" : "Unknown LIST selection option \(name)")
                }
                return name
            }
            // RFC 5258 §3.1: RECURSIVEMATCH alone is an error.
            if selection.contains("RECURSIVEMATCH"), !selection.contains(where: { $0 != "RECURSIVEMATCH" && $0 != "REMOTE" }) {
                throw error("RECURSIVEMATCH needs another selection option")
            }
            try sp()
        }
        let reference = try mailbox()
        try sp()
        let patterns: [String]
        if peek == Char.openParen {
            patterns = try list(allowEmpty: false) { (r: inout Self) throws(ParseError) in try r.listMailbox() }
        } else {
            patterns = [try listMailbox()]
        }
        var command = ListCommand(reference: reference, patterns: patterns, selectionOptions: selection)
        if skip(Char.space) {
            guard keyword("RETURN") else { throw error("Expected RETURN") }
            try sp()
            // return-option = "SUBSCRIBED" / "CHILDREN" / "SPECIAL-USE" / "STATUS" SP "(" status-att *(SP status-att) ")" /
            //                 "METADATA" SP "(" ["MAXSIZE" SP number SP] entry *(SP entry) ")"   ; RFC 9590
            enum Option { case plain(String), status([StatusItem]), metadata(ListMetadata) }
            let options = try list(allowEmpty: true) { (r: inout Self) throws(ParseError) -> Option in
                let name = r.word()
                switch name {
                case "SUBSCRIBED", "CHILDREN", "SPECIAL-USE":
                    return .plain(name)
                case "STATUS":
                    try r.sp()
                    return .status(try r.statusAttributes())
                case "METADATA":
                    try r.sp()
                    return .metadata(try r.listMetadata())
                default:
                    throw r.error(name.isEmpty ? "Invalid LIST return option" : "Unknown LIST return option \(name)")
                }
            }
            for option in options {
                switch option {
                case .plain(let name):
                    command.returnOptions.append(name)
                case .status(let items):
                    guard command.returnStatus == nil else { throw error("Duplicate STATUS return option") }
                    command.returnStatus = items
                case .metadata(let request):
                    guard command.returnMetadata == nil else { throw error("Duplicate METADATA return option") }
                    command.returnMetadata = request
                }
            }
        }
        return command
    }

    // status-att = "MESSAGES" / "UIDNEXT" / "UIDVALIDITY" / "UNSEEN" / "DELETED" / "SIZE" /
    //              "RECENT" (RFC 3501) / "HIGHESTMODSEQ" (RFC 7162) / "APPENDLIMIT" (RFC 7889)
    // "(" status-att *(SP status-att) ")"
    mutating func statusAttributes() throws(ParseError) -> [StatusItem] {
        try list(allowEmpty: false) { (r: inout Self) throws(ParseError) -> StatusItem in
            let name = r.word()
            guard let item = StatusItem(rawValue: name) else {
                throw r.error(name.isEmpty ? "Invalid status item" : "Unknown status item \(name)")
            }
            return item
        }
    }

    // append         = "APPEND" SP mailbox 1*append-message                      ; RFC 3502
    mutating func append() throws(ParseError) -> Command {
        let mailbox = try mailbox()
        var messages: [AppendMessage] = []
        repeat {
            try sp()
            messages.append(try appendMessage())
        } while !isAtEnd
        return .append(mailbox: mailbox, messages: messages)
    }

    // append-message = append-opts SP append-data
    // append-opts    = [flag-list SP] [date-time SP]
    // append-data    = literal / literal8                                         ; RFC 3516
    // append-data    =/ "UTF8" SP "(" literal8 ")"                                ; RFC 6855 §4
    // append-data    =/ "CATENATE" SP "(" cat-part *(SP cat-part) ")"             ; RFC 4469 §5
    // cat-part       = "TEXT" SP (literal / literal8) / "URL" SP astring
    mutating func appendMessage() throws(ParseError) -> AppendMessage {
        var message = AppendMessage(data: [])
        if peek == Char.openParen {
            message.flags = try flagList()
            try sp()
        }
        if peek == Char.quote {
            message.internalDate = try dateTime()
            try sp()
        }
        if keyword("CATENATE") {
            try sp()
            message.catenate = try list(allowEmpty: false) { (r: inout Self) throws(ParseError) -> CatenatePart in
                let kind = r.word()
                try r.sp()
                switch kind {
                case "TEXT":
                    guard r.peek == Char.openBrace || r.peek == Char.tilde else { throw r.error("TEXT needs a literal") }
                    let (count, binary) = try r.literalHeader(binaryAllowed: true)
                    defer { r.pos += count }
                    let bytes = Array(r.buf[r.pos..<(r.pos + count)])
                    if !binary, bytes.contains(0) { throw r.error("NUL in TEXT; send it as literal8") }
                    return .text(bytes)
                case "URL":
                    return .url(try r.astring("URL"))
                default:
                    throw r.error(kind.isEmpty ? "Invalid CATENATE part" : "Unknown CATENATE part \(kind)")
                }
            }
            return message
        }
        let utf8 = keyword("UTF8")
        if utf8 {
            try sp()
            try expect(Char.openParen, "Expected ( after UTF8")
            guard peek == Char.tilde else { throw error("UTF8 needs a literal8") }
        }
        guard peek == Char.openBrace || peek == Char.tilde else { throw error("Expected a message literal") }
        let (count, binary) = try literalHeader(binaryAllowed: true)
        let r = pos..<(pos + count)
        pos += count
        // CHAR8 = %x01-ff: NUL needs literal8.
        if !binary, buf[r].contains(0) { throw error("NUL in message; send it as literal8") }
        if utf8 { try expect(Char.closeParen, "Expected ) after the UTF8 literal") }
        message.data = Array(buf[r])
        message.isBinary = binary
        return message
    }

    // replace = "REPLACE" SP seq-number SP mailbox SP append-message             ; RFC 8508
    // uid-replace = "UID REPLACE" SP uniqueid SP mailbox SP append-message
    mutating func replace(uid: Bool) throws(ParseError) -> Command {
        let number = try nzNumber()
        try sp()
        let mailbox = try mailbox()
        try sp()
        let message = try appendMessage()
        guard isAtEnd else { throw error("Unexpected data after the message") }
        return .replace(number, mailbox: mailbox, message: message, uid: uid)
    }
}
