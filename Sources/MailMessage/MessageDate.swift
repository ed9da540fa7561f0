/// A point in time from a Date header field, with the zone offset it was written in.
public struct MessageDate: Sendable, Hashable {
    /// Seconds since 1970-01-01T00:00:00Z.
    public var secondsSince1970: Int64
    /// The zone offset from UTC in minutes, as written (+0100 is 60).
    public var zoneOffsetMinutes: Int

    public init(secondsSince1970: Int64, zoneOffsetMinutes: Int) {
        self.secondsSince1970 = secondsSince1970
        self.zoneOffsetMinutes = zoneOffsetMinutes
    }

    // RFC 5322 §3.3: date-time = [ day-of-week "," ] date time [CFWS]
    //                date = day month year ; time = hour ":" minute [ ":" second ] FWS zone
    // RFC 5322 §4.3: obs-year = 2*DIGIT ; obs-zone = "UT" / "GMT" / "EST" / … / military letters
    /// Parses a Date header value; nil when it is not a valid date.
    public init?(parsing text: String) {
        // The words, without comments and separators, as ranges of one byte array.
        var kept = [UInt8]()
        kept.reserveCapacity(text.utf8.count)
        var words = [Range<Int>]()
        var wordStart = 0
        var commentDepth = 0
        for b in text.utf8 {
            if b == UInt8(ascii: "(") { commentDepth += 1; continue }
            if b == UInt8(ascii: ")") { commentDepth = max(0, commentDepth - 1); continue }
            if commentDepth > 0 { continue }
            if Bytes.isSpace(b) || b == UInt8(ascii: ",") {
                if kept.count > wordStart { words.append(wordStart..<kept.count) }
                wordStart = kept.count
                if words.count > 16 { return nil }
            } else {
                kept.append(b)
            }
        }
        if kept.count > wordStart { words.append(wordStart..<kept.count) }
        var w = words[...]
        if let first = w.first, Self.isLetter(kept[first.lowerBound]) { w = w.dropFirst() }  // day-of-week
        guard w.count >= 4 else { return nil }
        let parts = w.map { kept[$0] }
        guard let day = Self.number(parts[0]), (1...31).contains(day),
            let month = Self.month(parts[1]),
            var year = Self.number(parts[2])
        else { return nil }
        // RFC 5322 §4.3: two-digit years below 50 are 20xx, others 19xx; three digits add 1900.
        if parts[2].count <= 2 { year += year < 50 ? 2000 : 1900 } else if parts[2].count == 3 { year += 1900 }
        guard (1...9999).contains(year), day <= Self.daysIn(month: month, year: year) else { return nil }
        let timeFields = parts[3].split(separator: UInt8(ascii: ":"), omittingEmptySubsequences: false)
        guard timeFields.count == 2 || timeFields.count == 3,
            let hour = Self.number(timeFields[0]), let minute = Self.number(timeFields[1]),
            (0...23).contains(hour), (0...59).contains(minute)
        else { return nil }
        let second = timeFields.count == 3 ? Self.number(timeFields[2]) : 0
        guard let second, (0...60).contains(second) else { return nil }
        let zone = parts.count > 4 ? Self.zone(parts[4]) : 0
        guard let zone else { return nil }
        let days = Self.daysFromCivil(year: year, month: month, day: day)
        let local = Int64(days) * 86_400 + Int64(hour * 3600 + minute * 60 + second)
        self.init(secondsSince1970: local - Int64(zone * 60), zoneOffsetMinutes: zone)
    }

    private static func isLetter(_ c: UInt8) -> Bool { (c | 0x20) >= 97 && (c | 0x20) <= 122 }

    private static func number(_ w: some Collection<UInt8>) -> Int? {
        guard !w.isEmpty, w.count <= 4 else { return nil }
        var n = 0
        for c in w {
            guard c >= 48, c <= 57 else { return nil }
            n = n * 10 + Int(c - 48)
        }
        return n
    }

    /// The month abbreviations, three lowercase letters each, January first.
    private static let months = Array("janfebmaraprmayjunjulaugsepoctnovdec".utf8)

    /// The month (1–12) whose name starts `w`, ignoring case.
    private static func month(_ w: ArraySlice<UInt8>) -> Int? {
        guard w.count >= 3 else { return nil }
        let i = w.startIndex
        let (a, b, c) = (Bytes.lower(w[i]), Bytes.lower(w[i + 1]), Bytes.lower(w[i + 2]))
        for m in 0..<12 where months[3 * m] == a && months[3 * m + 1] == b && months[3 * m + 2] == c {
            return m + 1
        }
        return nil
    }

    private static func daysIn(month: Int, year: Int) -> Int {
        switch month {
        case 2: return (year % 4 == 0 && year % 100 != 0) || year % 400 == 0 ? 29 : 28
        case 4, 6, 9, 11: return 30
        default: return 31
        }
    }

    // RFC 5322 §3.3: zone = ( "+" / "-" ) 4DIGIT ; §4.3 obs-zone names; military zones count as -0000.
    private static func zone(_ w: ArraySlice<UInt8>) -> Int? {
        if let sign = w.first, sign == UInt8(ascii: "+") || sign == UInt8(ascii: "-") {
            guard w.count == 5, let v = number(w.dropFirst()), v % 100 < 60 else { return nil }
            let minutes = (v / 100) * 60 + v % 100
            return sign == UInt8(ascii: "-") ? -minutes : minutes
        }
        switch String(decoding: Bytes.lowercased(w), as: UTF8.self) {
        case "ut", "utc", "gmt", "z": return 0
        case "edt": return -4 * 60
        case "est", "cdt": return -5 * 60
        case "cst", "mdt": return -6 * 60
        case "mst", "pdt": return -7 * 60
        case "pst": return -8 * 60
        default: return 0  // RFC 5322 §4.3: unknown and military zones are treated as -0000.
        }
    }

    /// Days from 1970-01-01 to a proleptic Gregorian date (Howard Hinnant's civil algorithm).
    private static func daysFromCivil(year: Int, month: Int, day: Int) -> Int {
        let y = month <= 2 ? year - 1 : year
        let era = (y >= 0 ? y : y - 399) / 400
        let yoe = y - era * 400
        let mp = (month + 9) % 12
        let doy = (153 * mp + 2) / 5 + day - 1
        let doe = yoe * 365 + yoe / 4 - yoe / 100 + doy
        return era * 146_097 + doe - 719_468
    }
}
