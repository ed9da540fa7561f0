/// Builds one complete command from the lines and literal bytes the line framer delivers, for
/// `CommandParser.parse`. A pure state machine: it decides, the caller does the I/O.
///
///     C: a1 LOGIN {3}     line("a1 LOGIN {3}")  → .literal(count: 3, synchronizing: true)
///     S: + Ready
///     C: bob {4+}         literal("bob") → nil, line(" {4+}") → .literal(count: 4, synchronizing: false)
///     C: pass             literal("pass") → nil, line("") → .complete("a1 LOGIN {3}\r\nbob {4+}\r\npass")
///
/// The framer gives lines without their CRLF. A line that ends with a literal announcement
/// (`{N}`, `{N+}`, `~{N}`, `~{N+}`; RFC 9051 §4.3, RFC 7888, RFC 3516), outside a quoted string,
/// is kept with a CRLF and `line` answers `.literal`: the caller sends `+ Ready` when it is
/// synchronizing, then reads exactly `count` raw bytes and passes them to `literal` (in one piece
/// or several). The next line continues the same command. A line without an announcement ends
/// the command: `line` answers `.complete` with the whole command, literals inline.
///
/// Literal sizes are checked before any of their bytes are read: a literal larger than
/// `maxLiteralSize` (APPEND, REPLACE) or `maxCommandLiteralSize` (any other command), more than
/// `maxLiterals` literals, or a command larger than `maxLiteralSize + IMAPLimits.maxLineLength`
/// in all (so MULTIAPPEND messages share one APPENDLIMIT-sized buffer) gives `.reject`, and the
/// command is dropped: the next line starts a new command. `{N-}` is not a literal (LITERAL-
/// uses the `{N+}` form, RFC 7888 §4); such a line ends the command and the parser refuses it.
public struct CommandAssembler: Sendable {
    /// What the caller does next.
    public enum Step: Sendable, Equatable {
        /// The whole command, for `CommandParser.parse`.
        case complete([UInt8])
        /// The caller sends `+ Ready` if `synchronizing`, then feeds exactly `count` raw bytes to
        /// `literal` (none when `count` is 0), then the next line to `line`.
        case literal(count: Int, synchronizing: Bool)
        /// The command is dropped. The caller answers `tag NO message` (the message starts with a
        /// response code such as `[TOOBIG]`), untagged when `tag` is nil. With `closeConnection`
        /// the client will send the literal anyway (non-synchronizing), so the caller closes the
        /// connection after answering.
        case reject(tag: String?, message: String, closeConnection: Bool)
    }

    public let maxLiteralSize: Int
    public let maxCommandLiteralSize: Int
    public let maxLiterals: Int
    /// Bytes of one whole command, lines and literals together.
    public var maxCommandSize: Int { maxLiteralSize + IMAPLimits.maxLineLength }

    /// The command so far: lines with their CRLF and the literals read.
    private var buffer: [UInt8] = []
    /// Literal bytes still to come; 0 when a line is expected.
    public private(set) var pendingLiteralBytes = 0
    private var literalCount = 0
    /// Read from the command's first line.
    private var tag: String?
    private var isAppend = false

    public init(maxLiteralSize: Int = IMAPLimits.maxLiteralSize,
                maxCommandLiteralSize: Int = IMAPLimits.maxCommandLiteralSize,
                maxLiterals: Int = IMAPLimits.maxLiteralsPerCommand) {
        self.maxLiteralSize = maxLiteralSize
        self.maxCommandLiteralSize = maxCommandLiteralSize
        self.maxLiterals = maxLiterals
    }

    /// Forgets the command being assembled.
    public mutating func reset() {
        buffer = []
        pendingLiteralBytes = 0
        literalCount = 0
        tag = nil
        isAppend = false
    }

    /// Takes one line (without CRLF): the start of a command, or what follows a literal.
    public mutating func line(_ bytes: some Collection<UInt8>) -> Step {
        guard pendingLiteralBytes == 0 else {
            return drop("Line received while literal data was expected", closeConnection: true)
        }
        let lineStart = buffer.count
        if lineStart == 0 { readCommandWord(bytes) }
        guard buffer.count + bytes.count <= maxCommandSize else {
            return drop("[TOOBIG] Command too long", closeConnection: false)
        }
        buffer.append(contentsOf: bytes)
        guard let announced = Self.literalAnnouncement(buffer, from: lineStart) else {
            let command = buffer
            reset()
            return .complete(command)
        }
        let limit = isAppend ? maxLiteralSize : maxCommandLiteralSize
        let close = !announced.synchronizing
        // The count is checked against the limits before anything is read. RFC 7888 §4.
        guard let count = announced.count, count <= limit else {
            return drop("[TOOBIG] Literal too large", closeConnection: close)
        }
        guard literalCount < maxLiterals else {
            return drop("[LIMIT] Too many literals", closeConnection: close)
        }
        guard buffer.count + 2 + count <= maxCommandSize else {
            return drop("[TOOBIG] Command too large", closeConnection: close)
        }
        literalCount += 1
        buffer.append(CommandParser.Char.cr)
        buffer.append(CommandParser.Char.lf)
        buffer.reserveCapacity(buffer.count + count)
        pendingLiteralBytes = count
        return .literal(count: count, synchronizing: announced.synchronizing)
    }

