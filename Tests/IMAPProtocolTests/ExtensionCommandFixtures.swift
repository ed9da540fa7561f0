import IMAPProtocol
import MailMessage
import Testing

/// COMPRESS (RFC 4978), UNAUTHENTICATE (RFC 8437), QUOTA (RFC 9208), METADATA (RFC 5464) and
/// LIST-METADATA (RFC 9590): run with the other
/// fixtures (parse, refuse, round trip, every prefix and byte change).
let extensionFixtures: [ParseFixture] = [
    P("a COMPRESS DEFLATE", .compress(mechanism: "DEFLATE")),
    P("a compress deflate", .compress(mechanism: "DEFLATE")),
    P("a COMPRESS LZ4", .compress(mechanism: "LZ4")),
    P("a UNAUTHENTICATE", .unauthenticate),
    P("a GETQUOTA \"\"", .getQuota(root: "")),
    P("a GETQUOTA user", .getQuota(root: "user")),
    P("a GETQUOTAROOT INBOX", .getQuotaRoot(mailbox: "INBOX")),
    P("a getquotaroot \"Sent Items\"", .getQuotaRoot(mailbox: "Sent Items")),
    P("a SETQUOTA \"\" (STORAGE 512)", .setQuota(root: "", limits: [QuotaLimit(resource: "STORAGE", limit: 512)])),
    P("a SETQUOTA \"\" (storage 512 MESSAGE 1000)",
          .setQuota(root: "", limits: [QuotaLimit(resource: "STORAGE", limit: 512), QuotaLimit(resource: "MESSAGE", limit: 1000)])),
    P("a SETQUOTA \"\" ()", .setQuota(root: "", limits: [])),
    P("a GETMETADATA \"\" /shared/comment", .getMetadata(mailbox: "", entries: ["/shared/comment"], options: .init())),
    P("a GETMETADATA INBOX (/shared/comment /private/Comment)",
      .getMetadata(mailbox: "INBOX", entries: ["/shared/comment", "/private/Comment"], options: .init())),
    P("a GETMETADATA (MAXSIZE 1024 DEPTH infinity) INBOX /private",
      .getMetadata(mailbox: "INBOX", entries: ["/private"], options: .init(maxSize: 1024, depth: .infinity))),
    P("a getmetadata (depth 1) \"\" \"/shared/vendor/x\"",
      .getMetadata(mailbox: "", entries: ["/shared/vendor/x"], options: .init(depth: .one))),
    P("a SETMETADATA INBOX (/private/comment \"My comment\")",
      .setMetadata(mailbox: "INBOX", entries: [MetadataEntry(name: "/private/comment", value: Array("My comment".utf8))])),
    P("a SETMETADATA \"\" (/shared/comment NIL /private/x {3}\r\nabc)",
      .setMetadata(mailbox: "", entries: [MetadataEntry(name: "/shared/comment", value: nil),
                                          MetadataEntry(name: "/private/x", value: Array("abc".utf8))])),
    P("a SETMETADATA INBOX (/private/bin ~{3}\r\na\0b)",
      .setMetadata(mailbox: "INBOX", entries: [MetadataEntry(name: "/private/bin", value: [0x61, 0, 0x62])])),
    P("a LIST \"\" % RETURN (METADATA (/shared/comment /private/comment))",
      .list(ListCommand(reference: "", patterns: ["%"], returnMetadata: ListMetadata(entries: ["/shared/comment", "/private/comment"])))),
    P("a APPEND Drafts CATENATE (URL \"/INBOX;UIDVALIDITY=7/;UID=20/;SECTION=HEADER\" TEXT {4}\r\nbody)",
      .append(mailbox: "Drafts", messages: [AppendMessage(data: [], catenate: [.url("/INBOX;UIDVALIDITY=7/;UID=20/;SECTION=HEADER"),
                                                                              .text(Array("body".utf8))])])),
    P("a APPEND Drafts (\\Seen) catenate (text {2}\r\nhi URL x) {2}\r\nyo",
      .append(mailbox: "Drafts", messages: [AppendMessage(flags: ["\\Seen"], data: [], catenate: [.text(Array("hi".utf8)), .url("x")]),
                                            AppendMessage(data: Array("yo".utf8))])),
    P("a NOTIFY NONE", .notify(nil)),
    P("a CANCELUPDATE \"t1\"", .cancelUpdate(["t1"])),
    P("a cancelupdate \"t1\" {2}\r\nt2", .cancelUpdate(["t1", "t2"])),
    P("a UID SEARCH RETURN (UPDATE) SUBJECT x", .search(SearchCommand(returnOptions: [.update], key: .subject("x")), uid: true)),
    P("a SEARCH RETURN (CONTEXT) ALL", .search(SearchCommand(returnOptions: [.context, .all], key: .all), uid: false)),
    P("a SORT RETURN (UPDATE COUNT) (DATE) UTF-8 ALL",
      .sort(SortCommand(returnOptions: [.update, .count], criteria: [SortCriterion(.date)], charset: "UTF-8", key: .all), uid: false)),
    P("a NOTIFY SET (SELECTED (MessageNew (UID BODY.PEEK[HEADER.FIELDS (From Subject)]) MessageExpunge)) (SUBTREE Lists (MessageNew MessageExpunge MailboxName))",
      .notify(NotifySet(groups: [
        NotifyGroup(.selected, [.messageNew([.uid, .bodySection(SectionSpec(kind: .headerFields(["from", "subject"])), partial: nil, peek: true)]), .messageExpunge]),
        NotifyGroup(.subtree(["Lists"]), [.messageNew([]), .messageExpunge, .mailboxName]),
      ]))),
    P("a notify set status (personal (flagchange messagenew messageexpunge)) (mailboxes (INBOX Sent) NONE) (SELECTED-DELAYED (X-Custom))",
      .notify(NotifySet(status: true, groups: [
        NotifyGroup(.personal, [.flagChange, .messageNew([]), .messageExpunge]),
        NotifyGroup(.mailboxes(["INBOX", "Sent"]), []),
        NotifyGroup(.selectedDelayed, [.other("X-Custom")]),
      ]))),
    P("a LIST \"\" * RETURN (CHILDREN METADATA (MAXSIZE 100 /shared/comment))",
      .list(ListCommand(reference: "", patterns: ["*"], returnOptions: ["CHILDREN"],
                        returnMetadata: ListMetadata(entries: ["/shared/comment"], maxSize: 100)))),
]

