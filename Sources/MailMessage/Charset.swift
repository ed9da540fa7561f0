#if canImport(Glibc)
import Glibc
#elseif canImport(Darwin)
import Darwin
#endif

/// Conversion of text in a MIME charset to Swift strings, through the C library's iconv.
public enum Charset {
    /// Decodes `bytes` written in `charset`, or returns nil when the charset is unknown.
    ///
    /// Bytes that are invalid in the charset become U+FFFD. us-ascii and utf-8 text that is not
    /// valid UTF-8 is read as ISO-8859-1, which is what such mail almost always is.
    public static func decode(_ bytes: some Collection<UInt8>, charset: String) -> String? {
        guard let name = canonicalName(charset) else { return nil }
        switch name {
        case "UTF-8", "US-ASCII":
            return Bytes.string(bytes)
        case "ISO-8859-1":
            if let s = bytes.withContiguousStorageIfAvailable(Bytes.latin1String) { return s }
            return Array(bytes).withUnsafeBufferPointer(Bytes.latin1String)
        default:
            let input = Array(bytes)
            guard let utf8 = IconvPool.shared.convert(input, from: name) else { return nil }
            return String(decoding: utf8, as: UTF8.self)
        }
    }

    /// Whether `charset` can be decoded.
    public static func isSupported(_ charset: String) -> Bool {
        decode([], charset: charset) != nil
    }

    /// The iconv name for a MIME charset label, or nil when the label is not a plausible name.
    static func canonicalName(_ label: String) -> String? {
        // The labels nearly all text parts carry, as the general path below names them.
        if Self.equalsIgnoringCase(label, "utf-8") { return "UTF-8" }
        if Self.equalsIgnoringCase(label, "us-ascii") { return "US-ASCII" }
        if Self.equalsIgnoringCase(label, "iso-8859-1") { return "ISO-8859-1" }
        var name = ""
        for c in label.utf8 {
            switch c {
            case UInt8(ascii: "a")...UInt8(ascii: "z"): name.unicodeScalars.append(Unicode.Scalar(c - 32))
            case UInt8(ascii: "A")...UInt8(ascii: "Z"), UInt8(ascii: "0")...UInt8(ascii: "9"),
                UInt8(ascii: "-"), UInt8(ascii: "_"), UInt8(ascii: "."), UInt8(ascii: ":"):
                name.unicodeScalars.append(Unicode.Scalar(c))
            case UInt8(ascii: "\""), UInt8(ascii: " "), UInt8(ascii: "\t"), UInt8(ascii: "'"):
                continue
            default:
                return nil
            }
        }
        guard !name.isEmpty, name.utf8.count <= MessageLimits.maxCharsetNameLength else {
            return name.isEmpty ? "US-ASCII" : nil
        }
        switch name {
        case "UTF8", "UTF-8", "UNICODE-1-1-UTF-8", "X-UNICODE20UTF8": return "UTF-8"
        case "US-ASCII", "ASCII", "ANSI_X3.4-1968", "US", "DEFAULT", "X-UNKNOWN", "UNKNOWN-8BIT": return "US-ASCII"
        case "ISO-8859-1", "ISO8859-1", "ISO_8859-1", "LATIN1", "L1": return "ISO-8859-1"
        // Mail labelled gb2312 is usually GBK; GB18030 is a superset of both.
        case "GB2312", "GBK", "CP936", "X-GBK", "EUC-CN": return "GB18030"
        case "KS_C_5601-1987", "KS_C_5601", "EUC-KR", "CP949": return "CP949"
        case "SHIFT_JIS", "SHIFT-JIS", "SJIS", "X-SJIS", "MS_KANJI", "WINDOWS-31J": return "CP932"
        case "BIG5", "BIG-5", "X-BIG5", "CN-BIG5": return "BIG5-HKSCS"
        case "ISO-2022-JP": return "ISO-2022-JP-2"
        default:
            if name.hasPrefix("CP125") { return "WINDOWS-125" + name.dropFirst(5) }
            if name.hasPrefix("ISO8859-") { return "ISO-8859-" + name.dropFirst(8) }
            if name.hasPrefix("ISO_8859-") { return "ISO-8859-" + name.dropFirst(9) }
            return name
        }
    }
}

