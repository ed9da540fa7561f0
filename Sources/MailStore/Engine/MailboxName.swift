/// Mailbox name rules: `/` separates levels, INBOX is case-insensitive.
public enum MailboxName {
    /// The hierarchy separator.
    public static let separator: Character = "/"
    /// The longest name accepted, in UTF-8 bytes.
    public static let maxLength = 1024

    /// Checks `name` and returns it with an INBOX first level spelled `INBOX`.
    public static func normalize(_ name: String) throws -> String {
        let bytes = Array(name.utf8)
        func invalid(_ why: String) -> MailStoreError { .invalidMailboxName(name, reason: why) }
        guard !bytes.isEmpty else { throw invalid("empty") }
        guard bytes.count <= maxLength else { throw invalid("longer than \(maxLength) bytes") }
        if bytes.contains(where: { $0 < 0x20 || $0 == 0x7F }) { throw invalid("control character") }
        if bytes.contains(where: { $0 == UInt8(ascii: "*") || $0 == UInt8(ascii: "%") }) {
            throw invalid("wildcard character")
        }
        let slash = UInt8(ascii: "/")
        if bytes.first == slash || bytes.last == slash { throw invalid("leading or trailing separator") }
        for i in 1..<bytes.count where bytes[i] == slash && bytes[i - 1] == slash {
            throw invalid("empty level")
        }
        // RFC 9051 §5.1: INBOX is case-insensitive; so is the INBOX level of its children.
        let first = name.split(separator: "/", maxSplits: 1, omittingEmptySubsequences: false)
        if first[0].uppercased() == "INBOX" && first[0] != "INBOX" {
            return "INBOX" + name.dropFirst(5)
        }
        return name
    }

    /// The names of the ancestors of `name`, outermost first (`a/b/c` → `a`, `a/b`).
    public static func ancestors(of name: String) -> [String] {
        var result: [String] = []
        var index = name.startIndex
        while let slash = name[index...].firstIndex(of: separator) {
            result.append(String(name[..<slash]))
            index = name.index(after: slash)
        }
        return result
    }

    /// Whether `name` matches a LIST pattern: `*` matches anything, `%` anything but the
    /// separator (RFC 9051 §6.3.9). INBOX in the pattern matches case-insensitively.
    public static func matches(_ name: String, pattern: String) -> Bool {
        let n = Array(name.unicodeScalars)
        var p = Array(pattern.unicodeScalars)
        if p.count >= 5, String(String.UnicodeScalarView(p[0..<5])).uppercased() == "INBOX",
           p.count == 5 || ["/", "*", "%"].contains(p[5]) {
            p.replaceSubrange(0..<5, with: "INBOX".unicodeScalars)
        }
        // Dynamic programming over (pattern position, name position): linear in their product,
        // never exponential, whatever the pattern.
        var row = [Bool](repeating: false, count: n.count + 1)
        row[0] = true
        for pc in p {
            var next = [Bool](repeating: false, count: n.count + 1)
            switch pc {
            case "*":
                var reachable = false
                for j in 0...n.count { reachable = reachable || row[j]; next[j] = reachable }
            case "%":
                var reachable = false
                for j in 0...n.count {
                    if row[j] { reachable = true }
                    next[j] = reachable
                    if j < n.count && n[j] == "/" { reachable = false }
                }
            default:
                for j in 0..<n.count where row[j] && n[j] == pc { next[j + 1] = true }
            }
            row = next
        }
        return row[n.count]
    }
}
