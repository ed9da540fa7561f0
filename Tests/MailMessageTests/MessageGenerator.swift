@testable import MailMessage

/// Builds test messages in memory; nothing is read from disk.
enum Gen {
    /// CRLF-joined lines, each ended by CRLF.
    static func lines(_ lines: [String]) -> [UInt8] {
        Array(lines.map { $0 + "\r\n" }.joined().utf8)
    }

    /// A message from header lines and a body, CRLF line endings.
    static func message(_ header: [String], body: String) -> [UInt8] {
        lines(header) + Array(("\r\n" + body).utf8)
    }

    /// A multipart body with the given raw parts (each its own header + CRLF + body).
    static func multipart(boundary: String, parts: [String], preamble: String = "", epilogue: String = "") -> String {
        var s = preamble.isEmpty ? "" : preamble + "\r\n"
        for p in parts { s += "--" + boundary + "\r\n" + p + "\r\n" }
        s += "--" + boundary + "--\r\n" + epilogue
        return s
    }

    /// The bytes of `raw` in `r`, as a string.
    static func text(_ raw: [UInt8], _ r: Range<Int>) -> String { String(decoding: raw[r], as: UTF8.self) }

    /// A deterministic pseudo-random generator for payloads.
    struct Random {
        var state: UInt64
        mutating func next() -> UInt64 {
            state = state &* 6364136223846793005 &+ 1442695040888963407
            return state >> 33
        }
    }

    /// Standard base64 of `bytes`, 76-character lines.
    static func base64(_ bytes: [UInt8]) -> String {
        let a = Array("ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/".utf8)
        var out = [UInt8]()
        var i = 0
        var col = 0
        while i < bytes.count {
            let b0 = UInt32(bytes[i])
            let b1 = i + 1 < bytes.count ? UInt32(bytes[i + 1]) : 0
            let b2 = i + 2 < bytes.count ? UInt32(bytes[i + 2]) : 0
            let v = b0 << 16 | b1 << 8 | b2
            out.append(a[Int(v >> 18 & 63)])
            out.append(a[Int(v >> 12 & 63)])
            out.append(i + 1 < bytes.count ? a[Int(v >> 6 & 63)] : UInt8(ascii: "="))
            out.append(i + 2 < bytes.count ? a[Int(v & 63)] : UInt8(ascii: "="))
            i += 3
            col += 4
            if col >= 76 { out += [13, 10]; col = 0 }
        }
        return String(decoding: out, as: UTF8.self)
    }

    /// A typical multipart/mixed message with a text part, an HTML alternative and an attachment.
    static func typicalMultipart(attachmentSize: Int = 20_000) -> [UInt8] {
        var rng = Random(state: 42)
        let payload = (0..<attachmentSize).map { _ in UInt8(truncatingIfNeeded: rng.next()) }
        let alt = multipart(boundary: "alt-1", parts: [
            "Content-Type: text/plain; charset=utf-8\r\nContent-Transfer-Encoding: quoted-printable\r\n\r\nHello there,=20\r\nthis is caf=C3=A9 text.\r\n",
            "Content-Type: text/html; charset=utf-8\r\n\r\n<html><body><p>Hello <b>there</b> &amp; welcome</p></body></html>\r\n",
        ])
        let body = multipart(boundary: "mix-0", parts: [
            "Content-Type: multipart/alternative; boundary=\"alt-1\"\r\n\r\n" + alt,
            "Content-Type: application/pdf; name=\"report.pdf\"\r\nContent-Disposition: attachment; filename=\"report.pdf\"\r\nContent-Transfer-Encoding: base64\r\n\r\n" + base64(payload),
        ], preamble: "This is a multi-part message in MIME format.", epilogue: "epilogue\r\n")
        return message([
            "From: \"Alice Example\" <alice@example.org>",
            "To: Bob <bob@example.net>, carol@example.com",
            "Subject: Re: [list] Quarterly report",
            "Date: Tue, 1 Jul 2003 10:52:37 +0200",
            "Message-ID: <msg-1@example.org>",
            "MIME-Version: 1.0",
            "Content-Type: multipart/mixed; boundary=\"mix-0\"",
        ], body: body)
    }
}
