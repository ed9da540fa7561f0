import MailMessage
import NIOCore

// ENVELOPE, BODY and BODYSTRUCTURE, written straight from the parsed message. RFC 9051 §7.5.2.
//
// Case: types, subtypes, parameter names, encodings and disposition types go out lower-cased,
// as `MailMessage` stores them. Dovecot sends the same ("text" "plain" ("charset" "utf-8")),
// and the RFC 9051 §9 grammar compares these strings without case, so either case is legal; the
// one clients meet most often is the one least likely to surprise them.

extension ByteBuffer {
    // MARK: Envelope

    // RFC 9051 §9: envelope = "(" env-date SP env-subject SP env-from SP env-sender SP env-reply-to
    //                         SP env-to SP env-cc SP env-bcc SP env-in-reply-to SP env-message-id ")"
    /// Writes an ENVELOPE: the raw header values as nstrings and the address lists.
    ///
    ///     S: * 1 FETCH (ENVELOPE ("Wed, 17 Jul 1996 02:23:25 -0700" "Test" (("Terry" NIL "gray" "cac.washington.edu")) ...
    ///
    /// `utf8` as for `writeIMAPString(_:utf8:)`: it lets 8-bit header text (RFC 6532) be quoted.
    @discardableResult
    public mutating func writeEnvelope(_ e: Envelope, utf8: Bool = false) -> Int {
        let start = writerIndex
        writeInteger(UInt8(ascii: "("))
        writeNString(e.date, utf8: utf8)
        writeInteger(UInt8(ascii: " "))
        writeNString(e.subject, utf8: utf8)
        writeInteger(UInt8(ascii: " "))
        writeAddressList(e.from, utf8: utf8)
        writeInteger(UInt8(ascii: " "))
        // RFC 9051 §7.5.2: the server sets sender and reply-to to from when their fields are
        // absent. `Envelope` from the parser already does; this covers one built by hand.
        writeAddressList(e.sender.isEmpty ? e.from : e.sender, utf8: utf8)
        writeInteger(UInt8(ascii: " "))
        writeAddressList(e.replyTo.isEmpty ? e.from : e.replyTo, utf8: utf8)
        writeInteger(UInt8(ascii: " "))
        writeAddressList(e.to, utf8: utf8)
        writeInteger(UInt8(ascii: " "))
        writeAddressList(e.cc, utf8: utf8)
        writeInteger(UInt8(ascii: " "))
        writeAddressList(e.bcc, utf8: utf8)
        writeInteger(UInt8(ascii: " "))
        writeNString(e.inReplyTo, utf8: utf8)
        writeInteger(UInt8(ascii: " "))
        writeNString(e.messageID, utf8: utf8)
        writeInteger(UInt8(ascii: ")"))
        return writerIndex - start
    }

    // RFC 9051 §9: env-from = "(" 1*address ")" / nil
    //              address  = "(" addr-name SP addr-adl SP addr-mailbox SP addr-host ")"
    /// Writes an address list, or NIL when it is empty.
    ///
    /// Group markers are written as they come: RFC 9051 §7.5.2 has a group start as
    /// `(NIL NIL "group" NIL)` and its end as `(NIL NIL NIL NIL)`, which is how `Address`
    /// represents them (a nil host).
    @discardableResult
    public mutating func writeAddressList(_ addresses: [Address], utf8: Bool = false) -> Int {
        if addresses.isEmpty { return writeStaticString("NIL") }
        let start = writerIndex
        writeInteger(UInt8(ascii: "("))
        for a in addresses {
            writeInteger(UInt8(ascii: "("))
            writeNString(a.name, utf8: utf8)
            writeInteger(UInt8(ascii: " "))
            writeNString(a.route, utf8: utf8)
            writeInteger(UInt8(ascii: " "))
            writeNString(a.mailbox, utf8: utf8)
            writeInteger(UInt8(ascii: " "))
            writeNString(a.host, utf8: utf8)
            writeInteger(UInt8(ascii: ")"))
        }
        writeInteger(UInt8(ascii: ")"))
        return writerIndex - start
    }

    // MARK: Body structure

    // RFC 9051 §9: body            = "(" (body-type-1part / body-type-mpart) ")"
    //              body-type-1part = (body-type-basic / body-type-msg / body-type-text) [SP body-ext-1part]
    //              body-type-mpart = 1*body SP media-subtype [SP body-ext-mpart]
    /// Writes BODYSTRUCTURE (`extensible` true) or BODY (false) of a part; pass `message.root`.
    ///
    ///     S: * 1 FETCH (BODYSTRUCTURE (("text" "plain" ("charset" "us-ascii") NIL NIL "7bit" 6 1 NIL NIL NIL NIL)
    ///        ("application" "pdf" ("name" "a.pdf") NIL NIL "base64" 2048 NIL ("attachment" ("filename" "a.pdf")) NIL NIL)
    ///        "mixed" ("boundary" "b1") NIL NIL NIL))
    ///
    /// Sizes are octets of the parsed (CRLF) bytes. A part the parser kept opaque although its
    /// type is composite (message/rfc822 in base64, which RFC 2046 §5.2.1 forbids) is written as
    /// application/octet-stream, since a client reads "message" "rfc822" as the start of an
    /// envelope and a body that are not there. `utf8` as for `writeIMAPString(_:utf8:)`.
    @discardableResult
    public mutating func writeBodyStructure(_ part: MessagePart, extensible: Bool, utf8: Bool = false) -> Int {
        let start = writerIndex
        writeBody(part, extensible: extensible, utf8: utf8)
        return writerIndex - start
    }

