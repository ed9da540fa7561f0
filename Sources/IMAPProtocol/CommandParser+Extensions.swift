extension CommandParser.Reader {
    /// The commands of extensions kept apart from the base grammar: COMPRESS, UNAUTHENTICATE,
    /// QUOTA and METADATA. `name` is the upper-cased command name, already consumed.
    mutating func extensionCommand(_ name: String) throws(ParseError) -> Command {
        switch name {
        case "COMPRESS": try sp(); return try compress()
        case "UNAUTHENTICATE": return .unauthenticate
        case "GETQUOTA": try sp(); return .getQuota(root: try astring("quota root"))
        case "GETQUOTAROOT": try sp(); return .getQuotaRoot(mailbox: try mailbox())
        case "SETQUOTA": try sp(); return try setQuota()
        case "GETMETADATA": try sp(); return try getMetadata()
        case "SETMETADATA": try sp(); return try setMetadata()
        case "NOTIFY": try sp(); return try notify()
        case "CANCELUPDATE": return try cancelUpdate()
        default: throw error("Unknown command \(name)")
        }
    }

    // cancelupdate = "CANCELUPDATE" 1*(SP quoted)      ; RFC 5267 §6
    /// The tags are strings (quoted or literal), at least one.
    mutating func cancelUpdate() throws(ParseError) -> Command {
        var tags: [String] = []
        repeat {
            try sp()
            guard let bytes = try stringBytes() else { throw error("Expected a search tag string") }
            tags.append(try utf8(bytes))
        } while !isAtEnd
        return .cancelUpdate(tags)
    }

    // compress  = "COMPRESS" SP algorithm      ; RFC 4978 §4
    // algorithm = "DEFLATE"
    /// Any atom is taken here; the session answers BAD for a mechanism it does not know.
    mutating func compress() throws(ParseError) -> Command {
        .compress(mechanism: Self.uppercased(buf[try atomRange("compression mechanism")]))
    }

    // setquota          = "SETQUOTA" SP quota-root-name SP setquota-list    ; RFC 9208 §9
    // setquota-list     = "(" [setquota-resource *(SP setquota-resource)] ")"
    // setquota-resource = resource-name SP resource-limit
    // resource-name     = "STORAGE" / "MESSAGE" / "MAILBOX" / "ANNOTATION-STORAGE" / resource-name-ext
    // resource-limit    = number64
    mutating func setQuota() throws(ParseError) -> Command {
        let root = try astring("quota root")
        try sp()
        let limits = try list(allowEmpty: true) { (r: inout Self) throws(ParseError) -> QuotaLimit in
            let resource = Self.uppercased(r.buf[try r.atomRange("resource name")])
            try r.sp()
            return QuotaLimit(resource: resource, limit: try r.number64())
        }
        return .setQuota(root: root, limits: limits)
    }

    // getmetadata         = "GETMETADATA" [SP getmetadata-options] SP mailbox SP entries   ; RFC 5464 §5
    // getmetadata-options = "(" getmetadata-option *(SP getmetadata-option) ")"
    // getmetadata-option  = "MAXSIZE" SP number / "DEPTH" SP ("0" / "1" / "infinity")
    // entries             = entry / "(" entry *(SP entry) ")"
    mutating func getMetadata() throws(ParseError) -> Command {
        var options = MetadataOptions()
        if peek == Char.openParen {
            var seen = Set<String>()
            _ = try list(allowEmpty: false) { (r: inout Self) throws(ParseError) in
                let name = r.word()
                guard seen.insert(name).inserted else { throw r.error("Duplicate GETMETADATA option \(name)") }
                try r.sp()
                switch name {
                case "MAXSIZE":
                    options.maxSize = try r.number()
                case "DEPTH":
                    let value = r.word()
                    guard let depth = MetadataOptions.Depth(rawValue: value == "INFINITY" ? "infinity" : value) else {
                        throw r.error("DEPTH is 0, 1 or infinity")
                    }
                    options.depth = depth
                default:
                    throw r.error(name.isEmpty ? "Invalid GETMETADATA option" : "Unknown GETMETADATA option \(name)")
                }
            }
            try sp()
        }
        let mailbox = try mailbox()
        try sp()
        let entries = peek == Char.openParen
            ? try list(allowEmpty: false) { (r: inout Self) throws(ParseError) in try r.metadataEntryName() }
            : [try metadataEntryName()]
        return .getMetadata(mailbox: mailbox, entries: entries, options: options)
    }

    // setmetadata = "SETMETADATA" SP mailbox SP "(" entry-value *(SP entry-value) ")"
    // entry-value = entry SP value
    // value       = nstring / literal8
    mutating func setMetadata() throws(ParseError) -> Command {
        let mailbox = try mailbox()
        try sp()
        let entries = try list(allowEmpty: false) { (r: inout Self) throws(ParseError) -> MetadataEntry in
            let name = try r.metadataEntryName()
            try r.sp()
            return MetadataEntry(name: name, value: try r.metadataValue())
        }
        return .setMetadata(mailbox: mailbox, entries: entries)
    }

    // "METADATA" SP "(" ["MAXSIZE" SP number SP] entry *(SP entry) ")"    ; RFC 9590 return option
    mutating func listMetadata() throws(ParseError) -> ListMetadata {
        var maxSize: UInt32?
        var entries: [String] = []
        _ = try list(allowEmpty: false) { (r: inout Self) throws(ParseError) in
            if entries.isEmpty, maxSize == nil, r.keyword("MAXSIZE") {
                try r.sp()
                maxSize = try r.number()
            } else {
                entries.append(try r.metadataEntryName())
            }
        }
        guard !entries.isEmpty else { throw error("Missing metadata entry") }
        return ListMetadata(entries: entries, maxSize: maxSize)
    }

    /// An entry name as sent, checked against RFC 5464 §3.2: under `/private` or `/shared`,
    /// printable ASCII without `*` or `%`, no `//`, no trailing `/`.
    mutating func metadataEntryName() throws(ParseError) -> String {
        let bytes = try astringBytes("metadata entry")
        let name = String(decoding: bytes, as: UTF8.self)
        let lower = name.lowercased()
        guard bytes.allSatisfy({ $0 > 0x20 && $0 < 0x7F && $0 != 0x2A && $0 != 0x25 }),
              lower == "/private" || lower == "/shared" || lower.hasPrefix("/private/") || lower.hasPrefix("/shared/"),
              !name.contains("//"), !name.hasSuffix("/")
        else { throw error("Invalid metadata entry name") }
        return name
    }

    /// `nstring / literal8`: the value bytes, nil for NIL.
    mutating func metadataValue() throws(ParseError) -> [UInt8]? {
        if peek == Char.tilde {
            let (count, _) = try literalHeader(binaryAllowed: true)
            defer { pos += count }
            return Array(buf[pos..<(pos + count)])
        }
        if let bytes = try stringBytes() { return bytes }
        guard keyword("NIL") else { throw error("Expected a string or NIL") }
        return nil
    }

    // notify           = "NOTIFY" SP (notify-set / notify-none)           ; RFC 5465 §8
    // notify-none      = "NONE"
    // notify-set       = "SET" [SP "STATUS"] SP event-groups
    // event-groups     = event-group *(SP event-group)
    // event-group      = "(" filter-mailboxes SP events ")"
    mutating func notify() throws(ParseError) -> Command {
        if keyword("NONE") { return .notify(nil) }
        guard keyword("SET") else { throw error("Expected SET or NONE") }
        try sp()
        var set = NotifySet(groups: [])
        if keyword("STATUS") {
            set.status = true
            try sp()
        }
        repeat {
            try open()
            let filter = try notifyFilter()
            try sp()
            var events: [NotifyEvent] = []
            if !keyword("NONE") {
                events = try list(allowEmpty: false) { (r: inout Self) throws(ParseError) in try r.notifyEvent() }
            }
            try close()
            set.groups.append(NotifyGroup(filter, events))
        } while skip(Char.space)
        return .notify(set)
    }

    // filter-mailboxes = "SELECTED" / "SELECTED-DELAYED" / "INBOXES" / "PERSONAL" / "SUBSCRIBED" /
    //                    "SUBTREE" SP one-or-more-mailbox / "MAILBOXES" SP one-or-more-mailbox
    // one-or-more-mailbox = mailbox / "(" mailbox *(SP mailbox) ")"
    mutating func notifyFilter() throws(ParseError) -> NotifyFilter {
        let name = word()
        switch name {
        case "SELECTED": return .selected
        case "SELECTED-DELAYED": return .selectedDelayed
        case "INBOXES": return .inboxes
        case "PERSONAL": return .personal
        case "SUBSCRIBED": return .subscribed
        case "SUBTREE", "MAILBOXES":
            try sp()
            let names = peek == Char.openParen
                ? try list(allowEmpty: false) { (r: inout Self) throws(ParseError) in try r.mailbox() }
                : [try mailbox()]
            return name == "SUBTREE" ? .subtree(names) : .mailboxes(names)
        default:
            throw error(name.isEmpty ? "Invalid NOTIFY filter" : "Unknown NOTIFY filter \(name)")
        }
    }

    // event = "MessageNew" [SP "(" fetch-att *(SP fetch-att) ")"] / "MessageExpunge" / "FlagChange" /
    //         "AnnotationChange" / "MailboxName" / "SubscriptionChange" / "MailboxMetadataChange" /
    //         "ServerMetadataChange" / atom
    mutating func notifyEvent() throws(ParseError) -> NotifyEvent {
        let name = try atom("event")
        switch name.uppercased() {
        case "MESSAGENEW":
            guard peek == Char.space, pos + 1 < buf.count, buf[pos + 1] == Char.openParen else { return .messageNew([]) }
            try sp()
            return .messageNew(try list(allowEmpty: false) { (r: inout Self) throws(ParseError) in try r.fetchAttribute() })
        case "MESSAGEEXPUNGE": return .messageExpunge
        case "FLAGCHANGE": return .flagChange
        case "ANNOTATIONCHANGE": return .annotationChange
        case "MAILBOXNAME": return .mailboxName
        case "SUBSCRIPTIONCHANGE": return .subscriptionChange
        case "MAILBOXMETADATACHANGE": return .mailboxMetadataChange
        case "SERVERMETADATACHANGE": return .serverMetadataChange
        default: return .other(name)
        }
    }
}
