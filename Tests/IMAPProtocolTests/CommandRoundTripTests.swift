import IMAPProtocol
import MailMessage
import Testing

/// Writes a command the way a client would, for round trips through the parser.
/// Test-only: the server never sends commands.
enum CommandWriter {
    static func write(_ c: TaggedCommand) -> [UInt8] {
        var out = Array(c.tag.utf8) + [0x20]
        write(c.command, into: &out)
        return out
    }

    static func string(_ s: String) -> [UInt8] {
        let b = Array(s.utf8)
        if b.contains(where: { $0 == 0x0D || $0 == 0x0A || $0 == 0 }) {
            return Array("{\(b.count)}\r\n".utf8) + b
        }
        var out: [UInt8] = [0x22]
        for x in b {
            if x == 0x22 || x == 0x5C { out.append(0x5C) }
            out.append(x)
        }
        out.append(0x22)
        return out
    }

    static func join(_ parts: [[UInt8]], paren: Bool) -> [UInt8] {
        var out: [UInt8] = paren ? [0x28] : []
        for (i, p) in parts.enumerated() {
            if i > 0 { out.append(0x20) }
            out += p
        }
        if paren { out.append(0x29) }
        return out
    }

    static func text(_ s: String) -> [UInt8] { Array(s.utf8) }

    /// A message literal, or `CATENATE (...)` with its parts.
    static func appendData(_ msg: AppendMessage) -> [UInt8] {
        guard let parts = msg.catenate else { return text("\(msg.isBinary ? "~" : ""){\(msg.data.count)}\r\n") + msg.data }
        return text("CATENATE ") + join(parts.map { part in
            switch part {
            case .text(let bytes): text("TEXT \(bytes.contains(0) ? "~" : ""){\(bytes.count)}\r\n") + bytes
            case .url(let url): text("URL ") + string(url)
            }
        }, paren: true)
    }

    static func partial(_ p: PartialRange?) -> [[UInt8]] { p.map { [text("PARTIAL \($0)")] } ?? [] }

    static func set(_ s: SequenceSet) -> [UInt8] {
        if s.isSavedResult { return text("$") }
        func n(_ x: SequenceNumber) -> String {
            if case .number(let v) = x { return String(v) }
            return "*"
        }
        return text(s.ranges.map { $0.first == $0.last ? n($0.first) : "\(n($0.first)):\(n($0.last))" }.joined(separator: ","))
    }

    /// A search program's keys: the top-level AND unparenthesized.
    static func keys(_ k: SearchKey) -> [UInt8] {
        if case .and(let keys) = k, keys.count > 1 { return join(keys.map(key), paren: false) }
        return key(k)
    }

    static let months = ["Jan", "Feb", "Mar", "Apr", "May", "Jun", "Jul", "Aug", "Sep", "Oct", "Nov", "Dec"]

    static func date(_ d: IMAPDate) -> [UInt8] { text("\(d.day)-\(months[d.month - 1])-\(d.year)") }

    static func two(_ n: Int) -> String { n < 10 ? "0\(n)" : "\(n)" }

    static func dateTime(_ d: IMAPDateTime) -> [UInt8] {
        let z = abs(d.zoneMinutes)
        return text("\"\(two(d.day))-\(months[d.month - 1])-\(d.year) \(two(d.hour)):\(two(d.minute)):\(two(d.second)) "
                    + "\(d.zoneMinutes < 0 ? "-" : "+")\(two(z / 60))\(two(z % 60))\"")
    }

