/// Modified UTF-7, the mailbox name encoding of IMAP4rev1. RFC 3501 §5.1.3.
///
/// Printable US-ASCII other than "&" stands for itself, "&" is written "&-", and every other run
/// of characters is "&", the modified base64 of its UTF-16BE form ("," instead of "/", no "="
/// padding), and "-":
///
///     ~peter/mail/台北/日本語  ↔  ~peter/mail/&U,BTFw-/&ZeVnLIqe-
///
/// The encoding is canonical: `decode` accepts exactly the strings `encode` produces, so a name
/// has one wire form and two spellings can never name two different mailboxes.
public enum ModifiedUTF7 {
    /// Why a mailbox name is not valid modified UTF-7.
    public enum DecodingError: Error, Sendable, Equatable {
        /// A byte outside printable US-ASCII appears unencoded.
        case unencodedCharacter
        /// A "&" has no closing "-".
        case unterminatedShift
        /// A shifted run holds a character outside the modified base64 alphabet.
        case invalidBase64
        /// A shifted run's length or trailing bits do not end on a whole UTF-16 unit.
        case invalidPadding
        /// A shifted run encodes printable US-ASCII, which must stand for itself.
        case encodedPrintableASCII
        /// A shifted run follows another directly; the two must be one run.
        case adjacentShifts
        /// A shifted run holds an unpaired UTF-16 surrogate.
        case invalidUTF16
    }

    private static let alphabet: [UInt8] = Array("ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+,".utf8)

    /// The value of a modified base64 character, or -1.
    private static let values: [Int8] = {
        var t = [Int8](repeating: -1, count: 256)
        for (i, c) in alphabet.enumerated() { t[Int(c)] = Int8(i) }
        return t
    }()

    @inline(__always)
    private static func isDirect(_ b: UInt8) -> Bool { b >= 0x20 && b <= 0x7E }

    /// Whether `s` needs no encoding: printable US-ASCII without "&". Then `encode(s) == s`.
    public static func isPlainASCII(_ s: String) -> Bool {
        s.utf8.allSatisfy { isDirect($0) && $0 != UInt8(ascii: "&") }
    }

    /// The modified UTF-7 form of `s`.
    public static func encode(_ s: String) -> String {
        if isPlainASCII(s) { return s }
        var out = [UInt8]()
        out.reserveCapacity(s.utf8.count * 2)
        var pending = [UInt16]()
        for scalar in s.unicodeScalars {
            let v = scalar.value
            if v < 0x80, isDirect(UInt8(v)) {
                if !pending.isEmpty {
                    appendShifted(pending, to: &out)
                    pending.removeAll(keepingCapacity: true)
                }
                out.append(UInt8(v))
                if v == UInt32(UInt8(ascii: "&")) { out.append(UInt8(ascii: "-")) }
            } else {
                pending.append(contentsOf: UTF16.encode(scalar)!)
            }
        }
        if !pending.isEmpty { appendShifted(pending, to: &out) }
        return String(decoding: out, as: UTF8.self)
    }

    /// Appends "&", the modified base64 of `units` as UTF-16BE, and "-".
    private static func appendShifted(_ units: [UInt16], to out: inout [UInt8]) {
        out.append(UInt8(ascii: "&"))
        var bits: UInt32 = 0
        var count = 0
        for u in units {
            bits = (bits << 16) | UInt32(u)
            count += 16
            while count >= 6 {
                count -= 6
                out.append(alphabet[Int((bits >> UInt32(count)) & 0x3F)])
            }
            bits &= (1 << UInt32(count)) - 1
        }
        if count > 0 { out.append(alphabet[Int((bits << UInt32(6 - count)) & 0x3F)]) }
        out.append(UInt8(ascii: "-"))
    }

    /// The mailbox name that `s` encodes; throws unless `s` is canonical modified UTF-7.
    public static func decode(_ s: String) throws(DecodingError) -> String {
        if !s.utf8.contains(UInt8(ascii: "&")) {
            guard s.utf8.allSatisfy(isDirect) else { throw .unencodedCharacter }
            return s
        }
        let bytes = Array(s.utf8)
        var out = String.UnicodeScalarView()
        var i = 0
        var previousWasShift = false
        while i < bytes.count {
            let b = bytes[i]
            guard isDirect(b) else { throw .unencodedCharacter }
            if b != UInt8(ascii: "&") {
                out.append(Unicode.Scalar(b))
                previousWasShift = false
                i += 1
                continue
            }
            guard let end = bytes[(i + 1)...].firstIndex(of: UInt8(ascii: "-")) else { throw .unterminatedShift }
            if end == i + 1 {
                out.append("&")
                previousWasShift = false
            } else {
                // RFC 3501 §5.1.3: two shifted runs in a row are one run written twice, not canonical.
                if previousWasShift { throw .adjacentShifts }
                try decodeShifted(bytes[(i + 1)..<end], into: &out)
                previousWasShift = true
            }
            i = end + 1
        }
        return String(out)
    }

    /// Decodes one shifted run (without "&" and "-") and appends its characters.
    private static func decodeShifted(_ run: ArraySlice<UInt8>, into out: inout String.UnicodeScalarView) throws(DecodingError) {
        var bits: UInt32 = 0
        var count = 0
        var units = [UInt16]()
        units.reserveCapacity(run.count * 6 / 16)
        for c in run {
            let v = values[Int(c)]
            guard v >= 0 else { throw .invalidBase64 }
            bits = (bits << 6) | UInt32(v)
            count += 6
            if count >= 16 {
                count -= 16
                units.append(UInt16(truncatingIfNeeded: bits >> UInt32(count)))
                bits &= (1 << UInt32(count)) - 1
            }
        }
        // What is left must be the zero fill of the last character: under 6 bits, all zero.
        guard count < 6, bits == 0, !units.isEmpty else { throw .invalidPadding }
        var iterator = units.makeIterator()
        var decoder = UTF16()
        loop: while true {
            switch decoder.decode(&iterator) {
            case .scalarValue(let scalar):
                if scalar.value < 0x80, isDirect(UInt8(scalar.value)) { throw .encodedPrintableASCII }
                out.append(scalar)
            case .emptyInput: break loop
            case .error: throw .invalidUTF16
            }
        }
    }
}