    private mutating func writeBody(_ part: MessagePart, extensible: Bool, utf8: Bool) {
        writeInteger(UInt8(ascii: "("))
        switch part.body {
        case .multipart(let children):
            for child in children { writeBody(child, extensible: extensible, utf8: utf8) }
            writeInteger(UInt8(ascii: " "))
            writeIMAPString(part.contentType.subtype, utf8: utf8)
            if extensible {
                // body-ext-mpart = body-fld-param [SP body-fld-dsp [SP body-fld-lang [SP body-fld-loc]]]
                writeInteger(UInt8(ascii: " "))
                writeBodyParameters(part.contentType.parameters, defaultCharset: false, utf8: utf8)
                writeDispositionLanguageLocation(part, utf8: utf8)
            }

        case .message(let envelope, let inner):
            // body-type-msg = media-message SP body-fields SP envelope SP body SP body-fld-lines
            writeMediaType(part.contentType, utf8: utf8)
            writeBodyFields(part, defaultCharset: false, utf8: utf8)
            writeInteger(UInt8(ascii: " "))
            writeEnvelope(envelope, utf8: utf8)
            writeInteger(UInt8(ascii: " "))
            writeBody(inner, extensible: extensible, utf8: utf8)
            writeInteger(UInt8(ascii: " "))
            writeDecimal(part.lineCount)
            if extensible { writeSinglePartExtension(part, utf8: utf8) }

        case .single:
            let type = part.contentType
            if type.type == "multipart" || type.isEncapsulatedMessage {
                // Opaque composite: see the comment on writeBodyStructure.
                let opaque = ContentType(type: "application", subtype: "octet-stream", parameters: type.parameters)
                writeMediaType(opaque, utf8: utf8)
                writeBodyFields(part, parameters: type.parameters, defaultCharset: false, utf8: utf8)
            } else if type.type == "text" {
                // body-type-text = media-text SP body-fields SP body-fld-lines
                writeMediaType(type, utf8: utf8)
                writeBodyFields(part, defaultCharset: true, utf8: utf8)
                writeInteger(UInt8(ascii: " "))
                writeDecimal(part.lineCount)
            } else {
                // body-type-basic = media-basic SP body-fields
                writeMediaType(type, utf8: utf8)
                writeBodyFields(part, defaultCharset: false, utf8: utf8)
            }
            if extensible { writeSinglePartExtension(part, utf8: utf8) }
        }
        writeInteger(UInt8(ascii: ")"))
    }

    /// `"type" "subtype"`.
    private mutating func writeMediaType(_ type: ContentType, utf8: Bool) {
        writeIMAPString(type.type, utf8: utf8)
        writeInteger(UInt8(ascii: " "))
        writeIMAPString(type.subtype, utf8: utf8)
    }

    // RFC 9051 §9: body-fields = body-fld-param SP body-fld-id SP body-fld-desc SP body-fld-enc SP body-fld-octets
    /// ` params id desc enc octets`, with a leading space.
    private mutating func writeBodyFields(
        _ part: MessagePart, parameters: [MIMEParameter]? = nil, defaultCharset: Bool, utf8: Bool
    ) {
        writeInteger(UInt8(ascii: " "))
        writeBodyParameters(parameters ?? part.contentType.parameters, defaultCharset: defaultCharset, utf8: utf8)
        writeInteger(UInt8(ascii: " "))
        writeNString(part.contentID, utf8: utf8)
        writeInteger(UInt8(ascii: " "))
        writeNString(part.contentDescription, utf8: utf8)
        writeInteger(UInt8(ascii: " "))
        writeIMAPString(part.transferEncoding, utf8: utf8)
        writeInteger(UInt8(ascii: " "))
        writeDecimal(part.bodyOctets)
    }

    // RFC 9051 §9: body-ext-1part = body-fld-md5 [SP body-fld-dsp [SP body-fld-lang [SP body-fld-loc]]]
    /// ` md5 disposition language location`, with a leading space: all four, as Dovecot sends them.
    private mutating func writeSinglePartExtension(_ part: MessagePart, utf8: Bool) {
        writeInteger(UInt8(ascii: " "))
        writeNString(part.contentMD5, utf8: utf8)
        writeDispositionLanguageLocation(part, utf8: utf8)
    }

