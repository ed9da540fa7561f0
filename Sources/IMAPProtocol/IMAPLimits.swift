/// The limits the IMAP front end enforces on what a client sends. Each is checked before the
/// bytes it bounds are buffered, and each refusal is a protocol answer (`BAD`, `NO [TOOBIG]`,
/// `NO [LIMIT]`), never a crash or a hang.
public enum IMAPLimits {
    /// Longest command line, literals excluded. RFC 7162 §4 asks servers to take at least 8192 octets.
    public static let maxLineLength = 64 * 1024
    /// Largest literal, and so the largest message APPEND takes (the APPENDLIMIT, RFC 7889).
    public static let maxLiteralSize = 64 * 1024 * 1024
    /// Largest literal outside APPEND (a LOGIN password, a SEARCH string).
    public static let maxCommandLiteralSize = 64 * 1024
    /// Most literals in one command (MULTIAPPEND messages included).
    public static let maxLiteralsPerCommand = 1000
    /// Deepest nesting of parentheses (SEARCH keys, FETCH lists).
    public static let maxNestingDepth = 32
    /// Most ranges in one sequence set.
    public static let maxSequenceRanges = 16 * 1024
    /// ID fields kept for the log (RFC 2971 §3.3 allows a client 30).
    public static let maxIDFields = 30
    /// Commands run one at a time, in order (RFC 9051 §5.5 lets a server serialize them). What a
    /// client pipelines meanwhile waits unread: the line framer stops reading from the socket
    /// once its high-water mark of bytes is buffered, so a pipeline costs bounded memory.
    public static let maxCommandsInFlight = 1
    /// Searches kept current with RETURN (UPDATE) per selected mailbox (RFC 5267 §4); one more
    /// is answered without updates, with `NOUPDATE`.
    public static let maxUpdatingSearches = 32
}
