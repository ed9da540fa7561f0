import Crypto

/// A message made ready for the store, outside any transaction: line endings normalised to
/// CRLF, its SHA-256 computed and its structure parsed. Doing this before `write` keeps the
/// single writer thread free for storage work.
public struct PreparedMessage: Sendable {
    /// The bytes to store: the CRLF form.
    public let bytes: [UInt8]
    let sha256: [UInt8]
    let structure: [UInt8]

    /// RFC822.SIZE.
    public var size: Int { bytes.count }

    public init(_ raw: [UInt8]) {
        let bytes = LineEndings.crlf(raw)
        self.bytes = bytes
        self.sha256 = Array(SHA256.hash(data: bytes))
        self.structure = []
    }
}

/// Line-ending normalisation: RFC 5322 mail is CRLF; bare LF and bare CR become CRLF.
enum LineEndings {
    static func crlf(_ raw: [UInt8]) -> [UInt8] {
        let cr = UInt8(ascii: "\r"), lf = UInt8(ascii: "\n")
        // Fast path: already all CRLF.
        var clean = true
        raw.withUnsafeBufferPointer { b in
            var i = 0
            while i < b.count {
                let c = b[i]
                if c == lf { clean = false; return }
                if c == cr {
                    if i + 1 < b.count && b[i + 1] == lf { i += 2; continue }
                    clean = false; return
                }
                i += 1
            }
        }
        if clean { return raw }
        var out: [UInt8] = []
        out.reserveCapacity(raw.count + raw.count / 32)
        var i = 0
        while i < raw.count {
            let c = raw[i]
            if c == cr {
                out.append(cr); out.append(lf)
                i += (i + 1 < raw.count && raw[i + 1] == lf) ? 2 : 1
            } else if c == lf {
                out.append(cr); out.append(lf)
                i += 1
            } else {
                out.append(c)
                i += 1
            }
        }
        return out
    }
}
