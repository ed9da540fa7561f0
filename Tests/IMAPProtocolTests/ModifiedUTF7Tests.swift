import IMAPProtocol
import Testing

@Suite struct ModifiedUTF7Tests {
    /// Pairs of mailbox names and their modified UTF-7 forms.
    static let pairs: [(String, String)] = [
        // RFC 3501 §5.1.3's example.
        ("~peter/mail/台北/日本語", "~peter/mail/&U,BTFw-/&ZeVnLIqe-"),
        ("INBOX", "INBOX"),
        ("", ""),
        ("&", "&-"),
        ("Tom & Jerry", "Tom &- Jerry"),
        ("&&", "&-&-"),
        ("Entwürfe", "Entw&APw-rfe"),
        ("é-", "&AOk--"),
        ("é&é", "&AOk-&-&AOk-"),
        // U+1F600 is the surrogate pair D83D DE00.
        ("😀", "&2D3eAA-"),
        ("Ünïcödé", "&ANw-n&AO8-c&APY-d&AOk-"),
        ("tab\there", "tab&AAk-here"),
        ("Отправленные", "&BB4EQgQ,BEAEMAQyBDsENQQ9BD0ESwQ1-"),
    ]

    @Test(arguments: pairs) func encodes(name: String, wire: String) {
        #expect(ModifiedUTF7.encode(name) == wire)
    }

    @Test(arguments: pairs) func decodes(name: String, wire: String) throws {
        #expect(try ModifiedUTF7.decode(wire) == name)
    }

    @Test(arguments: [
        ("&", ModifiedUTF7.DecodingError.unterminatedShift),
        ("a&AGE", .unterminatedShift),
        ("&AGE-", .encodedPrintableASCII),  // "a", which must stand for itself
        ("&ACY-", .encodedPrintableASCII),  // "&", which must be "&-"
        ("&AOl-", .invalidPadding),  // é with a stray 1 in the fill bits
        ("&AOkA-", .invalidPadding),  // one character too many
        ("&A-", .invalidPadding),  // six bits, no UTF-16 unit
        ("&AOk=-", .invalidBase64),
        ("&U/BTFw-", .invalidBase64),  // "/" is standard base64, "," is modified
        ("&2D0-", .invalidUTF16),  // a lone high surrogate
        ("&3gA-", .invalidUTF16),  // a lone low surrogate
        ("&AOk-&AOk-", .adjacentShifts),  // should be &AOkA6Q-
        ("café", .unencodedCharacter),
        ("a\tb", .unencodedCharacter),
        ("a\u{7F}", .unencodedCharacter),
    ])
    func rejectsMalformed(wire: String, error: ModifiedUTF7.DecodingError) {
        #expect(throws: error) { try ModifiedUTF7.decode(wire) }
    }

    @Test func roundTripsEveryPlaneAndBoundary() throws {
        var scalars: [Unicode.Scalar] = []
        for v: UInt32 in [0x01, 0x1F, 0x20, 0x26, 0x7E, 0x7F, 0x80, 0xFF, 0x100, 0x7FF, 0x800, 0xD7FF, 0xE000, 0xFFFD, 0xFFFF, 0x10000, 0x10FFFF] {
            scalars.append(Unicode.Scalar(v)!)
        }
        // Every run length from 1 to 7 lands on each of the three fill widths (0, 2, 4 bits).
        for length in 1...7 {
            for s in scalars {
                for context in ["", "a", "&"] {
                    let name = context + String(repeating: String(s), count: length) + context
                    let wire = ModifiedUTF7.encode(name)
                    #expect(wire.utf8.allSatisfy { $0 >= 0x20 && $0 <= 0x7E }, "\(wire)")
                    #expect(try ModifiedUTF7.decode(wire) == name)
                }
            }
        }
    }

    @Test func isCanonical() throws {
        // decode accepts only what encode produces: decoding then encoding gives the input back.
        for (_, wire) in Self.pairs {
            #expect(ModifiedUTF7.encode(try ModifiedUTF7.decode(wire)) == wire)
        }
    }
}
