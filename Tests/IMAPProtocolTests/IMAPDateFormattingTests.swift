import IMAPProtocol
import NIOCore
import Testing

@Suite struct IMAPDateFormattingTests {
    @Test(arguments: [
        // RFC 9051 §7.5.2's INTERNALDATE example: 1996-07-17T09:44:25Z in zone -0700.
        (Int64(837_596_665), -420, #""17-Jul-1996 02:44:25 -0700""#),
        (0, 0, #"" 1-Jan-1970 00:00:00 +0000""#),
        (-1, 0, #""31-Dec-1969 23:59:59 +0000""#),
        // A negative zone that moves the local time to the previous day and year.
        (7200, -180, #""31-Dec-1969 23:00:00 -0300""#),
        // Half-hour and quarter-hour zones.
        (0, 330, #"" 1-Jan-1970 05:30:00 +0530""#),
        (0, 345, #"" 1-Jan-1970 05:45:00 +0545""#),
        (0, -570, #""31-Dec-1969 14:30:00 -0930""#),
        // Leap days: a 400-year leap year, a leap year, and 1900 which is not one.
        (951_825_600, 0, #""29-Feb-2000 12:00:00 +0000""#),
        (1_709_249_400, 0, #""29-Feb-2024 23:30:00 +0000""#),
        (1_709_249_400, 60, #"" 1-Mar-2024 00:30:00 +0100""#),
        (-2_203_891_201, 0, #""28-Feb-1900 23:59:59 +0000""#),
        (-2_203_891_200, 0, #"" 1-Mar-1900 00:00:00 +0000""#),
        (-11_670_998_400, 0, #""29-Feb-1600 00:00:00 +0000""#),
        // Years before 1970 and the first year of the era.
        (-14_182_940, 0, #""20-Jul-1969 20:17:40 +0000""#),
        (-62_135_596_800, 0, #"" 1-Jan-0001 00:00:00 +0000""#),
        // Outside what four year digits can show: clamped.
        (Int64.max, 0, #""31-Dec-9999 23:59:59 +0000""#),
        (Int64.min, 0, #"" 1-Jan-0000 00:00:00 +0000""#),
        (Int64.max, 60, #""31-Dec-9999 23:59:59 +0100""#),
    ])
    func writesDateTime(seconds: Int64, zoneMinutes: Int, expected: String) {
        #expect(rendered { $0.writeIMAPDateTime(seconds: seconds, zoneMinutes: zoneMinutes) } == expected)
    }

    @Test func returnsItsLength() {
        var buffer = ByteBuffer()
        #expect(buffer.writeIMAPDateTime(seconds: 0, zoneMinutes: 0) == 28)
        #expect(buffer.readableBytes == 28)
    }

    @Test func civilDatesRoundTrip() {
        // Every day from 1599 to 2401 maps to a date and back, and consecutive days are consecutive dates.
        let first = IMAPDateFormatting.days(from: .init(year: 1599, month: 1, day: 1))
        let last = IMAPDateFormatting.days(from: .init(year: 2401, month: 12, day: 31))
        var previous = IMAPDateFormatting.civilDate(fromDays: first - 1)
        let monthLengths = [31, 28, 31, 30, 31, 30, 31, 31, 30, 31, 30, 31]
        for day in first...last {
            let date = IMAPDateFormatting.civilDate(fromDays: day)
            #expect(IMAPDateFormatting.days(from: date) == day)
            let leap = previous.year % 4 == 0 && (previous.year % 100 != 0 || previous.year % 400 == 0)
            let length = previous.month == 2 && leap ? 29 : monthLengths[previous.month - 1]
            if previous.day < length {
                #expect(date == .init(year: previous.year, month: previous.month, day: previous.day + 1))
            } else if previous.month < 12 {
                #expect(date == .init(year: previous.year, month: previous.month + 1, day: 1))
            } else {
                #expect(date == .init(year: previous.year + 1, month: 1, day: 1))
            }
            previous = date
        }
    }
}
