import Foundation
import IMAPProtocol
import MailMessage
import MailStore

/// Evaluates a SEARCH key over the selected mailbox's messages by reading them (RFC 9051
/// §6.4.4). Keys on flags, sizes, dates and numbers use the message record only; keys on
/// headers and text parse what they need, once per message.
struct SearchEvaluator {
    let tx: StoreReader
    let mailbox: MailboxID
    /// The session's sequence map: sequence number n is `uids[n - 1]`.
    let uids: [UID]
    let recent: Set<UID>
    let keywordNames: [KeywordID: String]
    let now: Int64

    /// One message under test, with what has been read of it so far.
    final class Candidate {
        let seq: Int
        let record: MessageRecord
        var structure: ParsedMessage?
        var raw: [UInt8]?
        var text: SearchText?
        var keywords: Set<String>?
        init(seq: Int, record: MessageRecord) {
            self.seq = seq
            self.record = record
        }
    }

    /// The sequence numbers of the matching messages, ascending, with their modseqs.
    func run(_ key: SearchKey) throws -> [(seq: Int, modSeq: UInt64)] {
        var found: [(seq: Int, modSeq: UInt64)] = []
        var index = 0
        try tx.forEachMessage(in: mailbox) { record in
            // Both runs are in UID order: walk the map alongside the store.
            while index < uids.count && uids[index] < record.uid { index += 1 }
            guard index < uids.count, uids[index] == record.uid else { return true }
            let candidate = Candidate(seq: index + 1, record: record)
            if try matches(key, candidate) { found.append((index + 1, record.modSeq.rawValue)) }
            return true
        }
        return found
    }

    private func matches(_ key: SearchKey, _ c: Candidate) throws -> Bool {
        let r = c.record
        switch key {
        case .all: return true
        case .answered: return r.flags.contains(.answered)
        case .deleted: return r.flags.contains(.deleted)
        case .draft: return r.flags.contains(.draft)
        case .flagged: return r.flags.contains(.flagged)
        case .seen: return r.flags.contains(.seen)
        case .unanswered: return !r.flags.contains(.answered)
        case .undeleted: return !r.flags.contains(.deleted)
        case .undraft: return !r.flags.contains(.draft)
        case .unflagged: return !r.flags.contains(.flagged)
        case .unseen: return !r.flags.contains(.seen)
        case .recent: return recent.contains(r.uid)
        case .new: return recent.contains(r.uid) && !r.flags.contains(.seen)
        case .old: return !recent.contains(r.uid)
        case .keyword(let k): return keywords(c).contains(k.lowercased())
        case .unkeyword(let k): return !keywords(c).contains(k.lowercased())
        case .larger(let n): return r.size > n
        case .smaller(let n): return r.size < n
        case .before(let d): return Self.day(r.internalDate.seconds, Int(r.internalDate.zoneMinutes)) < d.daysSince1970
        case .on(let d): return Self.day(r.internalDate.seconds, Int(r.internalDate.zoneMinutes)) == d.daysSince1970
        case .since(let d): return Self.day(r.internalDate.seconds, Int(r.internalDate.zoneMinutes)) >= d.daysSince1970
        case .sentBefore(let d): return try sentDay(c) < d.daysSince1970
        case .sentOn(let d): return try sentDay(c) == d.daysSince1970
        case .sentSince(let d): return try sentDay(c) >= d.daysSince1970
        case .uid(let set): return Self.contains(set, r.uid.rawValue, last: uids.last?.rawValue ?? 0)
        case .sequenceSet(let set): return Self.contains(set, UInt32(c.seq), last: UInt32(uids.count))
        case .modSeq(let n): return r.modSeq.rawValue >= n
        // RFC 5032: OLDER and YOUNGER compare the INTERNALDATE with now.
        case .older(let s): return now - r.internalDate.seconds >= Int64(s)
        case .younger(let s): return now - r.internalDate.seconds <= Int64(s)
        case .emailID(let id): return id == IMAPHandler.objectID("M", r.emailID.rawValue)
        case .threadID(let id): return id == IMAPHandler.objectID("T", r.threadID.rawValue)
        // RFC 8514: the save date, in UTC; every mailbox records it.
        case .savedBefore(let d): return Self.day(r.saveDate, 0) < d.daysSince1970
        case .savedOn(let d): return Self.day(r.saveDate, 0) == d.daysSince1970
        case .savedSince(let d): return Self.day(r.saveDate, 0) >= d.daysSince1970
        case .saveDateSupported: return true
        case .not(let k): return try !matches(k, c)
        case .or(let a, let b): return try matches(a, c) || matches(b, c)
        case .and(let keys):
            for k in keys where try !matches(k, c) { return false }
            return true
        case .from(let s): return try Self.has(text(c).from, s) || headerContains(c, "from", s)
        case .to(let s): return try Self.has(text(c).to, s) || headerContains(c, "to", s)
        case .cc(let s): return try Self.has(text(c).cc, s) || headerContains(c, "cc", s)
        case .bcc(let s): return try Self.has(text(c).bcc, s) || headerContains(c, "bcc", s)
        case .subject(let s): return try Self.has(text(c).subject, s) || headerContains(c, "subject", s)
        case .header(let name, let s): return try headerContains(c, name.lowercased(), s)
        case .body(let s): return try text(c).bodies.contains { Self.has($0, s) }
        case .text(let s):
            if try text(c).bodies.contains(where: { Self.has($0, s) }) { return true }
            let (structure, raw) = try parsed(c)
            let header = String(decoding: raw[structure.root.headerSectionRange], as: UTF8.self)
            return Self.has(header, s) || Self.has(EncodedWords.decode(header), s)
        }
    }

