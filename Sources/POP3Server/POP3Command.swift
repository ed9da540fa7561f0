/// A POP3 command (RFC 1939 §§4–7, RFC 2449, RFC 2595, RFC 5034).
public enum POP3Command: Equatable, Sendable {
    case user(String)
    case pass(String)
    /// `AUTH` alone lists mechanisms; otherwise a mechanism and an optional initial response
    /// (still base64; `=` means empty, RFC 5034 §4).
    case auth(mechanism: String?, initialResponse: String?)
    case stls
    case capa
    case quit
    case stat
    case list(Int?)
    case uidl(Int?)
    case retr(Int)
    case top(Int, lines: Int)
    case dele(Int)
    case noop
    case rset

    /// The command's keyword, for logs and metrics.
    public var keyword: String {
        switch self {
        case .user: "USER"
        case .pass: "PASS"
        case .auth: "AUTH"
        case .stls: "STLS"
        case .capa: "CAPA"
        case .quit: "QUIT"
        case .stat: "STAT"
        case .list: "LIST"
        case .uidl: "UIDL"
        case .retr: "RETR"
        case .top: "TOP"
        case .dele: "DELE"
        case .noop: "NOOP"
        case .rset: "RSET"
        }
    }
}

/// Why a line is not a command; the text goes after `-ERR `.
public struct POP3ParseError: Error, Equatable, Sendable {
    public var message: String
}

public enum POP3Parser {
    /// The largest message number or line count accepted (RFC 1939 numbers are decimal; we
    /// keep them within Int32).
    public static let maxNumber = Int(Int32.max)

    /// command = keyword *(SP argument); keywords are case-insensitive (RFC 1939 §3).
    /// `PASS` takes the rest of the line, so passwords may contain spaces. The arguments stay
    /// bytes until a command keeps one as text: RETR in a 5,000-message loop makes no Strings.
    public static func parse<C: Collection<UInt8>>(_ line: C) -> Result<POP3Command, POP3ParseError> {
        let bytes = Array(line)
        let spaceIndex = bytes.firstIndex(of: UInt8(ascii: " ")) ?? bytes.count
        let keywordBytes = bytes[..<spaceIndex]
        guard !keywordBytes.isEmpty, keywordBytes.count <= 4,
              keywordBytes.allSatisfy({ (0x41...0x5A).contains($0) || (0x61...0x7A).contains($0) }) else {
            return .failure(POP3ParseError(message: "Unknown command"))
        }
        // ASCII letters only, so clearing bit 5 upper-cases them; four bytes stay an inline String.
        let keyword = String(decoding: keywordBytes.lazy.map { $0 & 0xDF }, as: UTF8.self)
        let rest = bytes[min(spaceIndex + 1, bytes.count)...]
        let args = rest.split(separator: UInt8(ascii: " "))
        func text(_ argument: ArraySlice<UInt8>) -> String { String(decoding: argument, as: UTF8.self) }

        func none(_ command: POP3Command) -> Result<POP3Command, POP3ParseError> {
            args.isEmpty ? .success(command) : .failure(POP3ParseError(message: "\(keyword) takes no arguments"))
        }
        /// 1*10DIGIT, at most `maxNumber`.
        func number(_ digits: ArraySlice<UInt8>) -> Int? {
            guard !digits.isEmpty, digits.count <= 10 else { return nil }
            var n = 0
            for d in digits {
                guard (0x30...0x39).contains(d) else { return nil }
                n = n * 10 + Int(d - 0x30)
            }
            return n <= maxNumber ? n : nil
        }
        func message(_ make: (Int) -> POP3Command) -> Result<POP3Command, POP3ParseError> {
            guard args.count == 1, let n = number(args[0]) else {
                return .failure(POP3ParseError(message: "\(keyword) needs a message number"))
            }
            return .success(make(n))
        }
        func optionalMessage(_ make: (Int?) -> POP3Command) -> Result<POP3Command, POP3ParseError> {
            if args.isEmpty { return .success(make(nil)) }
            return message { make($0) }
        }

        switch keyword {
        case "USER":
            guard args.count == 1 else { return .failure(POP3ParseError(message: "USER needs one name")) }
            return .success(.user(text(args[0])))
        case "PASS":
            guard !rest.isEmpty else { return .failure(POP3ParseError(message: "PASS needs a password")) }
            return .success(.pass(text(rest)))
        case "AUTH":
            guard args.count <= 2 else { return .failure(POP3ParseError(message: "AUTH takes a mechanism and an initial response")) }
            return .success(.auth(mechanism: args.first.map(text), initialResponse: args.count == 2 ? text(args[1]) : nil))
        case "STLS": return none(.stls)
        case "CAPA": return none(.capa)
        case "QUIT": return none(.quit)
        case "STAT": return none(.stat)
        case "NOOP": return none(.noop)
        case "RSET": return none(.rset)
        case "LIST": return optionalMessage { .list($0) }
        case "UIDL": return optionalMessage { .uidl($0) }
        case "RETR": return message { .retr($0) }
        case "DELE": return message { .dele($0) }
        case "TOP":
            guard args.count == 2, let n = number(args[0]), let lines = number(args[1]) else {
                return .failure(POP3ParseError(message: "TOP needs a message number and a line count"))
            }
            return .success(.top(n, lines: lines))
        default:
            return .failure(POP3ParseError(message: "Unknown command"))
        }
    }
}
