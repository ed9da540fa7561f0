#if canImport(Glibc)
import Glibc
#elseif canImport(Darwin)
import Darwin
#endif

/// A search for a short byte string whose first byte is rare in the text (`=?` in a header,
/// `>From ` in a message): memchr to each first byte, then a compare. On short texts it costs
/// far less than memmem's setup; on text full of that first byte, memmem is the better tool.
public enum RareBytes {
    /// Whether `needle` (not empty) occurs in `buf`.
    public static func contains(_ needle: [UInt8], in buf: UnsafeBufferPointer<UInt8>) -> Bool {
        guard let first = needle.first, var at = buf.baseAddress else { return false }
        let end = at + buf.count
        while end - at >= needle.count, let hit = memchr(at, Int32(first), end - at - needle.count + 1) {
            let start = UnsafePointer(hit.assumingMemoryBound(to: UInt8.self))
            if memcmp(start, needle, needle.count) == 0 { return true }
            at = start + 1
        }
        return false
    }
}

/// Byte constants and small scanning helpers shared by the parsers (and `find`, by the store's
/// index builder).
public enum Bytes {
    static let cr: UInt8 = 13
    static let lf: UInt8 = 10
    static let space: UInt8 = 32
    static let tab: UInt8 = 9
    static let colon: UInt8 = 58
    static let dash: UInt8 = 45

    /// Whether `b` is SP or HTAB (RFC 5234 WSP).
    @inline(__always)
    static func isWSP(_ b: UInt8) -> Bool { b == space || b == tab }

    /// Whether `b` is WSP, CR or LF.
    @inline(__always)
    static func isSpace(_ b: UInt8) -> Bool { b == space || b == tab || b == cr || b == lf }

    /// ASCII lowercase of one byte.
    @inline(__always)
    static func lower(_ b: UInt8) -> UInt8 { (b >= 65 && b <= 90) ? b | 0x20 : b }

    /// Index of the first `byte` in `buf[from..<to]`, or nil.
    @inline(__always)
    public static func find(_ byte: UInt8, in buf: UnsafeBufferPointer<UInt8>, from: Int, to: Int) -> Int? {
        guard from < to, let base = buf.baseAddress else { return nil }
        guard let p = memchr(base + from, Int32(byte), to - from) else { return nil }
        return base.distance(to: p.assumingMemoryBound(to: UInt8.self))
    }

    /// Whether `buf[range]` equals the lowercase ASCII `name`, ignoring case.
    static func equalsLowercased(_ buf: UnsafeBufferPointer<UInt8>, _ range: Range<Int>, _ name: [UInt8]) -> Bool {
        guard range.count == name.count else { return false }
        var i = range.lowerBound
        for c in name {
            if lower(buf[i]) != c { return false }
            i += 1
        }
        return true
    }

    /// `range` without leading and trailing whitespace (WSP, CR, LF).
    static func trimmed(_ buf: UnsafeBufferPointer<UInt8>, _ range: Range<Int>) -> Range<Int> {
        var lo = range.lowerBound, hi = range.upperBound
        while lo < hi, isSpace(buf[lo]) { lo += 1 }
        while hi > lo, isSpace(buf[hi - 1]) { hi -= 1 }
        return lo..<hi
    }

    /// Number of lines in `buf[range]`: line feeds, plus one for an unterminated last line.
    static func lineCount(_ buf: UnsafeBufferPointer<UInt8>, _ range: Range<Int>) -> Int {
        guard !range.isEmpty, let p = buf.baseAddress else { return 0 }
        precondition(range.lowerBound >= 0 && range.upperBound <= buf.count)
        let lines = countLineFeeds(p + range.lowerBound, range.count, bareOnly: false)
        return p[range.upperBound - 1] == lf ? lines : lines + 1
    }

    /// The number of LFs in `buf` not preceded by CR.
    static func bareLineFeedCount(_ buf: UnsafeBufferPointer<UInt8>) -> Int {
        guard let p = buf.baseAddress, buf.count > 0 else { return 0 }
        return (p[0] == lf ? 1 : 0) + countLineFeeds(p + 1, buf.count - 1, bareOnly: true)
    }

    /// The LFs in the `n` bytes at `p`, or with `bareOnly` those not preceded by CR (`p[-1]` must be readable).
    ///
    /// Sixteen bytes a step: mail lines are short, so a memchr call per line costs more than the scan.
    @inline(__always)
    private static func countLineFeeds(_ p: UnsafePointer<UInt8>, _ n: Int, bareOnly: Bool) -> Int {
        let raw = UnsafeRawPointer(p)
        let lfs = SIMD16<UInt8>(repeating: lf), crs = SIMD16<UInt8>(repeating: cr)
        let ones = SIMD16<UInt8>(repeating: 1)
        var count = 0
        var i = 0
        while i + 16 <= n {
            // Byte lanes count at most 255 steps before they are summed.
            var lanes = SIMD16<UInt8>()
            var steps = 0
            while steps < 255, i + 16 <= n {
                var hit = raw.loadUnaligned(fromByteOffset: i, as: SIMD16<UInt8>.self) .== lfs
                if bareOnly { hit = hit .& (raw.loadUnaligned(fromByteOffset: i - 1, as: SIMD16<UInt8>.self) .!= crs) }
                lanes &+= SIMD16<UInt8>().replacing(with: ones, where: hit)
                i += 16
                steps += 1
            }
            count += Int(SIMD16<UInt16>(truncatingIfNeeded: lanes).wrappedSum())
        }
        while i < n {
            if p[i] == lf, !bareOnly || p[i - 1] != cr { count += 1 }
            i += 1
        }
        return count
    }

