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
        var text = text
        guard let date = text.withUTF8(Self.parse) else { return nil }
        self = date
    }

    /// Parses the bytes of a Date header value; comments are dropped first.
    static func parse(_ buf: UnsafeBufferPointer<UInt8>) -> MessageDate? {
        guard buf.contains(where: { $0 == UInt8(ascii: "(") || $0 == UInt8(ascii: ")") }) else { return parseWords(buf) }
        // The bytes outside comments; the parentheses themselves separate nothing.
        var kept = [UInt8]()
        kept.reserveCapacity(buf.count)
        var commentDepth = 0
        for b in buf {
            if b == UInt8(ascii: "(") { commentDepth += 1; continue }
            if b == UInt8(ascii: ")") { commentDepth = max(0, commentDepth - 1); continue }
            if commentDepth == 0 { kept.append(b) }
        }
        return kept.withUnsafeBufferPointer(parseWords)
    }

    /// Most words a date may have; one more makes the value invalid.
    private static let maxWords = 16

    /// Parses date bytes without comments: words split at whitespace and commas.
    private static func parseWords(_ buf: UnsafeBufferPointer<UInt8>) -> MessageDate? {
        // The first six words are all the grammar reads (day-of-week, day, month, year, time, zone).
        withUnsafeTemporaryAllocation(of: Range<Int>.self, capacity: 6) { words -> MessageDate? in
            var count = 0
            var ended = 0  // words followed by a separator
            var wordStart = -1
            for i in 0..<buf.count {
                let b = buf[i]
                if Bytes.isSpace(b) || b == UInt8(ascii: ",") {
                    if wordStart >= 0 {
                        if count < 6 { words.initializeElement(at: count, to: wordStart..<i) }
                        count += 1
                        ended += 1
                        wordStart = -1
                        if ended > maxWords { return nil }
                    }
                } else if wordStart < 0 {
                    wordStart = i
                }
            }
            if wordStart >= 0 {
                if count < 6 { words.initializeElement(at: count, to: wordStart..<buf.count) }
                count += 1
            }
            var first = 0
            if count > 0, isLetter(buf[words[0].lowerBound]) { first = 1 }  // day-of-week
            guard count - first >= 4 else { return nil }
            func part(_ k: Int) -> Slice<UnsafeBufferPointer<UInt8>> { buf[words[first + k]] }
            return make(
                day: part(0), month: part(1), year: part(2), time: part(3), zone: count - first > 4 ? part(4) : nil)
        }
    }

    /// The date from its words, or nil when one is invalid.
    private static func make(
        day dayWord: Slice<UnsafeBufferPointer<UInt8>>, month monthWord: Slice<UnsafeBufferPointer<UInt8>>,
        year yearWord: Slice<UnsafeBufferPointer<UInt8>>, time timeWord: Slice<UnsafeBufferPointer<UInt8>>,
        zone zoneWord: Slice<UnsafeBufferPointer<UInt8>>?
    ) -> MessageDate? {
        guard let day = number(dayWord), (1...31).contains(day),
            let month = month(monthWord),
            var year = number(yearWord)
        else { return nil }
        // RFC 5322 §4.3: two-digit years below 50 are 20xx, others 19xx; three digits add 1900.
        if yearWord.count <= 2 { year += year < 50 ? 2000 : 1900 } else if yearWord.count == 3 { year += 1900 }
        guard (1...9999).contains(year), day <= daysIn(month: month, year: year) else { return nil }
        // time = hour ":" minute [ ":" second ]: two or three fields, empty ones invalid.
        guard let colon1 = timeWord.firstIndex(of: UInt8(ascii: ":")) else { return nil }
        let rest = timeWord[(colon1 + 1)...]
        let colon2 = rest.firstIndex(of: UInt8(ascii: ":"))
        if let c2 = colon2, rest[(c2 + 1)...].contains(UInt8(ascii: ":")) { return nil }
        guard let hour = number(timeWord[..<colon1]), let minute = number(rest[..<(colon2 ?? rest.endIndex)]),
            (0...23).contains(hour), (0...59).contains(minute)
        else { return nil }
        let second = colon2.map { number(rest[($0 + 1)...]) } ?? 0
        guard let second, (0...60).contains(second) else { return nil }
        let zone = zoneWord.map(zone) ?? 0
        guard let zone else { return nil }
        let days = daysFromCivil(year: year, month: month, day: day)
        let local = Int64(days) * 86_400 + Int64(hour * 3600 + minute * 60 + second)
        return MessageDate(secondsSince1970: local - Int64(zone * 60), zoneOffsetMinutes: zone)
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
    private static func month(_ w: Slice<UnsafeBufferPointer<UInt8>>) -> Int? {
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
    private static func zone(_ w: Slice<UnsafeBufferPointer<UInt8>>) -> Int? {
        if let sign = w.first, sign == UInt8(ascii: "+") || sign == UInt8(ascii: "-") {
            guard w.count == 5, let v = number(w.dropFirst()), v % 100 < 60 else { return nil }
            let minutes = (v / 100) * 60 + v % 100
            return sign == UInt8(ascii: "-") ? -minutes : minutes
        }
        // UT, UTC, GMT and Z are -0000 as below; only the North American names have an offset.
        guard w.count == 3 else { return 0 }
        let i = w.startIndex
        let name = (Bytes.lower(w[i]), Bytes.lower(w[i + 1]), Bytes.lower(w[i + 2]))
        switch name {
        case (UInt8(ascii: "e"), UInt8(ascii: "d"), UInt8(ascii: "t")): return -4 * 60
        case (UInt8(ascii: "e"), UInt8(ascii: "s"), UInt8(ascii: "t")), (UInt8(ascii: "c"), UInt8(ascii: "d"), UInt8(ascii: "t")):
            return -5 * 60
        case (UInt8(ascii: "c"), UInt8(ascii: "s"), UInt8(ascii: "t")), (UInt8(ascii: "m"), UInt8(ascii: "d"), UInt8(ascii: "t")):
            return -6 * 60
        case (UInt8(ascii: "m"), UInt8(ascii: "s"), UInt8(ascii: "t")), (UInt8(ascii: "p"), UInt8(ascii: "d"), UInt8(ascii: "t")):
            return -7 * 60
        case (UInt8(ascii: "p"), UInt8(ascii: "s"), UInt8(ascii: "t")): return -8 * 60
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