    static func key(_ k: SearchKey) -> [UInt8] {
        switch k {
        case .all: return text("ALL")
        case .answered: return text("ANSWERED")
        case .deleted: return text("DELETED")
        case .draft: return text("DRAFT")
        case .flagged: return text("FLAGGED")
        case .seen: return text("SEEN")
        case .unanswered: return text("UNANSWERED")
        case .undeleted: return text("UNDELETED")
        case .undraft: return text("UNDRAFT")
        case .unflagged: return text("UNFLAGGED")
        case .unseen: return text("UNSEEN")
        case .new: return text("NEW")
        case .old: return text("OLD")
        case .recent: return text("RECENT")
        case .keyword(let s): return text("KEYWORD \(s)")
        case .unkeyword(let s): return text("UNKEYWORD \(s)")
        case .bcc(let s): return text("BCC ") + string(s)
        case .cc(let s): return text("CC ") + string(s)
        case .from(let s): return text("FROM ") + string(s)
        case .to(let s): return text("TO ") + string(s)
        case .subject(let s): return text("SUBJECT ") + string(s)
        case .body(let s): return text("BODY ") + string(s)
        case .text(let s): return text("TEXT ") + string(s)
        case .header(let n, let v): return text("HEADER ") + string(n) + [0x20] + string(v)
        case .before(let d): return text("BEFORE ") + date(d)
        case .on(let d): return text("ON ") + date(d)
        case .since(let d): return text("SINCE ") + date(d)
        case .sentBefore(let d): return text("SENTBEFORE ") + date(d)
        case .sentOn(let d): return text("SENTON ") + date(d)
        case .sentSince(let d): return text("SENTSINCE ") + date(d)
        case .larger(let n): return text("LARGER \(n)")
        case .smaller(let n): return text("SMALLER \(n)")
        case .uid(let s): return text("UID ") + set(s)
        case .sequenceSet(let s): return set(s)
        case .not(let k): return text("NOT ") + key(k)
        case .or(let a, let b): return text("OR ") + key(a) + [0x20] + key(b)
        case .and(let keys): return join(keys.map(key), paren: true)
        case .modSeq(let n): return text("MODSEQ \(n)")
        case .older(let n): return text("OLDER \(n)")
        case .younger(let n): return text("YOUNGER \(n)")
        case .emailID(let id): return text("EMAILID \(id)")
        case .threadID(let id): return text("THREADID \(id)")
        case .savedBefore(let d): return text("SAVEDBEFORE ") + date(d)
        case .savedOn(let d): return text("SAVEDON ") + date(d)
        case .savedSince(let d): return text("SAVEDSINCE ") + date(d)
        case .saveDateSupported: return text("SAVEDATESUPPORTED")
        }
    }

    static func part(_ p: [Int]) -> String { p.map(String.init).joined(separator: ".") }

    static func partial(_ p: Partial?) -> String { p.map { "<\($0.offset).\($0.length)>" } ?? "" }

    static func section(_ s: SectionSpec) -> [UInt8] {
        var t = part(s.part)
        let dot = s.part.isEmpty ? "" : "."
        var fields: [String]?
        switch s.kind {
        case nil: break
        case .header?: t += dot + "HEADER"
        case .text?: t += dot + "TEXT"
        case .mime?: t += dot + "MIME"
        case .headerFields(let f)?: t += dot + "HEADER.FIELDS "; fields = f
        case .headerFieldsNot(let f)?: t += dot + "HEADER.FIELDS.NOT "; fields = f
        }
        var out = text("[" + t)
        if let fields { out += join(fields.map(string), paren: true) }
        return out + text("]")
    }

    static func attribute(_ a: FetchAttribute) -> [UInt8] {
        switch a {
        case .envelope: return text("ENVELOPE")
        case .flags: return text("FLAGS")
        case .internalDate: return text("INTERNALDATE")
        case .rfc822Size: return text("RFC822.SIZE")
        case .uid: return text("UID")
        case .body: return text("BODY")
        case .bodyStructure: return text("BODYSTRUCTURE")
        case .rfc822: return text("RFC822")
        case .rfc822Header: return text("RFC822.HEADER")
        case .rfc822Text: return text("RFC822.TEXT")
        case .bodySection(let s, let p, let peek): return text(peek ? "BODY.PEEK" : "BODY") + section(s) + text(partial(p))
        case .binary(let p, let r, let peek): return text((peek ? "BINARY.PEEK[" : "BINARY[") + part(p) + "]" + partial(r))
        case .binarySize(let p): return text("BINARY.SIZE[" + part(p) + "]")
        case .modSeq: return text("MODSEQ")
        case .emailID: return text("EMAILID")
        case .threadID: return text("THREADID")
        case .saveDate: return text("SAVEDATE")
        case .preview(let lazy): return text(lazy ? "PREVIEW (LAZY)" : "PREVIEW")
        }
    }

    static func status(_ items: [StatusItem]) -> [UInt8] { join(items.map { text($0.rawValue) }, paren: true) }

