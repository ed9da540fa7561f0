/// Content-Transfer-Encoding decoders (RFC 2045 §6), tolerant of the damage real mail carries.
public enum TransferDecoding {
    /// Decodes `bytes` sent with the transfer encoding `encoding` (a Content-Transfer-Encoding value).
    ///
    /// 7bit, 8bit and binary are identity encodings. Returns nil for an encoding this module does
    /// not know, which IMAP reports as `[UNKNOWN-CTE]` (RFC 3516 §4.3).
    public static func decode(_ bytes: some Collection<UInt8>, encoding: String) -> [UInt8]? {
        let encoding = encoding.lowercased()
        if isIdentity(encoding) { return Array(bytes) }
        switch encoding {
        case "base64": return base64(bytes)
        case "quoted-printable": return quotedPrintable(bytes)
        default: return nil
        }
    }

    /// Whether the lowercase `encoding` leaves the bytes as they are: none, 7bit, 8bit or binary.
    static func isIdentity(_ encoding: String) -> Bool {
        encoding.isEmpty || encoding == "7bit" || encoding == "8bit" || encoding == "binary"
    }

    /// Value of each base64 alphabet byte, or 0xFF for bytes outside it.
    private static let base64Values: [UInt8] = {
        var t = [UInt8](repeating: 0xFF, count: 256)
        let alphabet = Array("ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/".utf8)
        for (i, c) in alphabet.enumerated() { t[Int(c)] = UInt8(i) }
        // RFC 4648 §5 URL-safe letters appear in broken mail; accept them.
        t[Int(UInt8(ascii: "-"))] = 62
        t[Int(UInt8(ascii: "_"))] = 63
        return t
    }()

    // RFC 2045 §6.8: characters outside the alphabet are ignored; "=" pads the end.
    /// Decodes base64, skipping bytes outside the alphabet and accepting missing padding.
    public static func base64(_ bytes: some Collection<UInt8>) -> [UInt8] {
        var out = [UInt8]()
        out.reserveCapacity(bytes.count / 4 * 3 + 3)
        var acc: UInt32 = 0
        var n = 0
        let table = base64Values
        let work = { (buf: UnsafeBufferPointer<UInt8>) in
            table.withUnsafeBufferPointer { t in
                for b in buf {
                    if b == UInt8(ascii: "=") { break }
                    let v = t[Int(b)]
                    if v == 0xFF { continue }
                    acc = (acc << 6) | UInt32(v)
                    n += 1
                    if n == 4 {
                        out.append(UInt8(truncatingIfNeeded: acc >> 16))
                        out.append(UInt8(truncatingIfNeeded: acc >> 8))
                        out.append(UInt8(truncatingIfNeeded: acc))
                        acc = 0
                        n = 0
                    }
                }
            }
        }
        if bytes.withContiguousStorageIfAvailable(work) == nil { Array(bytes).withUnsafeBufferPointer(work) }
        // Missing padding: keep the whole bytes the leftover sextets carry.
        if n == 2 {
            out.append(UInt8(truncatingIfNeeded: acc >> 4))
        } else if n == 3 {
            out.append(UInt8(truncatingIfNeeded: acc >> 10))
            out.append(UInt8(truncatingIfNeeded: acc >> 2))
        }
        return out
    }

    // RFC 2045 §6.7: qp-line = *(qp-segment transport-padding CRLF) qp-part transport-padding
    //                qp-segment = qp-section *(SPACE / TAB) "="   (a soft line break)
    // RFC 2047 §4.2: in the Q encoding "_" stands for SPACE.
    /// Decodes quoted-printable; an "=" that starts no valid escape is kept as it is.
    public static func quotedPrintable(_ bytes: some Collection<UInt8>) -> [UInt8] {
        quotedPrintable(bytes, underscoreIsSpace: false)
    }

    /// Decodes quoted-printable, or the RFC 2047 Q encoding when `underscoreIsSpace` is set.
    static func quotedPrintable(_ bytes: some Collection<UInt8>, underscoreIsSpace: Bool) -> [UInt8] {
        if let out = bytes.withContiguousStorageIfAvailable({ quotedPrintable(buffer: $0, underscoreIsSpace: underscoreIsSpace) }) {
            return out
        }
        return Array(bytes).withUnsafeBufferPointer { quotedPrintable(buffer: $0, underscoreIsSpace: underscoreIsSpace) }
    }

    /// `quotedPrintable(_:underscoreIsSpace:)` on bytes in memory, read in place.
    private static func quotedPrintable(buffer s: UnsafeBufferPointer<UInt8>, underscoreIsSpace: Bool) -> [UInt8] {
        var out = [UInt8]()
        out.reserveCapacity(s.count)
        var i = 0
        while i < s.count {
            let b = s[i]
            if b == UInt8(ascii: "=") {
                if i + 2 < s.count, let hi = hex(s[i + 1]), let lo = hex(s[i + 2]) {
                    out.append(hi << 4 | lo)
                    i += 3
                    continue
                }
                // Soft line break: "=" then optional padding then a line break (or the end).
                var j = i + 1
                while j < s.count, Bytes.isWSP(s[j]) { j += 1 }
                if j == s.count { i = j; continue }
                if s[j] == Bytes.lf { i = j + 1; continue }
                if s[j] == Bytes.cr, j + 1 < s.count, s[j + 1] == Bytes.lf { i = j + 2; continue }
                out.append(b)
                i += 1
            } else if Bytes.isWSP(b) {
                // RFC 2045 §6.7 rule 3: trailing whitespace on a line was added in transport.
                var j = i
                while j < s.count, Bytes.isWSP(s[j]) { j += 1 }
                let atLineEnd = j == s.count || s[j] == Bytes.lf || (s[j] == Bytes.cr && j + 1 < s.count && s[j + 1] == Bytes.lf)
                if !atLineEnd || underscoreIsSpace { out.append(contentsOf: s[i..<j]) }
                i = j
            } else {
                out.append(underscoreIsSpace && b == UInt8(ascii: "_") ? Bytes.space : b)
                i += 1
            }
        }
        return out
    }

    @inline(__always)
    private static func hex(_ b: UInt8) -> UInt8? {
        switch b {
        case UInt8(ascii: "0")...UInt8(ascii: "9"): return b - 48
        case UInt8(ascii: "A")...UInt8(ascii: "F"): return b - 55
        case UInt8(ascii: "a")...UInt8(ascii: "f"): return b - 87
        default: return nil
        }
    }
}