let extensionBadFixtures: [BadFixture] = [
    B("a COMPRESS", "Missing argument"),
    B("a COMPRESS ", "Missing compression mechanism"),
    B("a UNAUTHENTICATE now", "Unexpected characters at end of command"),
    B("a CANCELUPDATE", "Missing argument"),
    B("a CANCELUPDATE t1", "Expected a search tag string"),
    B("a CANCELUPDATE \"t1\" ", "Expected a search tag string"),
    B("a GETQUOTA", "Missing argument"),
    B("a GETQUOTAROOT", "Missing argument"),
    B("a SETQUOTA \"\"", "Missing argument"),
    B("a SETQUOTA \"\" (STORAGE)", "Expected a space"),
    B("a SETQUOTA \"\" (STORAGE x)", "Expected a number"),
    B("a SETQUOTA \"\" STORAGE 5", "Expected ("),
    B("a GETMETADATA INBOX", "Missing argument"),
    B("a GETMETADATA INBOX /comment", "Invalid metadata entry name"),
    B("a GETMETADATA INBOX \"/private/a*\"", "Invalid metadata entry name"),
    B("a GETMETADATA INBOX /private//a", "Invalid metadata entry name"),
    B("a GETMETADATA INBOX /private/a/", "Invalid metadata entry name"),
    B("a GETMETADATA (DEPTH 2) INBOX /private", "DEPTH is 0, 1 or infinity"),
    B("a GETMETADATA (FOO 1) INBOX /private", "Unknown GETMETADATA option FOO"),
    B("a GETMETADATA (DEPTH 1 DEPTH 0) INBOX /private", "Duplicate GETMETADATA option DEPTH"),
    B("a SETMETADATA INBOX /private/a \"x\"", "Expected ("),
    B("a SETMETADATA INBOX (/private/a)", "Expected a space"),
    B("a SETMETADATA INBOX (/private/a x)", "Expected a string or NIL"),
    B("a LIST \"\" % RETURN (METADATA ())", "Empty list"),
    B("a APPEND x CATENATE ()", "Empty list"),
    B("a NOTIFY", "Missing argument"),
    B("a NOTIFY SET", "Missing argument"),
    B("a NOTIFY GET", "Expected SET or NONE"),
    B("a NOTIFY SET (FOO (MailboxName))", "Unknown NOTIFY filter FOO"),
    B("a NOTIFY SET (PERSONAL ())", "Empty list"),
    B("a NOTIFY SET (SUBTREE (MailboxName))", "Expected a space"),
    B("a APPEND x CATENATE (TEXT \"hi\")", "TEXT needs a literal"),
    B("a APPEND x CATENATE (FILE {1}\r\nx)", "Unknown CATENATE part FILE"),
    B("a LIST \"\" % RETURN (METADATA (MAXSIZE 5))", "Missing metadata entry"),
]

/// RFC 5092 URLs as CATENATE takes them (RFC 4469 §5).
@Suite struct IMAPURLTests {
    @Test func absoluteRelativeAndSelectedMailboxForms() {
        #expect(IMAPMessageURL.parse("imap://bob;AUTH=*@mail.example.org/Sent%20Items;UIDVALIDITY=385759045/;UID=20/;SECTION=1.2/;PARTIAL=0.1024")
                == IMAPMessageURL(user: "bob", mailbox: "Sent Items", uidValidity: 385759045, uid: 20,
                                  section: SectionSpec(part: [1, 2]), partial: Partial(offset: 0, length: 1024)))
        #expect(IMAPMessageURL.parse("/INBOX/;uid=7") == IMAPMessageURL(mailbox: "INBOX", uid: 7))
        #expect(IMAPMessageURL.parse("/Caf%C3%A9/;UID=1/;SECTION=HEADER.FIELDS%20(SUBJECT)")
                == IMAPMessageURL(mailbox: "Café", uid: 1, section: SectionSpec(kind: .headerFields(["subject"]))))
        #expect(IMAPMessageURL.parse(";UID=3/;SECTION=TEXT") == IMAPMessageURL(mailbox: nil, uid: 3, section: SectionSpec(kind: .text)))
    }

    @Test func whatIsNotAMessageURLIsRefused() {
        for bad in ["", "/INBOX", "/INBOX/;UID=0", "/INBOX/;UID=x", "/INBOX;UIDVALIDITY=0/;UID=1", "/INBOX/;UID=1/;SECTION=FOO",
                    "/INBOX/;UID=1/;URLAUTH=anonymous", "/%ZZ/;UID=1", "/%FF/;UID=1", "imap://host", "/INBOX/;UID=1/;PARTIAL=5.0",
                    "/INBOX?SUBJECT%20x", "/INBOX/;UID=1/;PARTIAL=1/;SECTION=1", String(repeating: "a", count: 9000)] {
            #expect(IMAPMessageURL.parse(bad) == nil, "\(bad)")
        }
    }
}
