import Testing
@testable import MailMessage

@Suite struct CharsetTests {
    static let fixtures: [(String, [UInt8], String)] = [
        ("us-ascii", [104, 105], "hi"),
        ("utf-8", [0xC3, 0xA9], "é"),
        ("UTF8", [0xC3, 0xA9], "é"),
        ("iso-8859-1", [0xE9], "é"),
        ("latin1", [0xE9], "é"),
        ("iso-8859-2", [177], "ą"),
        ("iso-8859-5", [182], "Ж"),
        ("iso-8859-7", [217], "Ω"),
        ("iso-8859-15", [164], "€"),
        ("windows-1250", [0x80], "€"),
        ("windows-1251", [198], "Ж"),
        ("windows-1252", [0x80], "€"),
        ("cp1252", [0x80], "€"),
        ("windows-1253", [0x80], "€"),
        ("windows-1254", [0x80], "€"),
        ("windows-1255", [224], "א"),
        ("windows-1256", [218], "ع"),
        ("windows-1257", [0x80], "€"),
        ("windows-1258", [0x80], "€"),
        ("koi8-r", [208, 210, 201, 215, 197, 212], "привет"),
        ("koi8-u", [167], "ї"),
        ("iso-2022-jp", [27, 36, 66, 70, 124, 75, 92, 27, 40, 66], "日本"),
        ("shift_jis", [147, 250, 150, 123], "日本"),
        ("euc-jp", [198, 252, 203, 220], "日本"),
        ("euc-kr", [199, 209, 177, 185], "한국"),
        ("ks_c_5601-1987", [199, 209, 177, 185], "한국"),
        ("gb2312", [214, 208, 206, 196], "中文"),
        ("gbk", [214, 208, 206, 196], "中文"),
        ("gb18030", [214, 208, 206, 196], "中文"),
        ("big5", [164, 164, 164, 229], "中文"),
        ("\"UTF-8\"", [0x61], "a"),
    ]

    @Test(arguments: fixtures) func decodes(_ charset: String, _ bytes: [UInt8], _ expected: String) {
        #expect(Charset.decode(bytes, charset: charset) == expected)
    }

    @Test func unknownAndInvalid() {
        #expect(Charset.decode([0x61], charset: "x-no-such-charset") == nil)
        #expect(Charset.decode([0x61], charset: "bad/name") == nil)
        #expect(Charset.decode([0xC3], charset: "utf-8") == "Ã")
        #expect(Charset.decode([0x61, 0xFF, 0x62], charset: "shift_jis")?.hasPrefix("a") == true)
        #expect(Charset.decode([27, 36, 66, 70], charset: "iso-2022-jp") != nil)
    }

    @Test func concurrentUseIsSafe() async {
        await withTaskGroup(of: Bool.self) { group in
            for i in 0..<8 {
                group.addTask {
                    (0..<200).allSatisfy { _ in
                        i % 2 == 0
                            ? Charset.decode([208, 210, 201, 215, 197, 212], charset: "koi8-r") == "привет"
                            : Charset.decode([27, 36, 66, 70, 124, 75, 92, 27, 40, 66], charset: "iso-2022-jp") == "日本"
                    }
                }
            }
            for await ok in group { #expect(ok) }
        }
    }
}