    private func keywords(_ c: Candidate) -> Set<String> {
        if let k = c.keywords { return k }
        let k = Set(c.record.keywords.compactMap { keywordNames[$0]?.lowercased() })
        c.keywords = k
        return k
    }

    private func parsed(_ c: Candidate) throws -> (ParsedMessage, [UInt8]) {
        if let s = c.structure, let raw = c.raw { return (s, raw) }
        let raw = try tx.content(c.record.content)
        let structure = try tx.structure(of: c.record.content) ?? ParsedMessage.parse(raw)
        c.raw = raw
        c.structure = structure
        return (structure, raw)
    }

    private func text(_ c: Candidate) throws -> SearchText {
        if let t = c.text { return t }
        let (structure, raw) = try parsed(c)
        let t = structure.searchText(in: raw)
        c.text = t
        return t
    }

    /// HEADER name string: a field of that name whose value contains the string; an empty
    /// string matches any message with the field (RFC 9051 §6.4.4).
    private func headerContains(_ c: Candidate, _ name: String, _ s: String) throws -> Bool {
        let (structure, raw) = try parsed(c)
        let header = HeaderSection(raw[structure.root.headerSectionRange])
        let fields = header.fields(named: name)
        if s.isEmpty { return !fields.isEmpty }
        return fields.contains { Self.has($0.value, s) || Self.has($0.decodedValue, s) }
    }

    private func sentDay(_ c: Candidate) throws -> Int {
        let (structure, _) = try parsed(c)
        // Without a usable Date: field, the internal date stands in (as Dovecot does).
        if let d = structure.sentDate { return Self.day(d.secondsSince1970, d.zoneOffsetMinutes) }
        return Self.day(c.record.internalDate.seconds, Int(c.record.internalDate.zoneMinutes))
    }

    /// Case-insensitive substring match.
    static func has(_ haystack: String, _ needle: String) -> Bool {
        needle.isEmpty || haystack.range(of: needle, options: [.caseInsensitive]) != nil
    }

    /// The day number (since 1970-01-01) of an instant in its own zone.
    static func day(_ seconds: Int64, _ zoneMinutes: Int) -> Int {
        let local = seconds + Int64(zoneMinutes) * 60
        return Int(local >= 0 ? local / 86400 : (local - 86399) / 86400)
    }


    static func contains(_ set: SequenceSet, _ n: UInt32, last: UInt32) -> Bool {
        for range in set.ranges {
            func value(_ s: SequenceNumber) -> UInt32 { if case .number(let v) = s { return v } else { return last } }
            let (a, b) = (value(range.first), value(range.last))
            if n >= min(a, b) && n <= max(a, b) { return true }
        }
        return false
    }
}
