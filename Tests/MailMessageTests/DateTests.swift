import Testing
@testable import MailMessage

@Suite struct DateTests {
    static let fixtures: [(String, Int64?, Int)] = [
        ("Tue, 1 Jul 2003 10:52:37 +0200", 1_057_049_557, 120),
        ("1 Jul 2003 10:52:37 +0200", 1_057_049_557, 120),
        ("Thu, 01 Jan 1970 00:00:00 +0000", 0, 0),
        ("Thu, 1 Jan 1970 00:00 GMT", 0, 0),
        ("Wed, 31 Dec 1969 19:00:00 EST", 0, -300),
        ("Wed, 31 Dec 1969 20:00:00 EDT", 0, -240),
        ("Wed, 31 Dec 1969 16:00:00 PST (Pacific)", 0, -480),
        ("1 Jan 70 00:00:00 UT", 0, 0),
        ("1 Jan 00 00:00:00 +0000", 946_684_800, 0),
        ("Thu, 1 Jan 1970 00:00:00 Z", 0, 0),
        ("Thu, 1 Jan 1970 00:00:00 A", 0, 0),
        ("Thu, 1 Jan 1970 00:00:00", 0, 0),
        ("29 Feb 2024 12:00:00 -0130", 1_709_213_400, -90),
        ("29 Feb 2023 12:00:00 +0000", nil, 0),
        ("32 Jan 2003 10:00:00 +0000", nil, 0),
        ("1 Foo 2003 10:00:00 +0000", nil, 0),
        ("1 Jan 2003 25:00:00 +0000", nil, 0),
        ("1 Jan 2003 10:00:00 +99999", nil, 0),
        ("yesterday", nil, 0),
        ("", nil, 0),
    ]

    @Test(arguments: fixtures) func parses(_ input: String, _ seconds: Int64?, _ zone: Int) {
        let d = MessageDate(parsing: input)
        #expect(d?.secondsSince1970 == seconds)
        if seconds != nil { #expect(d?.zoneOffsetMinutes == zone) }
    }

    @Test func invalidDateIsAbsent() {
        let m = ParsedMessage.parse(Gen.message(["Date: not a date"], body: ""))
        #expect(m.envelope.date == "not a date")
        #expect(m.sentDate == nil)
    }
}
