import MailMessage

/// An IMAP URL that names one message or part of it on this server (RFC 5092), as CATENATE
/// takes them (RFC 4469 §5):
///
///     imap://bob@mail.example.org/INBOX;UIDVALIDITY=385759045/;UID=20/;SECTION=1.2/;PARTIAL=0.1024
///     /Sent%20Items/;UID=7                 (the server's root)
///     ;UID=20/;SECTION=HEADER              (the selected mailbox)
///
/// Names and sections are percent-decoded; mailbox names are UTF-8 (RFC 5092). URLAUTH
/// URLs (RFC 4467) and searches are not taken: `parse` gives nil, which a server answers with
/// `NO [BADURL ...]`.
public struct IMAPMessageURL: Sendable, Equatable {
    /// The user in an absolute URL, if it names one.
    public var user: String?
    /// nil for a URL relative to the selected mailbox.
    public var mailbox: String?
    public var uidValidity: UInt32?
    public var uid: UInt32
    public var section: SectionSpec?
    public var partial: Partial?

    public init(user: String? = nil, mailbox: String?, uidValidity: UInt32? = nil, uid: UInt32,
                section: SectionSpec? = nil, partial: Partial? = nil) {
        self.user = user
        self.mailbox = mailbox
        self.uidValidity = uidValidity
        self.uid = uid
        self.section = section
        self.partial = partial
    }

    /// Most bytes of a URL taken (RFC 5092 sets no limit; this bounds the work).
    public static let maxLength = 8 * 1024

    public static func parse(_ text: String) -> IMAPMessageURL? {
        guard text.utf8.count <= maxLength else { return nil }
        var rest = Substring(text)
        var user: String?
        if rest.lowercased().hasPrefix("imap://") {
            rest = rest.dropFirst("imap://".count)
            guard let slash = rest.firstIndex(of: "/") else { return nil }
            let server = rest[..<slash]
            if let at = server.lastIndex(of: "@") {
                // iuserinfo = enc-user [";AUTH=" ...]: the user, without any AUTH mechanism.
                let info = server[..<at]
                guard let name = percentDecoded(info.split(separator: ";", maxSplits: 1, omittingEmptySubsequences: false)[0]),
                      !name.isEmpty else { return nil }
                user = name
            }
            rest = rest[slash...]
        }
        var mailbox: String?
        if rest.hasPrefix("/") {
            // imailbox-ref = enc-mailbox [";UIDVALIDITY=" nz-number], then "/" and the UID.
            rest = rest.dropFirst()
            guard let end = rest.firstRange(of: "/;") else { return nil }
            var ref = rest[..<end.lowerBound]
            rest = rest[rest.index(after: end.lowerBound)...]
            var validity: UInt32?
            if let semi = ref.lastIndex(of: ";") {
                let parameter = ref[semi...]
                let key = ";UIDVALIDITY="
                guard parameter.uppercased().hasPrefix(key), let v = UInt32(parameter.dropFirst(key.count)), v > 0 else {
                    return nil
                }
                validity = v
                ref = ref[..<semi]
            }
            guard let name = percentDecoded(ref), !name.isEmpty else { return nil }
            mailbox = name
            return parseMessage(rest, user: user, mailbox: mailbox, uidValidity: validity)
        }
        guard user == nil else { return nil }
        return parseMessage(rest, user: nil, mailbox: nil, uidValidity: nil)
    }

    /// `;UID=n ["/;SECTION=s"] ["/;PARTIAL=o[.l]"]`.
    private static func parseMessage(_ text: Substring, user: String?, mailbox: String?, uidValidity: UInt32?) -> IMAPMessageURL? {
        var url = IMAPMessageURL(user: user, mailbox: mailbox, uidValidity: uidValidity, uid: 0)
        for (i, piece) in text.split(separator: "/", omittingEmptySubsequences: false).enumerated() {
            guard let eq = piece.firstIndex(of: "="), piece.hasPrefix(";") else { return nil }
            let key = piece[piece.index(after: piece.startIndex)..<eq].uppercased()
            let value = piece[piece.index(after: eq)...]
            switch (i, key) {
            case (0, "UID"):
                guard let uid = UInt32(value), uid > 0 else { return nil }
                url.uid = uid
            case (_, "SECTION") where i > 0 && url.section == nil && url.partial == nil:
                guard let decoded = percentDecoded(value), let spec = CommandParser.parseSection(decoded) else { return nil }
                url.section = spec
            case (_, "PARTIAL") where i > 0 && url.partial == nil:
                let numbers = value.split(separator: ".", omittingEmptySubsequences: false)
                guard numbers.count <= 2, let offset = Int(numbers[0]), offset >= 0 else { return nil }
                let length = numbers.count == 2 ? Int(numbers[1]) : Int.max - offset
                guard let length, length > 0 else { return nil }
                url.partial = Partial(offset: offset, length: length)
            default:
                return nil
            }
        }
        return url.uid > 0 ? url : nil
    }

    /// `%XX` escapes decoded; nil when one is malformed or the result is not UTF-8.
    static func percentDecoded(_ text: Substring) -> String? {
        var bytes: [UInt8] = []
        var it = Array(text.utf8)[...]
        while let b = it.popFirst() {
            guard b == UInt8(ascii: "%") else { bytes.append(b); continue }
            guard it.count >= 2, let v = UInt8(String(decoding: it.prefix(2), as: UTF8.self), radix: 16) else { return nil }
            bytes.append(v)
            it = it.dropFirst(2)
        }
        let s = String(decoding: bytes, as: UTF8.self)
        return s.utf8.elementsEqual(bytes) ? s : nil
    }
}

extension CommandParser {
    /// A section as written inside `BODY[...]`, such as `1.2.HEADER.FIELDS (SUBJECT)`; nil
    /// when it does not parse.
    public static func parseSection(_ text: String) -> SectionSpec? {
        let bytes = Array("[\(text)]".utf8)
        return bytes.withUnsafeBufferPointer { buf in
            var reader = Reader(buf)
            guard let spec = try? reader.section(), reader.isAtEnd else { return nil }
            return spec
        }
    }
}