    // RFC 9051 §9: body-fld-dsp  = "(" string SP body-fld-param ")" / nil
    //              body-fld-lang = nstring / "(" string *(SP string) ")"
    //              body-fld-loc  = nstring
    /// ` disposition language location`, with a leading space.
    private mutating func writeDispositionLanguageLocation(_ part: MessagePart, utf8: Bool) {
        writeInteger(UInt8(ascii: " "))
        if let d = part.disposition {
            writeInteger(UInt8(ascii: "("))
            writeIMAPString(d.type, utf8: utf8)
            writeInteger(UInt8(ascii: " "))
            writeBodyParameters(d.parameters, defaultCharset: false, utf8: utf8)
            writeInteger(UInt8(ascii: ")"))
        } else {
            writeStaticString("NIL")
        }
        writeInteger(UInt8(ascii: " "))
        switch part.language.count {
        case 0: writeStaticString("NIL")
        case 1: writeIMAPString(part.language[0], utf8: utf8)
        default:
            writeInteger(UInt8(ascii: "("))
            for (i, tag) in part.language.enumerated() {
                if i > 0 { writeInteger(UInt8(ascii: " ")) }
                writeIMAPString(tag, utf8: utf8)
            }
            writeInteger(UInt8(ascii: ")"))
        }
        writeInteger(UInt8(ascii: " "))
        writeNString(part.location, utf8: utf8)
    }

    // RFC 9051 §9: body-fld-param = "(" string SP string *(SP string SP string) ")" / nil
    /// The parameter list, or NIL when there is none.
    ///
    /// `defaultCharset` adds `"charset" "us-ascii"` to a text part that names no charset, which
    /// RFC 2045 §5.2 makes its charset (Dovecot does the same). Values are decoded (RFC 2231
    /// joined), so a non-ASCII value goes back to RFC 2231 §4 form, `name*` `utf-8''%E2%82%AC`,
    /// for a client that does not take UTF-8.
    private mutating func writeBodyParameters(_ parameters: [MIMEParameter], defaultCharset: Bool, utf8: Bool) {
        let addCharset = defaultCharset && !parameters.contains { $0.name == "charset" }
        if parameters.isEmpty, !addCharset {
            writeStaticString("NIL")
            return
        }
        writeInteger(UInt8(ascii: "("))
        var first = true
        if addCharset {
            writeStaticString("\"charset\" \"us-ascii\"")
            first = false
        }
        for p in parameters {
            if !first { writeInteger(UInt8(ascii: " ")) }
            first = false
            if !utf8, p.value.utf8.contains(where: { $0 >= 0x80 }) {
                writeRFC2231Parameter(p)
            } else {
                writeIMAPString(p.name, utf8: utf8)
                writeInteger(UInt8(ascii: " "))
                writeIMAPString(p.value, utf8: utf8)
            }
        }
        writeInteger(UInt8(ascii: ")"))
    }

    // RFC 2231 §7: extended-initial-value := [charset] "'" [language] "'" extended-other-values
    //              attribute-char := <any (US-ASCII) CHAR except SPACE, CTLs, "*", "'", "%", or tspecials>
    /// `"name*" "utf-8''…"` with every byte that is not attribute-char percent-encoded.
    private mutating func writeRFC2231Parameter(_ p: MIMEParameter) {
        writeIMAPString(p.name + "*", utf8: false)
        writeStaticString(" \"utf-8''")
        let hex: StaticString = "0123456789ABCDEF"
        for b in p.value.utf8 {
            if Self.isAttributeChar(b) {
                writeInteger(b)
            } else {
                writeInteger(UInt8(ascii: "%"))
                hex.withUTF8Buffer { h in
                    writeInteger(h[Int(b >> 4)])
                    writeInteger(h[Int(b & 0x0F)])
                }
            }
        }
        writeInteger(UInt8(ascii: "\""))
    }

    /// Whether `b` may stand for itself in an RFC 2231 extended value.
    private static func isAttributeChar(_ b: UInt8) -> Bool {
        switch b {
        case UInt8(ascii: "0")...UInt8(ascii: "9"), UInt8(ascii: "A")...UInt8(ascii: "Z"), UInt8(ascii: "a")...UInt8(ascii: "z"):
            return true
        case UInt8(ascii: "!"), UInt8(ascii: "#"), UInt8(ascii: "$"), UInt8(ascii: "&"), UInt8(ascii: "+"),
            UInt8(ascii: "-"), UInt8(ascii: "."), UInt8(ascii: "^"), UInt8(ascii: "_"), UInt8(ascii: "`"),
            UInt8(ascii: "{"), UInt8(ascii: "|"), UInt8(ascii: "}"), UInt8(ascii: "~"):
            return true
        default:
            return false
        }
    }
}
