import Foundation
import IMAPProtocol
import MailMessage
import NIOCore
import Testing

/// Every message of the shared corpus, when it is there, gives an ENVELOPE and a BODYSTRUCTURE
/// that a strict reader of the RFC 9051 §9 grammar accepts. Skipped where the corpus is absent.
@Suite struct BodyStructureCorpusTests {
    static let corpus = "/work/shared/corpus"

    static var messageFiles: [String] {
        let fm = FileManager.default
        var out: [String] = []
        for dir in ["notmuch-maildir", "notmuch-edge"] {
            let root = corpus + "/" + dir
            guard let walker = fm.enumerator(atPath: root) else { continue }
            for case let path as String in walker {
                var isDir: ObjCBool = false
                let full = root + "/" + path
                if fm.fileExists(atPath: full, isDirectory: &isDir), !isDir.boolValue, !path.contains("README"),
                    !path.contains("COPYING")
                {
                    out.append(full)
                }
            }
        }
        return out.sorted()
    }

    @Test(.enabled(if: FileManager.default.fileExists(atPath: corpus)))
    func everyCorpusMessageEncodesToValidSyntax() throws {
        let files = Self.messageFiles
        #expect(files.count > 300)
        for file in files {
            let raw = try #require(FileManager.default.contents(atPath: file))
            let message = ParsedMessage.parse(ParsedMessage.crlfNormalized(raw))
            for utf8 in [false, true] {
                for extensible in [false, true] {
                    var buffer = ByteBuffer()
                    buffer.writeBodyStructure(message.root, extensible: extensible, utf8: utf8)
                    var reader = ValueReader(bytes: Array(buffer.readableBytesView), utf8: utf8)
                    let value = reader.readValue()
                    #expect(reader.atEnd && value != nil, "\(file)")
                    if let value { #expect(BodyShape.isBody(value, extensible: extensible), "\(file): \(buffer.getString(at: 0, length: buffer.readableBytes) ?? "")") }
                }
                var buffer = ByteBuffer()
                buffer.writeEnvelope(message.envelope, utf8: utf8)
                var reader = ValueReader(bytes: Array(buffer.readableBytesView), utf8: utf8)
                let value = reader.readValue()
                #expect(reader.atEnd && value.map(BodyShape.isEnvelope) == true, "\(file)")
            }
        }
    }
}

/// A value of IMAP response syntax.
indirect enum Value: Equatable {
    case nilValue
    case string([UInt8])
    case number(UInt64)
    case list([Value])
}

/// A strict reader of the response values BODYSTRUCTURE and ENVELOPE use. RFC 9051 §9.
struct ValueReader {
    let bytes: [UInt8]
    /// Whether quoted strings may hold UTF-8.
    let utf8: Bool
    var i = 0

    init(bytes: [UInt8], utf8: Bool) {
        self.bytes = bytes
        self.utf8 = utf8
    }

    var atEnd: Bool { i == bytes.count }

