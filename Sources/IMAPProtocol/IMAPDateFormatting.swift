import NIOCore

/// Calendar arithmetic for IMAP dates, without Foundation: INTERNALDATE is written for every
/// message of a big FETCH, so it must cost a few integer operations and no allocation.
public enum IMAPDateFormatting {
    /// A proleptic Gregorian calendar date.
    public struct CivilDate: Sendable, Hashable {
        public var year: Int
        /// 1 to 12.
        public var month: Int
        /// 1 to 31.
        public var day: Int

        public init(year: Int, month: Int, day: Int) {
            self.year = year
            self.month = month
            self.day = day
        }
    }

    /// The date `days` days after 1970-01-01 (negative for earlier dates).
    ///
    /// Counts in 400-year eras of 146097 days whose years start on 1 March, so the leap day is
    /// the last day of its year and needs no special case.
    public static func civilDate(fromDays days: Int64) -> CivilDate {
        let z = days + 719_468  // days since 0000-03-01
        let era = (z >= 0 ? z : z - 146_096) / 146_097
        let dayOfEra = z - era * 146_097  // 0...146096
        let yearOfEra = (dayOfEra - dayOfEra / 1460 + dayOfEra / 36524 - dayOfEra / 146_096) / 365  // 0...399
        let dayOfYear = dayOfEra - (365 * yearOfEra + yearOfEra / 4 - yearOfEra / 100)  // 0...365, from 1 March
        let shiftedMonth = (5 * dayOfYear + 2) / 153  // 0 = March … 11 = February
        let day = dayOfYear - (153 * shiftedMonth + 2) / 5 + 1
        let month = shiftedMonth < 10 ? shiftedMonth + 3 : shiftedMonth - 9
        let year = yearOfEra + era * 400 + (month <= 2 ? 1 : 0)
        return CivilDate(year: Int(year), month: Int(month), day: Int(day))
    }

    /// The number of days from 1970-01-01 to `date`; the inverse of `civilDate(fromDays:)`.
    public static func days(from date: CivilDate) -> Int64 {
        let y = Int64(date.month <= 2 ? date.year - 1 : date.year)
        let era = (y >= 0 ? y : y - 399) / 400
        let yearOfEra = y - era * 400
        let m = Int64(date.month)
        let dayOfYear = (153 * (m > 2 ? m - 3 : m + 9) + 2) / 5 + Int64(date.day) - 1
        let dayOfEra = yearOfEra * 365 + yearOfEra / 4 - yearOfEra / 100 + dayOfYear
        return era * 146_097 + dayOfEra - 719_468
    }

    /// The three-letter month names of RFC 9051 §9 `date-month`, January first.
    public static let monthNames: [StaticString] = [
        "Jan", "Feb", "Mar", "Apr", "May", "Jun", "Jul", "Aug", "Sep", "Oct", "Nov", "Dec",
    ]

    /// The earliest and latest instants a 4-digit `date-year` can show, as local seconds.
    static let localSecondsRange: ClosedRange<Int64> = {
        let first = days(from: CivilDate(year: 0, month: 1, day: 1)) * 86400
        let last = days(from: CivilDate(year: 9999, month: 12, day: 31)) * 86400 + 86399
        return first...last
    }()

    /// The largest zone offset `zone = ("+" / "-") 4DIGIT` can show: 99 hours 59 minutes.
    static let maxZoneMinutes = 99 * 60 + 59
}

extension ByteBuffer {
    // RFC 9051 §9: date-time      = DQUOTE date-day-fixed "-" date-month "-" date-year SP time SP zone DQUOTE
    //              date-day-fixed = (SP DIGIT) / 2DIGIT
    //              time           = 2DIGIT ":" 2DIGIT ":" 2DIGIT
    //              zone           = ("+" / "-") 4DIGIT
    /// Writes a quoted IMAP date-time, as INTERNALDATE uses it, in the zone it was received in.
    ///
    ///     S: * 1 FETCH (INTERNALDATE "17-Jul-1996 02:44:25 -0700")
    ///
    /// `seconds` counts from 1970-01-01T00:00:00Z; `zoneMinutes` is the offset east of UTC.
    /// Instants outside years 0000–9999 are clamped to them, since `date-year` has four digits.
    @discardableResult
    public mutating func writeIMAPDateTime(seconds: Int64, zoneMinutes: Int) -> Int {
        let zone = Swift.min(Swift.max(zoneMinutes, -IMAPDateFormatting.maxZoneMinutes), IMAPDateFormatting.maxZoneMinutes)
        let range = IMAPDateFormatting.localSecondsRange
        let (shifted, overflow) = seconds.addingReportingOverflow(Int64(zone) * 60)
        let local = overflow ? (seconds > 0 ? range.upperBound : range.lowerBound) : Swift.min(Swift.max(shifted, range.lowerBound), range.upperBound)
        // Floor division, so instants before 1970 fall on the right day.
        var days = local / 86400
        var secondOfDay = local % 86400
        if secondOfDay < 0 {
            secondOfDay += 86400
            days -= 1
        }
        let date = IMAPDateFormatting.civilDate(fromDays: days)
        let hour = Int(secondOfDay / 3600), minute = Int(secondOfDay / 60 % 60), second = Int(secondOfDay % 60)
        let month = IMAPDateFormatting.monthNames[date.month - 1]
        let absZone = zone < 0 ? -zone : zone

        return writeWithUnsafeMutableBytes(minimumWritableBytes: 28) { raw in
            // "dd-Mon-yyyy hh:mm:ss +zzzz" in quotes: 28 bytes.
            let p = raw.baseAddress!.assumingMemoryBound(to: UInt8.self)
            @inline(__always) func two(_ at: Int, _ v: Int) {
                p[at] = UInt8(truncatingIfNeeded: 48 + v / 10)
                p[at + 1] = UInt8(truncatingIfNeeded: 48 + v % 10)
            }
            p[0] = UInt8(ascii: "\"")
            two(1, date.day)
            if date.day < 10 { p[1] = UInt8(ascii: " ") }
            p[3] = UInt8(ascii: "-")
            month.withUTF8Buffer { m in
                p[4] = m[0]
                p[5] = m[1]
                p[6] = m[2]
            }
            p[7] = UInt8(ascii: "-")
            two(8, date.year / 100)
            two(10, date.year % 100)
            p[12] = UInt8(ascii: " ")
            two(13, hour)
            p[15] = UInt8(ascii: ":")
            two(16, minute)
            p[18] = UInt8(ascii: ":")
            two(19, second)
            p[21] = UInt8(ascii: " ")
            p[22] = zone < 0 ? UInt8(ascii: "-") : UInt8(ascii: "+")
            two(23, absZone / 60)
            two(25, absZone % 60)
            p[27] = UInt8(ascii: "\"")
            return 28
        }
    }
}

extension IMAPDate {
    /// Days from 1970-01-01, for comparing with a stored date's day.
    public var daysSince1970: Int {
        Int(IMAPDateFormatting.days(from: .init(year: year, month: month, day: day)))
    }
}

extension IMAPDateTime {
    /// The instant, in seconds since 1970-01-01T00:00:00Z.
    public var secondsSince1970: Int64 {
        let local = IMAPDateFormatting.days(from: .init(year: year, month: month, day: day)) * 86_400
            + Int64(hour * 3600 + minute * 60 + second)
        return local - Int64(zoneMinutes * 60)
    }
}