extension Charset {
    /// Whether `label` is the lowercase ASCII `name`, ignoring ASCII case.
    private static func equalsIgnoringCase(_ label: String, _ name: StaticString) -> Bool {
        guard label.utf8.count == name.utf8CodeUnitCount else { return false }
        var i = 0
        for b in label.utf8 {
            guard Bytes.lower(b) == name.utf8Start[i] else { return false }
            i += 1
        }
        return true
    }
}

/// Open iconv descriptors, one per charset, shared by all threads.
///
/// `@unchecked Sendable`: an iconv descriptor keeps conversion state and is not thread-safe, so
/// every use of `descriptors` and of the descriptors themselves happens with `lock` held.
final class IconvPool: @unchecked Sendable {
    static let shared = IconvPool()

    private var lock = pthread_mutex_t()
    /// nil marks a charset that iconv does not know.
    private var descriptors: [String: iconv_t?] = [:]

    private init() { pthread_mutex_init(&lock, nil) }

    /// `input` converted from `charset` to UTF-8, or nil when iconv does not know the charset.
    func convert(_ input: [UInt8], from charset: String) -> [UInt8]? {
        pthread_mutex_lock(&lock)
        defer { pthread_mutex_unlock(&lock) }
        let cd: iconv_t
        if let cached = descriptors[charset] {
            guard let c = cached else { return nil }
            cd = c
        } else {
            let opened = iconv_open("UTF-8", charset)
            guard let c = opened, Int(bitPattern: c) != -1 else {
                if descriptors.count < 256 { descriptors[charset] = .some(nil) }
                return nil
            }
            descriptors[charset] = c
            cd = c
        }
        return Self.run(cd, input)
    }

    /// Runs one conversion, replacing invalid input with U+FFFD.
    private static func run(_ cd: iconv_t, _ input: [UInt8]) -> [UInt8] {
        let replacement: [UInt8] = [0xEF, 0xBF, 0xBD]
        var out = [UInt8]()
        out.reserveCapacity(input.count * 2)
        _ = iconv(cd, nil, nil, nil, nil)  // reset shift state
        var chunk = [UInt8](repeating: 0, count: 16 * 1024)
        input.withUnsafeBufferPointer { inBuf in
            chunk.withUnsafeMutableBufferPointer { outBuf in
                guard let outBase = outBuf.baseAddress else { return }
                let outRaw = UnsafeMutableRawPointer(outBase).assumingMemoryBound(to: CChar.self)
                var inPtr: UnsafeMutablePointer<CChar>? = inBuf.baseAddress.map {
                    UnsafeMutableRawPointer(mutating: $0).assumingMemoryBound(to: CChar.self)
                }
                var inLeft = inBuf.count
                var finished = false
                while !finished {
                    var outPtr: UnsafeMutablePointer<CChar>? = outRaw
                    var outLeft = outBuf.count
                    let r: Int
                    if inLeft > 0, inPtr != nil {
                        r = iconv(cd, &inPtr, &inLeft, &outPtr, &outLeft)
                    } else {
                        r = iconv(cd, nil, nil, &outPtr, &outLeft)  // flush shift state
                        finished = true
                    }
                    let produced = outBuf.count - outLeft
                    out.append(contentsOf: UnsafeBufferPointer(start: outBase, count: produced))
                    if r == -1 {
                        let e = errno
                        if e == E2BIG { finished = false; continue }
                        if e == EILSEQ || e == EINVAL, inLeft > 0 {
                            out.append(contentsOf: replacement)
                            inPtr = inPtr.map { $0 + 1 }
                            inLeft -= 1
                            finished = false
                            continue
                        }
                        if produced == 0 { finished = true }
                    }
                }
            }
        }
        return out
    }
}