    /// `bytes` with ASCII letters lowercased.
    static func lowercased(_ bytes: some Sequence<UInt8>) -> [UInt8] { bytes.map(lower) }

    /// Whether every byte of `buf` is ASCII.
    static func isASCII(_ buf: UnsafeBufferPointer<UInt8>) -> Bool {
        guard let p = buf.baseAddress else { return true }
        let raw = UnsafeRawPointer(p)
        var any = SIMD16<UInt8>()
        var i = 0
        while i + 16 <= buf.count {
            any |= raw.loadUnaligned(fromByteOffset: i, as: SIMD16<UInt8>.self)
            i += 16
        }
        var tail: UInt8 = 0
        while i < buf.count {
            tail |= p[i]
            i += 1
        }
        return (any.max() | tail) < 0x80
    }

    /// Whether `buf` is valid UTF-8; ASCII, the common case, is checked without the generic validator.
    static func isValidUTF8(_ buf: UnsafeBufferPointer<UInt8>) -> Bool {
        isASCII(buf) || isWellFormedUTF8(buf)
    }

    // Unicode 15 §3.9, Table 3-7: the well-formed UTF-8 byte sequences, which are what
    // `String(validating:as:)` accepts; that generic call looks up type metadata on every use.
    /// Whether `buf` is well-formed UTF-8.
    static func isWellFormedUTF8(_ buf: UnsafeBufferPointer<UInt8>) -> Bool {
        let n = buf.count
        var i = 0
        @inline(__always) func continuation(_ k: Int, _ lo: UInt8 = 0x80, _ hi: UInt8 = 0xBF) -> Bool {
            k < n && buf[k] >= lo && buf[k] <= hi
        }
        while i < n {
            let b = buf[i]
            switch b {
            case 0x00...0x7F:
                i += 1
            case 0xC2...0xDF:
                guard continuation(i + 1) else { return false }
                i += 2
            case 0xE0...0xEF:
                let (lo, hi): (UInt8, UInt8) = b == 0xE0 ? (0xA0, 0xBF) : b == 0xED ? (0x80, 0x9F) : (0x80, 0xBF)
                guard continuation(i + 1, lo, hi), continuation(i + 2) else { return false }
                i += 3
            case 0xF0...0xF4:
                let (lo, hi): (UInt8, UInt8) = b == 0xF0 ? (0x90, 0xBF) : b == 0xF4 ? (0x80, 0x8F) : (0x80, 0xBF)
                guard continuation(i + 1, lo, hi), continuation(i + 2), continuation(i + 3) else { return false }
                i += 4
            default:
                return false
            }
        }
        return true
    }

    /// A string from bytes: UTF-8 when valid (RFC 6532), otherwise ISO-8859-1.
    static func string(_ bytes: some Collection<UInt8>) -> String {
        if let s = bytes.withContiguousStorageIfAvailable(string) { return s }
        return Array(bytes).withUnsafeBufferPointer(string)
    }

    /// A string from a buffer, as `string(_:)` does, without the generic validator for ASCII.
    static func string(_ buf: UnsafeBufferPointer<UInt8>) -> String {
        if isValidUTF8(buf) { return String(decoding: buf, as: UTF8.self) }
        return latin1String(buf)
    }

    /// A string from ISO-8859-1 bytes, each byte one scalar, transcoded straight to UTF-8.
    static func latin1String(_ buf: UnsafeBufferPointer<UInt8>) -> String {
        String(unsafeUninitializedCapacity: 2 * buf.count) { latin1ToUTF8(buf, into: $0) }
    }

    /// ISO-8859-1 bytes as UTF-8 bytes.
    static func latin1UTF8(_ buf: UnsafeBufferPointer<UInt8>) -> [UInt8] {
        [UInt8](unsafeUninitializedCapacity: 2 * buf.count) { out, count in count = latin1ToUTF8(buf, into: out) }
    }

    /// Writes the UTF-8 form of ISO-8859-1 `buf` into `out`, which holds `2 * buf.count` bytes; returns the count.
    @inline(__always)
    private static func latin1ToUTF8(_ buf: UnsafeBufferPointer<UInt8>, into out: UnsafeMutableBufferPointer<UInt8>) -> Int {
        guard let src = buf.baseAddress, let dst = out.baseAddress else { return 0 }
        var n = 0
        for i in 0..<buf.count {
            let b = src[i]
            if b < 0x80 {
                dst[n] = b
                n += 1
            } else {
                dst[n] = 0xC0 | (b >> 6)
                dst[n + 1] = 0x80 | (b & 0x3F)
                n += 2
            }
        }
        return n
    }

    /// A string from `buf[range]`, as `string(_:)` does.
    static func string(_ buf: UnsafeBufferPointer<UInt8>, _ range: Range<Int>) -> String {
        string(UnsafeBufferPointer(rebasing: buf[range]))
    }
}
