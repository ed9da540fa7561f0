import Testing
@testable import MailMessage

/// The wide byte scans (sixteen bytes a step) against plain byte-by-byte answers, at every length and
/// position around the step boundaries.
@Suite struct ByteScanTests {
    /// Buffers of every length up to 70 with `byte` at one position, and with it at two neighbouring ones.
    private func samples(_ byte: UInt8, filler: UInt8 = UInt8(ascii: "a")) -> [[UInt8]] {
        var out = [[UInt8]]()
        for n in 0...70 {
            out.append([UInt8](repeating: filler, count: n))
            for i in 0..<n {
                var b = [UInt8](repeating: filler, count: n)
                b[i] = byte
                out.append(b)
                if i + 1 < n {
                    b[i + 1] = byte
                    out.append(b)
                }
            }
        }
        return out
    }

    @Test func lineCountMatchesByteCount() {
        for b in samples(Bytes.lf) + samples(Bytes.cr, filler: Bytes.lf) {
            b.withUnsafeBufferPointer { buf in
                for lo in [0, min(1, b.count), min(17, b.count)] {
                    let range = lo..<b.count
                    var expected = b[range].filter { $0 == Bytes.lf }.count
                    if !range.isEmpty, b[range.upperBound - 1] != Bytes.lf { expected += 1 }
                    #expect(Bytes.lineCount(buf, range) == expected, "\(b) \(range)")
                }
            }
        }
    }

    @Test func bareLineFeedsMatchByteCount() {
        // CRLF pairs, lone CRs and lone LFs straddling every step boundary.
        var inputs = samples(Bytes.lf) + samples(Bytes.cr, filler: Bytes.lf)
        for n in 0...40 {
            inputs.append(Array([UInt8](repeating: Bytes.cr, count: n) + [Bytes.lf] + [UInt8](repeating: Bytes.lf, count: n)))
            inputs.append(Array(repeating: [Bytes.cr, Bytes.lf, UInt8(ascii: "x")], count: n).flatMap { $0 })
        }
        for b in inputs {
            var expected = 0
            for i in b.indices where b[i] == Bytes.lf && (i == 0 || b[i - 1] != Bytes.cr) { expected += 1 }
            #expect(b.withUnsafeBufferPointer(Bytes.bareLineFeedCount) == expected, "\(b)")
            #expect(ParsedMessage.parse(b).size == b.count + expected)
        }
    }

    @Test func isASCIIFindsAnyHighByte() {
        for b in samples(0x80) + samples(0xFF) {
            #expect(b.withUnsafeBufferPointer(Bytes.isASCII) == b.allSatisfy { $0 < 0x80 }, "\(b)")
        }
    }

    @Test func utf8ValidatorAgreesWithTheStandardLibrary() {
        // Every one- and two-byte sequence, and three- and four-byte ones around each lead byte's bounds.
        var inputs = [[UInt8]]()
        for x in 0...255 {
            inputs.append([UInt8(x)])
            for y in 0...255 { inputs.append([UInt8(x), UInt8(y)]) }
            for y: UInt8 in [0x7F, 0x80, 0x8F, 0x90, 0x9F, 0xA0, 0xBF, 0xC0] {
                for z: UInt8 in [0x41, 0x80, 0xBF, 0xC0] {
                    inputs.append([UInt8(x), y, z])
                    inputs.append([UInt8(x), y, 0x80, z])
                    inputs.append([0x41, UInt8(x), y, z, 0x41])
                }
            }
        }
        for b in inputs {
            #expect(b.withUnsafeBufferPointer(Bytes.isWellFormedUTF8) == (String(validating: b, as: UTF8.self) != nil), "\(b)")
        }
    }
}