    static func write(_ c: Command, into out: inout [UInt8]) {
        let uidPrefix: (Bool) -> [UInt8] = { $0 ? text("UID ") : [] }
        switch c {
        case .capability: out += text("CAPABILITY")
        case .noop: out += text("NOOP")
        case .logout: out += text("LOGOUT")
        case .id(let fields):
            out += text("ID ")
            if let fields {
                out += join(fields.map { string($0.name) + [0x20] + ($0.value.map(string) ?? text("NIL")) }, paren: true)
            } else {
                out += text("NIL")
            }
        case .starttls: out += text("STARTTLS")
        case .authenticate(let m, let r): out += text("AUTHENTICATE \(m)" + (r.map { " " + $0 } ?? ""))
        case .login(let u, let p): out += text("LOGIN ") + string(u) + [0x20] + string(p)
        case .enable(let caps): out += text("ENABLE " + caps.joined(separator: " "))
        case .select(let m, let readOnly, let p):
            out += text(readOnly ? "EXAMINE " : "SELECT ") + string(m)
            var params: [[UInt8]] = []
            if p.condstore { params.append(text("CONDSTORE")) }
            if let q = p.qresync {
                var parts = [text("\(q.uidValidity)"), text("\(q.modSeq)")]
                if let k = q.knownUIDs { parts.append(set(k)) }
                if let m = q.sequenceMatch { parts.append(join([set(m.sequences), set(m.uids)], paren: true)) }
                params.append(text("QRESYNC ") + join(parts, paren: true))
            }
            if !params.isEmpty { out += [0x20] + join(params, paren: true) }
        case .create(let m, let use):
            out += text("CREATE ") + string(m)
            if !use.isEmpty { out += text(" (USE ") + join(use.map(text), paren: true) + text(")") }
        case .delete(let m): out += text("DELETE ") + string(m)
        case .rename(let a, let b): out += text("RENAME ") + string(a) + [0x20] + string(b)
        case .subscribe(let m): out += text("SUBSCRIBE ") + string(m)
        case .unsubscribe(let m): out += text("UNSUBSCRIBE ") + string(m)
        case .list(let l):
            out += text("LIST ")
            if !l.selectionOptions.isEmpty { out += join(l.selectionOptions.map(text), paren: true) + [0x20] }
            out += string(l.reference) + [0x20]
            out += l.patterns.count == 1 ? string(l.patterns[0]) : join(l.patterns.map(string), paren: true)
            var ret = l.returnOptions.map(text)
            if let s = l.returnStatus { ret.append(text("STATUS ") + status(s)) }
            if let m = l.returnMetadata {
                ret.append(text("METADATA ") + join((m.maxSize.map { [text("MAXSIZE \($0)")] } ?? []) + m.entries.map(string), paren: true))
            }
            if !ret.isEmpty { out += text(" RETURN ") + join(ret, paren: true) }
        case .lsub(let r, let p): out += text("LSUB ") + string(r) + [0x20] + string(p)
        case .namespace: out += text("NAMESPACE")
        case .status(let m, let items): out += text("STATUS ") + string(m) + [0x20] + status(items)
        case .append(let m, let messages):
            out += text("APPEND ") + string(m)
            for msg in messages {
                if !msg.flags.isEmpty { out += [0x20] + join(msg.flags.map(text), paren: true) }
                if let d = msg.internalDate { out += [0x20] + dateTime(d) }
                out += [0x20] + appendData(msg)
            }
        case .replace(let n, let m, let msg, let uid):
            out += uidPrefix(uid) + text("REPLACE \(n) ") + string(m)
            if !msg.flags.isEmpty { out += [0x20] + join(msg.flags.map(text), paren: true) }
            if let d = msg.internalDate { out += [0x20] + dateTime(d) }
            out += [0x20] + appendData(msg)
        case .idle: out += text("IDLE")
        case .check: out += text("CHECK")
        case .close: out += text("CLOSE")
        case .unselect: out += text("UNSELECT")
        case .expunge(let uids):
            if let uids { out += text("UID EXPUNGE ") + set(uids) } else { out += text("EXPUNGE") }
        case .search(let s, let uid):
            out += uidPrefix(uid) + text("SEARCH")
            if let r = s.returnOptions { out += text(" RETURN ") + join(r.map { text($0.rawValue) } + partial(s.partial), paren: true) }
            if let c = s.charset { out += text(" CHARSET ") + string(c) }
            out += [0x20] + keys(s.key)
        case .sort(let s, let uid):
            out += uidPrefix(uid) + text("SORT")
            if let r = s.returnOptions { out += text(" RETURN ") + join(r.map { text($0.rawValue) } + partial(s.partial), paren: true) }
            out += [0x20] + join(s.criteria.map { text(($0.reverse ? "REVERSE " : "") + $0.key.rawValue) }, paren: true)
            out += [0x20] + string(s.charset) + [0x20] + keys(s.key)
        case .thread(let t, let uid):
            out += uidPrefix(uid) + text("THREAD \(t.algorithm.rawValue) ") + string(t.charset) + [0x20] + keys(t.key)
        case .fetch(let s, let atts, let mods, let uid):
            out += uidPrefix(uid) + text("FETCH ") + set(s) + [0x20] + join(atts.map(attribute), paren: true)
            var m: [[UInt8]] = []
            if let c = mods.changedSince { m.append(text("CHANGEDSINCE \(c)")) }
            if mods.vanished { m.append(text("VANISHED")) }
            m += partial(mods.partial)
            if !m.isEmpty { out += [0x20] + join(m, paren: true) }
        case .store(let s, let a, let uid):
            out += uidPrefix(uid) + text("STORE ") + set(s) + [0x20]
            if let u = a.unchangedSince { out += text("(UNCHANGEDSINCE \(u)) ") }
            let op = a.operation == .add ? "+" : a.operation == .remove ? "-" : ""
            out += text(op + "FLAGS" + (a.silent ? ".SILENT " : " ")) + join(a.flags.map(text), paren: true)
        case .copy(let s, let m, let uid): out += uidPrefix(uid) + text("COPY ") + set(s) + [0x20] + string(m)
        case .move(let s, let m, let uid): out += uidPrefix(uid) + text("MOVE ") + set(s) + [0x20] + string(m)
        case .compress(let m): out += text("COMPRESS ") + text(m)
        case .unauthenticate: out += text("UNAUTHENTICATE")
        case .getQuota(let r): out += text("GETQUOTA ") + string(r)
        case .getQuotaRoot(let m): out += text("GETQUOTAROOT ") + string(m)
        case .setQuota(let r, let limits):
            out += text("SETQUOTA ") + string(r) + [0x20] + join(limits.map { text("\($0.resource) \($0.limit)") }, paren: true)
        case .getMetadata(let m, let entries, let options):
            out += text("GETMETADATA ")
            var o: [[UInt8]] = []
            if let n = options.maxSize { o.append(text("MAXSIZE \(n)")) }
            if options.depth != .zero { o.append(text("DEPTH \(options.depth.rawValue)")) }
            if !o.isEmpty { out += join(o, paren: true) + [0x20] }
            out += string(m) + [0x20] + join(entries.map(string), paren: true)
        case .cancelUpdate(let tags):
            out += text("CANCELUPDATE ") + join(tags.map(string), paren: false)
        case .notify(nil):
            out += text("NOTIFY NONE")
        case .notify(let set?):
            out += text(set.status ? "NOTIFY SET STATUS " : "NOTIFY SET ")
            out += join(set.groups.map { g in
                let filter: [UInt8] = switch g.filter {
                case .selected: text("SELECTED")
                case .selectedDelayed: text("SELECTED-DELAYED")
                case .inboxes: text("INBOXES")
                case .personal: text("PERSONAL")
                case .subscribed: text("SUBSCRIBED")
                case .subtree(let names): text("SUBTREE ") + join(names.map(string), paren: true)
                case .mailboxes(let names): text("MAILBOXES ") + join(names.map(string), paren: true)
                }
                let events: [UInt8] = g.events.isEmpty ? text("NONE") : join(g.events.map { e in
                    switch e {
                    case .messageNew(let atts): atts.isEmpty ? text("MessageNew") : text("MessageNew ") + join(atts.map(attribute), paren: true)
                    case .messageExpunge: text("MessageExpunge")
                    case .flagChange: text("FlagChange")
                    case .annotationChange: text("AnnotationChange")
                    case .mailboxName: text("MailboxName")
                    case .subscriptionChange: text("SubscriptionChange")
                    case .mailboxMetadataChange: text("MailboxMetadataChange")
                    case .serverMetadataChange: text("ServerMetadataChange")
                    case .other(let name): text(name)
                    }
                }, paren: true)
                return join([filter, events], paren: true)
            }, paren: false)
        case .setMetadata(let m, let entries):
            out += text("SETMETADATA ") + string(m) + [0x20]
            out += join(entries.map { e in
                string(e.name) + [0x20] + (e.value.map { Array("~{\($0.count)}\r\n".utf8) + $0 } ?? text("NIL"))
            }, paren: true)
        }
    }
}

@Suite struct CommandRoundTripTests {
    /// Writing each fixture's expected command and parsing it back gives the same command.
    @Test(arguments: parseFixtures)
    func roundTrips(_ fixture: ParseFixture) {
        let command = TaggedCommand(tag: fixture.tag, command: fixture.expected)
        let wire = CommandWriter.write(command)
        #expect(CommandParser.parse(wire) == .success(command), "\(String(decoding: wire, as: UTF8.self))")
    }
}