    /// Takes raw bytes of the announced literal, in one piece or several.
    ///
    /// Returns nil: the caller keeps feeding until `pendingLiteralBytes` is 0, then feeds the next
    /// line. Bytes beyond what was announced are a caller error; they give `.reject` with
    /// `closeConnection`, never a trap.
    public mutating func literal(_ bytes: some Collection<UInt8>) -> Step? {
        guard !bytes.isEmpty else { return nil }
        guard bytes.count <= pendingLiteralBytes else {
            return drop("Unexpected literal data", closeConnection: true)
        }
        buffer.append(contentsOf: bytes)
        pendingLiteralBytes -= bytes.count
        return nil
    }

    /// Drops the command whose literal was just announced, for a reason of the caller's (such as
    /// no room for it): `.reject`, closing the connection unless the literal is synchronizing
    /// (then the client waits for `+` and sends nothing).
    public mutating func refuseLiteral(_ message: String, synchronizing: Bool) -> Step {
        drop(message, closeConnection: !synchronizing)
    }

    private mutating func drop(_ message: String, closeConnection: Bool) -> Step {
        let tag = self.tag
        reset()
        return .reject(tag: tag, message: message, closeConnection: closeConnection)
    }

    /// Reads the tag and whether the command is APPEND from the first line.
    private mutating func readCommandWord(_ line: some Collection<UInt8>) {
        var fields = line.split(separator: CommandParser.Char.space, maxSplits: 3, omittingEmptySubsequences: false).makeIterator()
        if let first = fields.next(), !first.isEmpty, first.count <= 256,
           first.allSatisfy({ CommandParser.Reader.isAstringChar($0) && $0 != CommandParser.Char.plus }) {
            tag = String(decoding: first, as: UTF8.self)
        }
        // APPEND, REPLACE and UID REPLACE (RFC 8508) carry messages: the APPENDLIMIT applies.
        func word(_ w: some Collection<UInt8>) -> String { w.count <= 8 ? CommandParser.Reader.uppercased(w) : "" }
        if let second = fields.next() {
            let name = word(second)
            isAppend = name == "APPEND" || name == "REPLACE" || (name == "UID" && fields.next().map(word) == "REPLACE")
        }
    }

    /// The literal announced at the end of `bytes[from...]`: nil when there is none; a nil count
    /// when the number is too large for any limit.
    // literal  = "{" number64 ["+"] "}" CRLF *CHAR8
    // literal8 = "~{" number64 ["+"] "}" CRLF *OCTET
    static func literalAnnouncement(_ bytes: [UInt8], from start: Int) -> (count: Int?, synchronizing: Bool)? {
        guard let last = bytes.last, last == CommandParser.Char.closeBrace, bytes.count - start >= 3 else { return nil }
        // The brace must lie outside a quoted string.
        var inQuote = false
        var i = start
        while i < bytes.count {
            let b = bytes[i]
            if inQuote {
                if b == CommandParser.Char.backslash { i += 1 } else if b == CommandParser.Char.quote { inQuote = false }
            } else if b == CommandParser.Char.quote {
                inQuote = true
            }
            i += 1
        }
        guard !inQuote else { return nil }
        var j = bytes.count - 2
        let synchronizing = bytes[j] != CommandParser.Char.plus
        if !synchronizing { j -= 1 }
        let digitsEnd = j + 1
        while j >= start, bytes[j] >= 0x30, bytes[j] <= 0x39 { j -= 1 }
        guard j >= start, bytes[j] == CommandParser.Char.openBrace, j + 1 < digitsEnd else { return nil }
        var count: Int? = 0
        for d in bytes[(j + 1)..<digitsEnd] {
            guard let c = count else { break }
            let (m, o1) = c.multipliedReportingOverflow(by: 10)
            let (a, o2) = m.addingReportingOverflow(Int(d - 0x30))
            count = (o1 || o2) ? nil : a
        }
        return (count, synchronizing)
    }
}
