import Testing
@testable import MailMessage

@Test func moduleLinks() { #expect(MailMessageVersion.string == "0") }
