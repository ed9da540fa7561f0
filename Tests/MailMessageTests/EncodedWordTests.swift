import Testing
@testable import MailMessage

@Suite struct EncodedWordTests {
    static let fixtures: [(String, String)] = [
        ("=?utf-8?B?Y2Fmw6k=?=", "café"),
        ("=?ISO-8859-1?Q?caf=E9?=", "café"),
        ("=?iso-8859-1?q?a_b?=", "a b"),
        ("=?utf-8?q?a?= =?utf-8?q?b?=", "ab"),
        ("=?utf-8?q?a?=\r\n =?utf-8?q?b?=", "ab"),
        ("x =?utf-8?q?a?= y", "x a y"),
        ("=?utf-8?B?5pel?= =?utf-8?B?5pys?=", "日本"),
        // A multibyte character split across adjacent words is joined before decoding.
        ("=?utf-8?Q?=E6=97?= =?utf-8?Q?=A5?=", "日"),
        ("=?x-unknown-charset-zz?q?abc?=", "=?x-unknown-charset-zz?q?abc?="),
        ("=?utf-8?x?abc?=", "=?utf-8?x?abc?="),
        ("=?utf-8?q?unterminated", "=?utf-8?q?unterminated"),
        ("=?utf-8*en?q?lang?=", "lang"),
        ("=?koi8-r?B?0NLJ18XU?=", "привет"),
        ("=?iso-2022-jp?B?GyRCRnxLXBsoQg==?=", "日本"),
        ("=?utf-8?q?a?= and =?iso-8859-1?q?=E9?=", "a and é"),
        ("plain text", "plain text"),
        ("", ""),
    ]

    @Test(arguments: fixtures) func decodes(_ input: String, _ expected: String) {
        #expect(EncodedWords.decode(input) == expected)
    }
}
