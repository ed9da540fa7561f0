extension CommandParser.Reader {
    /// The commands of extensions kept apart from the base grammar: COMPRESS, UNAUTHENTICATE
    /// and QUOTA. `name` is the upper-cased command name, already consumed.
    mutating func extensionCommand(_ name: String) throws(ParseError) -> Command {
        switch name {
        case "COMPRESS": try sp(); return try compress()
        case "UNAUTHENTICATE": return .unauthenticate
        case "GETQUOTA": try sp(); return .getQuota(root: try astring("quota root"))
        case "GETQUOTAROOT": try sp(); return .getQuotaRoot(mailbox: try mailbox())
        case "SETQUOTA": try sp(); return try setQuota()
        default: throw error("Unknown command \(name)")
        }
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
}