    mutating func readValue() -> Value? {
        guard i < bytes.count else { return nil }
        switch bytes[i] {
        case UInt8(ascii: "("):
            i += 1
            var items: [Value] = []
            while i < bytes.count, bytes[i] != UInt8(ascii: ")") {
                // One space between items, none between the bodies of a multipart.
                if let last = items.last {
                    if bytes[i] == UInt8(ascii: " ") {
                        i += 1
                    } else {
                        guard case .list = last, bytes[i] == UInt8(ascii: "(") else { return nil }
                    }
                }
                guard let v = readValue() else { return nil }
                items.append(v)
            }
            guard i < bytes.count else { return nil }
            i += 1
            return .list(items)
        case UInt8(ascii: "\""):
            i += 1
            var s: [UInt8] = []
            while i < bytes.count, bytes[i] != UInt8(ascii: "\"") {
                var b = bytes[i]
                if b == UInt8(ascii: "\\") {
                    i += 1
                    guard i < bytes.count, bytes[i] == UInt8(ascii: "\\") || bytes[i] == UInt8(ascii: "\"") else { return nil }
                    b = bytes[i]
                }
                if b == 0 || b == 10 || b == 13 { return nil }
                if b >= 0x80, !utf8 { return nil }
                s.append(b)
                i += 1
            }
            guard i < bytes.count else { return nil }
            i += 1
            if utf8, String(validating: s, as: UTF8.self) == nil { return nil }
            return .string(s)
        case UInt8(ascii: "{"):
            i += 1
            var n = 0
            while i < bytes.count, let d = digit(bytes[i]) { n = n * 10 + d; i += 1 }
            guard i + 3 <= bytes.count, bytes[i] == UInt8(ascii: "}"), bytes[i + 1] == 13, bytes[i + 2] == 10 else { return nil }
            i += 3
            guard i + n <= bytes.count else { return nil }
            defer { i += n }
            return .string(Array(bytes[i..<(i + n)]))
        case UInt8(ascii: "N"):
            guard i + 3 <= bytes.count, bytes[i..<(i + 3)].elementsEqual("NIL".utf8) else { return nil }
            i += 3
            return .nilValue
        default:
            var n: UInt64 = 0
            let start = i
            while i < bytes.count, let d = digit(bytes[i]) { n = n * 10 + UInt64(d); i += 1 }
            return i > start ? .number(n) : nil
        }
    }

    private func digit(_ b: UInt8) -> Int? { b >= 48 && b <= 57 ? Int(b - 48) : nil }
}

/// Checks of the shape of BODYSTRUCTURE and ENVELOPE values against the RFC 9051 §9 grammar.
enum BodyShape {
    static func isNString(_ v: Value) -> Bool {
        if case .string = v { return true }
        return v == .nilValue
    }

    static func isString(_ v: Value) -> Bool {
        if case .string = v { return true }
        return false
    }

    static func lowered(_ v: Value) -> String? {
        if case .string(let s) = v { return String(decoding: s, as: UTF8.self).lowercased() }
        return nil
    }

    static func isNumber(_ v: Value) -> Bool {
        if case .number = v { return true }
        return false
    }

    // body-fld-param = "(" string SP string *(SP string SP string) ")" / nil
    static func isParams(_ v: Value) -> Bool {
        if v == .nilValue { return true }
        guard case .list(let items) = v, !items.isEmpty, items.count % 2 == 0 else { return false }
        return items.allSatisfy(isString)
    }

    // address = "(" addr-name SP addr-adl SP addr-mailbox SP addr-host ")"
    static func isAddressList(_ v: Value) -> Bool {
        if v == .nilValue { return true }
        guard case .list(let addresses) = v, !addresses.isEmpty else { return false }
        return addresses.allSatisfy {
            guard case .list(let f) = $0, f.count == 4 else { return false }
            return f.allSatisfy(isNString)
        }
    }

    static func isEnvelope(_ v: Value) -> Bool {
        guard case .list(let f) = v, f.count == 10 else { return false }
        return isNString(f[0]) && isNString(f[1]) && f[2...7].allSatisfy(isAddressList) && isNString(f[8])
            && isNString(f[9])
    }

    // body-ext-1part / body-ext-mpart tails: dsp, lang, loc
    static func isDispositionLanguageLocation(_ f: ArraySlice<Value>) -> Bool {
        guard f.count == 3 else { return false }
        let d = f[f.startIndex], lang = f[f.startIndex + 1], loc = f[f.startIndex + 2]
        var dspOK = d == .nilValue
        if case .list(let dl) = d, dl.count == 2, isString(dl[0]), isParams(dl[1]) { dspOK = true }
        var langOK = isNString(lang)
        if case .list(let tags) = lang, !tags.isEmpty, tags.allSatisfy(isString) { langOK = true }
        return dspOK && langOK && isNString(loc)
    }

    static func isBody(_ v: Value, extensible: Bool) -> Bool {
        guard case .list(let f) = v, let first = f.first else { return false }
        if case .list = first {
            // body-type-mpart = 1*body SP media-subtype [SP body-ext-mpart]
            let children = f.prefix { if case .list = $0 { return true } else { return false } }
            let rest = f[children.count...]
            guard children.allSatisfy({ isBody($0, extensible: extensible) }), let subtype = rest.first, isString(subtype)
            else { return false }
            if !extensible { return rest.count == 1 }
            return rest.count == 5 && isParams(rest[rest.startIndex + 1]) && isDispositionLanguageLocation(rest.suffix(3))
        }
        // body-fields = body-fld-param SP body-fld-id SP body-fld-desc SP body-fld-enc SP body-fld-octets
        guard f.count >= 7, let type = lowered(f[0]), let subtype = lowered(f[1]), isParams(f[2]), isNString(f[3]),
            isNString(f[4]), isString(f[5]), isNumber(f[6])
        else { return false }
        var next = 7
        if type == "message", subtype == "rfc822" || subtype == "global" {
            guard f.count >= 10, isEnvelope(f[7]), isBody(f[8], extensible: extensible), isNumber(f[9]) else { return false }
            next = 10
        } else if type == "text" {
            guard f.count >= 8, isNumber(f[7]) else { return false }
            next = 8
        }
        if !extensible { return f.count == next }
        // body-ext-1part = body-fld-md5 SP body-fld-dsp SP body-fld-lang SP body-fld-loc
        return f.count == next + 4 && isNString(f[next]) && isDispositionLanguageLocation(f[(next + 1)...])
    }
}

@Suite struct BodyShapeCheckerTests {
    /// The checker the corpus sweep relies on refuses what a client would choke on.
    @Test(arguments: [
        #"("text" "plain" NIL NIL NIL "7bit" 1 1 NIL NIL NIL NIL)"#,
        #"(("text" "plain" NIL NIL NIL "7bit" 1 1 NIL NIL NIL NIL) "mixed" ("boundary" "b") NIL NIL NIL)"#,
        #"("image" "png" NIL NIL NIL "base64" 4 NIL ("inline" NIL) ("en" "fr") NIL)"#,
    ])
    func accepts(body: String) {
        var reader = ValueReader(bytes: Array(body.utf8), utf8: false)
        let value = reader.readValue()
        #expect(reader.atEnd && value.map { BodyShape.isBody($0, extensible: true) } == true)
    }

    @Test(arguments: [
        #"("text" "plain" NIL NIL NIL "7bit" 1 NIL NIL NIL NIL)"#,  // text without lines
        #"("text" "plain" NIL NIL NIL "7bit" 1 1 NIL NIL NIL)"#,  // extension cut short
        #"("text" "plain" ("charset") NIL NIL "7bit" 1 1 NIL NIL NIL NIL)"#,  // odd parameters
        #"("message" "rfc822" NIL NIL NIL "7bit" 1 1 NIL NIL NIL NIL)"#,  // no envelope
        #"("text" "plain" NIL NIL NIL "7bit" 1 1 NIL NIL NIL NIL"#,  // unbalanced
        #"("text" "plain" NIL NIL NIL "7bit" 1 1 NIL NIL NIL "a"b")"#,  // bad quoting
        "(\"text\" \"plain\" NIL NIL NIL \"7bit\" 1 1 NIL NIL NIL \"a\r\nb\")",  // CRLF in quoted
        #"(("text" "plain" NIL NIL NIL "7bit" 1 1 NIL NIL NIL NIL)"mixed" NIL NIL NIL NIL)"#,  // no space
    ])
    func rejects(body: String) {
        var reader = ValueReader(bytes: Array(body.utf8), utf8: false)
        let value = reader.readValue()
        #expect(!(reader.atEnd && value.map { BodyShape.isBody($0, extensible: true) } == true))
    }
}
