import IMAPProtocol
import MailMessage
import TestSupport
import Testing

// Shorthands for building expected values.
func num(_ n: UInt32) -> SequenceRange { SequenceRange(.number(n)) }
func rng(_ a: UInt32, _ b: UInt32) -> SequenceRange { SequenceRange(.number(a), .number(b)) }
func seq(_ ranges: SequenceRange...) -> SequenceSet { SequenceSet(ranges) }
let star = SequenceNumber.last
func bytes(_ s: String) -> [UInt8] { Array(s.utf8) }

/// One parser fixture: wire text (without the final CRLF) and the expected result.
struct ParseFixture: Sendable, CustomTestStringConvertible {
    var input: [UInt8]
    var expected: Command
    var tag = "a"
    var testDescription: String { String(decoding: input.prefix(80), as: UTF8.self) }

    init(_ input: String, _ expected: Command, tag: String = "a") {
        self.input = Array(input.utf8)
        self.expected = expected
        self.tag = tag
    }
}

/// One refused command: wire text and the expected tag (nil when unreadable) and message.
struct BadFixture: Sendable, CustomTestStringConvertible {
    var input: [UInt8]
    var tag: String?
    var message: String?
    var testDescription: String { String(decoding: input.prefix(80), as: UTF8.self) }

    init(_ input: String, tag: String? = "a", _ message: String? = nil) {
        self.input = Array(input.utf8)
        self.tag = tag
        self.message = message
    }
    init(bytes: [UInt8], tag: String? = "a", _ message: String? = nil) {
        self.input = bytes
        self.tag = tag
        self.message = message
    }
}

func P(_ input: String, _ expected: Command, tag: String = "a") -> ParseFixture {
    ParseFixture(input, expected, tag: tag)
}
func B(_ input: String, tag: String? = "a", _ message: String? = nil) -> BadFixture {
    BadFixture(input, tag: tag, message)
}
func B(bytes: [UInt8], tag: String? = "a", _ message: String? = nil) -> BadFixture {
    BadFixture(bytes: bytes, tag: tag, message)
}

let msg = bytes("Subject: hi\r\n\r\nbody")

let fixturesAny: [ParseFixture] = [
    P("a CAPABILITY", .capability),
    P("A1 capability", .capability, tag: "A1"),
    P("x.y NOOP", .noop, tag: "x.y"),
    P("a] LOGOUT", .logout, tag: "a]"),
    P("a ID NIL", .id(nil)),
    P("a ID ()", .id([])),
    P(#"a ID ("name" "mutt" "version" NIL)"#, .id([IDField(name: "name", value: "mutt"), IDField(name: "version", value: nil)])),
    P("a ID ({4}\r\nname {3}\r\nfoo)", .id([IDField(name: "name", value: "foo")])),
]

let fixtures1: [ParseFixture] = [
    P("a STARTTLS", .starttls),
    P("a AUTHENTICATE plain", .authenticate(mechanism: "PLAIN", initialResponse: nil)),
    P("a AUTHENTICATE PLAIN AGJvYgBwYXNz", .authenticate(mechanism: "PLAIN", initialResponse: "AGJvYgBwYXNz")),
    P("a AUTHENTICATE PLAIN AGJvYgBwYXM=", .authenticate(mechanism: "PLAIN", initialResponse: "AGJvYgBwYXM=")),
    P("a AUTHENTICATE EXTERNAL =", .authenticate(mechanism: "EXTERNAL", initialResponse: "=")),
    P("a AUTHENTICATE SCRAM-SHA-256", .authenticate(mechanism: "SCRAM-SHA-256", initialResponse: nil)),
    P("a LOGIN bob secret", .login(user: "bob", password: "secret")),
    P(#"a login "bob smith" "p\"a\\ss""#, .login(user: "bob smith", password: #"p"a\ss"#)),
    P("a LOGIN {3}\r\nbob {6+}\r\nsecret", .login(user: "bob", password: "secret")),
    P("a LOGIN \"jos\u{e9}\" \"\u{1F600}\"", .login(user: "jos\u{e9}", password: "\u{1F600}")),
    P("a LOGIN bob {0}\r\n", .login(user: "bob", password: "")),
    P("a LOGIN b]ob p]w", .login(user: "b]ob", password: "p]w")),
]

let fixtures2: [ParseFixture] = [
    P("a ENABLE CONDSTORE", .enable(["CONDSTORE"])),
    P("a enable qresync utf8=accept", .enable(["QRESYNC", "UTF8=ACCEPT"])),
    P("a SELECT INBOX", .select(mailbox: "INBOX", readOnly: false, parameters: SelectParameters())),
    P("a select inbox", .select(mailbox: "inbox", readOnly: false, parameters: SelectParameters())),
    P(#"a EXAMINE "Sent Items""#, .select(mailbox: "Sent Items", readOnly: true, parameters: SelectParameters())),
    P("a SELECT INBOX (CONDSTORE)", .select(mailbox: "INBOX", readOnly: false, parameters: SelectParameters(condstore: true))),
    P("a SELECT INBOX (QRESYNC (67890007 20050715194045000))",
          .select(mailbox: "INBOX", readOnly: false, parameters: SelectParameters(
            qresync: QResyncParameters(uidValidity: 67890007, modSeq: 20050715194045000)))),
    P("a SELECT INBOX (QRESYNC (67890007 20050715194045000 41,43:211,214:541))",
          .select(mailbox: "INBOX", readOnly: false, parameters: SelectParameters(
            qresync: QResyncParameters(uidValidity: 67890007, modSeq: 20050715194045000,
                                       knownUIDs: seq(num(41), rng(43, 211), rng(214, 541)))))),
    P("a EXAMINE INBOX (QRESYNC (67890007 90060115194045000 1:29997 (5000,7500,9000,9990:9999 15000,22500,27000,29970,29973,29976:29979)))",
          .select(mailbox: "INBOX", readOnly: true, parameters: SelectParameters(
            qresync: QResyncParameters(uidValidity: 67890007, modSeq: 90060115194045000, knownUIDs: seq(rng(1, 29997)),
                                       sequenceMatch: (seq(num(5000), num(7500), num(9000), rng(9990, 9999)),
                                                       seq(num(15000), num(22500), num(27000), num(29970), num(29973), rng(29976, 29979))))))),
    P("a SELECT INBOX (QRESYNC (1 2 (1 5)) CONDSTORE)",
          .select(mailbox: "INBOX", readOnly: false, parameters: SelectParameters(
            condstore: true, qresync: QResyncParameters(uidValidity: 1, modSeq: 2, sequenceMatch: (seq(num(1)), seq(num(5))))))),
    P("a CREATE Archive", .create(mailbox: "Archive", specialUse: [])),
    P(#"a CREATE "Sent Mail" (USE (\Sent))"#, .create(mailbox: "Sent Mail", specialUse: [#"\Sent"#])),
    P(#"a CREATE x (use (\Junk \Trash))"#, .create(mailbox: "x", specialUse: [#"\Junk"#, #"\Trash"#])),
    P("a CREATE x (USE ())", .create(mailbox: "x", specialUse: [])),
    P("a DELETE foo/bar", .delete(mailbox: "foo/bar")),
    P("a RENAME old \"new name\"", .rename(from: "old", to: "new name")),
    P("a SUBSCRIBE &AOk-t&AOk-", .subscribe(mailbox: "&AOk-t&AOk-")),
    P("a UNSUBSCRIBE {3}\r\nfoo", .unsubscribe(mailbox: "foo")),
    P(#"a LIST "" *"#, .list(ListCommand(reference: "", patterns: ["*"]))),
    P(#"a LIST "" """#, .list(ListCommand(reference: "", patterns: [""]))),
    P("a LIST ~/Mail/ %", .list(ListCommand(reference: "~/Mail/", patterns: ["%"]))),
    P("a LIST \"\" INBOX.%.*", .list(ListCommand(reference: "", patterns: ["INBOX.%.*"]))),
    P(#"a LIST (SUBSCRIBED RECURSIVEMATCH SPECIAL-USE) "" (INBOX* "Sent*") RETURN (CHILDREN SUBSCRIBED SPECIAL-USE STATUS (MESSAGES UNSEEN))"#,
          .list(ListCommand(reference: "", patterns: ["INBOX*", "Sent*"],
                            selectionOptions: ["SUBSCRIBED", "RECURSIVEMATCH", "SPECIAL-USE"],
                            returnOptions: ["CHILDREN", "SUBSCRIBED", "SPECIAL-USE"],
                            returnStatus: [.messages, .unseen]))),
    P(#"a LIST () "" % RETURN ()"#, .list(ListCommand(reference: "", patterns: ["%"]))),
    P(#"a list "" % return (status (highestmodseq size))"#,
          .list(ListCommand(reference: "", patterns: ["%"], returnStatus: [.highestModSeq, .size]))),
    P(#"a LSUB "" *"#, .lsub(reference: "", pattern: "*")),
    P("a NAMESPACE", .namespace),
    P("a STATUS INBOX (MESSAGES UIDNEXT UIDVALIDITY UNSEEN DELETED SIZE RECENT HIGHESTMODSEQ APPENDLIMIT)",
          .status(mailbox: "INBOX", items: [.messages, .uidNext, .uidValidity, .unseen, .deleted, .size, .recent, .highestModSeq, .appendLimit])),
    P("a status inbox (messages)", .status(mailbox: "inbox", items: [.messages])),
    P("a APPEND INBOX {19}\r\nSubject: hi\r\n\r\nbody", .append(mailbox: "INBOX", messages: [AppendMessage(data: msg)])),
    P("a APPEND INBOX {19+}\r\nSubject: hi\r\n\r\nbody", .append(mailbox: "INBOX", messages: [AppendMessage(data: msg)])),
    P(#"a APPEND Drafts (\Seen \Draft $Forwarded) "17-Jul-1996 02:44:25 -0700" {19}"# + "\r\nSubject: hi\r\n\r\nbody",
          .append(mailbox: "Drafts", messages: [AppendMessage(
            flags: [#"\Seen"#, #"\Draft"#, "$Forwarded"],
            internalDate: IMAPDateTime(year: 1996, month: 7, day: 17, hour: 2, minute: 44, second: 25, zoneMinutes: -420),
            data: msg)])),
    P(#"a APPEND x " 1-Feb-2024 23:59:60 +0530" {19}"# + "\r\nSubject: hi\r\n\r\nbody",
          .append(mailbox: "x", messages: [AppendMessage(
            internalDate: IMAPDateTime(year: 2024, month: 2, day: 1, hour: 23, minute: 59, second: 60, zoneMinutes: 330),
            data: msg)])),
    P(#"a APPEND x () "1-feb-2024 00:00:00 +0000" {0}"# + "\r\n",
          .append(mailbox: "x", messages: [AppendMessage(
            internalDate: IMAPDateTime(year: 2024, month: 2, day: 1, hour: 0, minute: 0, second: 0, zoneMinutes: 0),
            data: [])])),
    P("a APPEND x ~{3}\r\na\u{0}b", .append(mailbox: "x", messages: [AppendMessage(data: [0x61, 0, 0x62], isBinary: true)])),
    P("a APPEND x (\\Seen) {1}\r\nA {2+}\r\nBC ~{1}\r\nD",
          .append(mailbox: "x", messages: [AppendMessage(flags: ["\\Seen"], data: [0x41]), AppendMessage(data: [0x42, 0x43]),
                                           AppendMessage(data: [0x44], isBinary: true)])),
    P("a IDLE", .idle),
]

let fixtures3: [ParseFixture] = [
    P("a CHECK", .check),
    P("a CLOSE", .close),
    P("a UNSELECT", .unselect),
    P("a EXPUNGE", .expunge(uids: nil)),
    P("a UID EXPUNGE 3000:3002", .expunge(uids: seq(rng(3000, 3002)))),
    P("a COPY 2:4 MEETING", .copy(seq(rng(2, 4)), mailbox: "MEETING", uid: false)),
    P("a uid copy 1:* \"Saved\"", .copy(seq(SequenceRange(.number(1), star)), mailbox: "Saved", uid: true)),
    P("a MOVE $ Trash", .move(.savedResult, mailbox: "Trash", uid: false)),
    P("a UID MOVE 42 Trash", .move(seq(num(42)), mailbox: "Trash", uid: true)),
    P("a COPY * x", .copy(seq(SequenceRange(star)), mailbox: "x", uid: false)),
    P("a COPY 5:2,4294967295 x", .copy(seq(rng(5, 2), num(4294967295)), mailbox: "x", uid: false)),
]

let fixtures4: [ParseFixture] = [
    P("a SEARCH ALL", .search(SearchCommand(key: .all), uid: false)),
    P("a SEARCH FLAGGED SINCE 1-Feb-1994 NOT FROM \"Smith\"",
          .search(SearchCommand(key: .and([.flagged, .since(IMAPDate(year: 1994, month: 2, day: 1)), .not(.from("Smith"))])), uid: false)),
    P("a UID SEARCH 1:100 UID 443:557", .search(SearchCommand(key: .and([.sequenceSet(seq(rng(1, 100))), .uid(seq(rng(443, 557)))])), uid: true)),
    P("a SEARCH RETURN (MIN COUNT) UNSEEN", .search(SearchCommand(returnOptions: [.min, .count], key: .unseen), uid: false)),
    P("a SEARCH RETURN () ALL", .search(SearchCommand(returnOptions: [.all], key: .all), uid: false)),
    P("a SEARCH RETURN (SAVE) $", .search(SearchCommand(returnOptions: [.save], key: .sequenceSet(.savedResult)), uid: false)),
    P("a UID SEARCH RETURN (PARTIAL 1:100) UNSEEN",
      .search(SearchCommand(returnOptions: [], partial: PartialRange(1, 100), key: .unseen), uid: true)),
    P("a SEARCH RETURN (COUNT PARTIAL -1:-50) ALL",
      .search(SearchCommand(returnOptions: [.count], partial: PartialRange(50, 1, fromEnd: true), key: .all), uid: false)),
    P("a UID SORT RETURN (PARTIAL 23500:24000 COUNT) (DATE) UTF-8 ALL",
      .sort(SortCommand(returnOptions: [.count], partial: PartialRange(23500, 24000), criteria: [SortCriterion(.date)],
                        charset: "UTF-8", key: .all), uid: true)),
    P("a UID FETCH 1:* (FLAGS) (PARTIAL -1:-30)",
      .fetch(seq(SequenceRange(.number(1), star)), [.flags], modifiers: FetchModifiers(partial: PartialRange(1, 30, fromEnd: true)), uid: true)),
    P("a SEARCH CHARSET UTF-8 TEXT {6}\r\nXXXXXX", .search(SearchCommand(charset: "UTF-8", key: .text("XXXXXX")), uid: false)),
    P("a SEARCH CHARSET \"utf-8\" SUBJECT \"caf\u{e9}\"", .search(SearchCommand(charset: "utf-8", key: .subject("caf\u{e9}")), uid: false)),
    P("a SEARCH OR FROM alice (TO bob CC carol)",
          .search(SearchCommand(key: .or(.from("alice"), .and([.to("bob"), .cc("carol")]))), uid: false)),
    P("a SEARCH OR OR SEEN DRAFT ANSWERED", .search(SearchCommand(key: .or(.or(.seen, .draft), .answered)), uid: false)),
    P("a SEARCH NOT NOT DELETED", .search(SearchCommand(key: .not(.not(.deleted))), uid: false)),
    P("a SEARCH ((SEEN))", .search(SearchCommand(key: .and([.and([.seen])])), uid: false)),
    P("a SEARCH HEADER Message-ID <a@b> BCC x BODY y",
          .search(SearchCommand(key: .and([.header("Message-ID", "<a@b>"), .bcc("x"), .body("y")])), uid: false)),
    P("a SEARCH HEADER X-Spam \"\"", .search(SearchCommand(key: .header("X-Spam", "")), uid: false)),
    P("a SEARCH BEFORE \"01-Jan-2000\" ON 31-Dec-1999 SENTBEFORE 2-Mar-2001 SENTON 3-Apr-2002 SENTSINCE 04-May-2003",
          .search(SearchCommand(key: .and([
            .before(IMAPDate(year: 2000, month: 1, day: 1)), .on(IMAPDate(year: 1999, month: 12, day: 31)),
            .sentBefore(IMAPDate(year: 2001, month: 3, day: 2)), .sentOn(IMAPDate(year: 2002, month: 4, day: 3)),
            .sentSince(IMAPDate(year: 2003, month: 5, day: 4))])), uid: false)),
    P("a SEARCH LARGER 10000 SMALLER 9223372036854775807",
          .search(SearchCommand(key: .and([.larger(10000), .smaller(Int(Int64.max))])), uid: false)),
    P("a SEARCH KEYWORD $Forwarded UNKEYWORD Junk", .search(SearchCommand(key: .and([.keyword("$Forwarded"), .unkeyword("Junk")])), uid: false)),
    P("a SEARCH ANSWERED DELETED DRAFT FLAGGED SEEN UNANSWERED UNDELETED UNDRAFT UNFLAGGED UNSEEN NEW OLD RECENT",
          .search(SearchCommand(key: .and([.answered, .deleted, .draft, .flagged, .seen, .unanswered, .undeleted,
                                           .undraft, .unflagged, .unseen, .new, .old, .recent])), uid: false)),
    P("a SEARCH MODSEQ 620162338", .search(SearchCommand(key: .modSeq(620162338)), uid: false)),
    P(#"a SEARCH MODSEQ "/flags/\\draft" all 620162338"#, .search(SearchCommand(key: .modSeq(620162338)), uid: false)),
    P("a SEARCH MODSEQ 0", .search(SearchCommand(key: .modSeq(0)), uid: false)),
    P("a SEARCH OLDER 3600 YOUNGER 60", .search(SearchCommand(key: .and([.older(3600), .younger(60)])), uid: false)),
    P("a SEARCH EMAILID M1f THREADID T2", .search(SearchCommand(key: .and([.emailID("M1f"), .threadID("T2")])), uid: false)),
    P("a SEARCH SAVEDBEFORE 1-Feb-2024 SAVEDON 2-Feb-2024 SAVEDSINCE 3-Feb-2024 SAVEDATESUPPORTED",
      .search(SearchCommand(key: .and([.savedBefore(IMAPDate(year: 2024, month: 2, day: 1)), .savedOn(IMAPDate(year: 2024, month: 2, day: 2)),
                                      .savedSince(IMAPDate(year: 2024, month: 2, day: 3)), .saveDateSupported])), uid: false)),
    P("a STATUS INBOX (MAILBOXID)", .status(mailbox: "INBOX", items: [.mailboxID])),
    P("a REPLACE 3 Drafts (\\Draft) {5}\r\nhello", .replace(3, mailbox: "Drafts", message: AppendMessage(flags: ["\\Draft"], data: Array("hello".utf8)), uid: false)),
    P("a UID REPLACE 7 INBOX {2}\r\nhi", .replace(7, mailbox: "INBOX", message: AppendMessage(data: Array("hi".utf8)), uid: true)),
    P("a APPEND INBOX UTF8 (~{2}\r\nhi)", .append(mailbox: "INBOX", messages: [AppendMessage(data: Array("hi".utf8), isBinary: true)])),
    P("a search text hello to x", .search(SearchCommand(key: .and([.text("hello"), .to("x")])), uid: false)),
    P("a SEARCH 2,4:* $", .search(SearchCommand(key: .and([.sequenceSet(seq(num(2), SequenceRange(.number(4), star))), .sequenceSet(.savedResult)])), uid: false)),
]

let fixtures5: [ParseFixture] = [
    P("a FETCH 1 ALL", .fetch(seq(num(1)), [.flags, .internalDate, .rfc822Size, .envelope], modifiers: FetchModifiers(), uid: false)),
    P("a FETCH 1 fast", .fetch(seq(num(1)), [.flags, .internalDate, .rfc822Size], modifiers: FetchModifiers(), uid: false)),
    P("a FETCH 1 FULL", .fetch(seq(num(1)), [.flags, .internalDate, .rfc822Size, .envelope, .body], modifiers: FetchModifiers(), uid: false)),
    P("a FETCH 1:* FLAGS", .fetch(seq(SequenceRange(.number(1), star)), [.flags], modifiers: FetchModifiers(), uid: false)),
    P("a FETCH 2:4 (FLAGS BODY[HEADER.FIELDS (DATE FROM)])",
          .fetch(seq(rng(2, 4)), [.flags, .bodySection(SectionSpec(kind: .headerFields(["date", "from"])), partial: nil, peek: false)],
                 modifiers: FetchModifiers(), uid: false)),
    P("a UID FETCH 1:* (UID RFC822.SIZE FLAGS BODY.PEEK[HEADER.FIELDS.NOT (Received \"X-Spam\")]<0.1024>)",
          .fetch(seq(SequenceRange(.number(1), star)), [
            .uid, .rfc822Size, .flags,
            .bodySection(SectionSpec(kind: .headerFieldsNot(["received", "x-spam"])), partial: Partial(offset: 0, length: 1024), peek: true)],
                 modifiers: FetchModifiers(), uid: true)),
    P("a FETCH 1 (BODY[] BODY[TEXT] BODY[HEADER] BODY[1] BODY[1.2.3] BODY[1.MIME] BODY[2.HEADER] BODY[3.1.TEXT] BODY[4.HEADER.FIELDS (A)])",
          .fetch(seq(num(1)), [
            .bodySection(SectionSpec(), partial: nil, peek: false),
            .bodySection(SectionSpec(kind: .text), partial: nil, peek: false),
            .bodySection(SectionSpec(kind: .header), partial: nil, peek: false),
            .bodySection(SectionSpec(part: [1]), partial: nil, peek: false),
            .bodySection(SectionSpec(part: [1, 2, 3]), partial: nil, peek: false),
            .bodySection(SectionSpec(part: [1], kind: .mime), partial: nil, peek: false),
            .bodySection(SectionSpec(part: [2], kind: .header), partial: nil, peek: false),
            .bodySection(SectionSpec(part: [3, 1], kind: .text), partial: nil, peek: false),
            .bodySection(SectionSpec(part: [4], kind: .headerFields(["a"])), partial: nil, peek: false)],
                 modifiers: FetchModifiers(), uid: false)),
    P("a FETCH 1 BODY[]<100.200>", .fetch(seq(num(1)), [.bodySection(SectionSpec(), partial: Partial(offset: 100, length: 200), peek: false)], modifiers: FetchModifiers(), uid: false)),
    P("a FETCH 1 (BODY BODYSTRUCTURE ENVELOPE INTERNALDATE RFC822 RFC822.HEADER RFC822.TEXT MODSEQ EMAILID THREADID SAVEDATE)",
          .fetch(seq(num(1)), [.body, .bodyStructure, .envelope, .internalDate, .rfc822, .rfc822Header, .rfc822Text, .modSeq, .emailID, .threadID, .saveDate],
                 modifiers: FetchModifiers(), uid: false)),
    P("a FETCH 1 (BINARY[1.2] BINARY.PEEK[]<0.10> BINARY.SIZE[3] BINARY[])",
          .fetch(seq(num(1)), [.binary(part: [1, 2], partial: nil, peek: false), .binary(part: [], partial: Partial(offset: 0, length: 10), peek: true),
                               .binarySize(part: [3]), .binary(part: [], partial: nil, peek: false)], modifiers: FetchModifiers(), uid: false)),
    P("a FETCH 1 (PREVIEW PREVIEW (LAZY) FLAGS)", .fetch(seq(num(1)), [.preview(lazy: false), .preview(lazy: true), .flags], modifiers: FetchModifiers(), uid: false)),
    P("a FETCH 1 PREVIEW (LAZY)", .fetch(seq(num(1)), [.preview(lazy: true)], modifiers: FetchModifiers(), uid: false)),
    P("a FETCH 1 PREVIEW (CHANGEDSINCE 5)", .fetch(seq(num(1)), [.preview(lazy: false)], modifiers: FetchModifiers(changedSince: 5), uid: false)),
    P("a FETCH 1:* (FLAGS) (CHANGEDSINCE 12345)", .fetch(seq(SequenceRange(.number(1), star)), [.flags], modifiers: FetchModifiers(changedSince: 12345), uid: false)),
    P("a UID FETCH 300:500 (FLAGS) (CHANGEDSINCE 12345 VANISHED)",
          .fetch(seq(rng(300, 500)), [.flags], modifiers: FetchModifiers(changedSince: 12345, vanished: true), uid: true)),
    P("a fetch 1 body.peek[header.fields (subject)]", .fetch(seq(num(1)), [.bodySection(SectionSpec(kind: .headerFields(["subject"])), partial: nil, peek: true)], modifiers: FetchModifiers(), uid: false)),
]

let fixtures6: [ParseFixture] = [
    P(#"a STORE 2:4 +FLAGS (\Deleted)"#, .store(seq(rng(2, 4)), StoreAction(operation: .add, flags: [#"\Deleted"#]), uid: false)),
    P(#"a STORE 1 FLAGS.SILENT (\Seen $Label1)"#, .store(seq(num(1)), StoreAction(operation: .replace, silent: true, flags: [#"\Seen"#, "$Label1"]), uid: false)),
    P(#"a UID STORE 1 -FLAGS \Seen \Flagged"#, .store(seq(num(1)), StoreAction(operation: .remove, flags: [#"\Seen"#, #"\Flagged"#]), uid: true)),
    P("a STORE 1 FLAGS ()", .store(seq(num(1)), StoreAction(operation: .replace, flags: []), uid: false)),
    P(#"a STORE 7,5,9 (UNCHANGEDSINCE 320162338) +flags.silent (\Deleted)"#,
          .store(seq(num(7), num(5), num(9)), StoreAction(operation: .add, silent: true, flags: [#"\Deleted"#], unchangedSince: 320162338), uid: false)),
    P(#"a STORE 1 (UNCHANGEDSINCE 0) FLAGS \Answered"#,
          .store(seq(num(1)), StoreAction(operation: .replace, flags: [#"\Answered"#], unchangedSince: 0), uid: false)),
]

let parseFixtures: [ParseFixture] = fixturesAny + fixtures1 + fixtures2 + fixtures3 + fixtures4 + fixtures5 + fixtures6
    + extensionFixtures + sortFixtures

let badFixtures: [BadFixture] = extensionBadFixtures + sortBadFixtures + [
    B("", tag: nil, "Missing or invalid tag"),
    B(" NOOP", tag: nil),
    B("a+ NOOP", tag: nil, "Invalid tag"),
    B("a\u{e9} NOOP", tag: nil, "Invalid tag"),
    B("a(b NOOP", tag: nil, "Invalid tag"),
    B("{3} NOOP", tag: nil),
    B("(a NOOP", tag: nil),
    B("a", "Missing argument"),
    B("a ", "Missing command"),
    B("a FOO", "Unknown command FOO"),
    B("a NOOP extra", "Unexpected characters at end of command"),
    B("a NOOP ", "Unexpected characters at end of command"),
    B("a  NOOP", "Invalid command"),
    B("a LOGIN", "Missing argument"),
    B("a LOGIN bob", "Missing argument"),
    B("a LOGIN bob ", "Missing password"),
    B("a SELECT", "Missing argument"),
    B("a SELECT ", "Missing mailbox name"),
    B("a SELECT (", "Invalid mailbox name"),
    B("a SELECT INBOX (FOO)", "Unknown SELECT parameter FOO"),
    B("a SELECT INBOX ()", "Empty list"),
    B("a SELECT INBOX (QRESYNC (0 1))", "Number must not be zero"),
    B("a SELECT INBOX (QRESYNC (1 0))", "Number must not be zero"),
    B("a SELECT INBOX (QRESYNC (1 1) QRESYNC (1 1))", "Duplicate QRESYNC"),
    B("a LOGIN \"bob", "Unterminated quoted string"),
    B("a LOGIN \"b\\ob\" x", "Invalid escape in quoted string"),
    B("a LOGIN \"b\rob\" x", "Invalid character in quoted string"),
    B("a LOGIN {99999999999}\r\nx x", "Literal is shorter than announced"),
    B("a LOGIN {99999999999999999999999}\r\nx x", "Number too large"),
    B("a LOGIN {3}\r\nab", "Literal is shorter than announced"),
    B("a LOGIN {3}x\r\nabc x", "Literal must be followed by CRLF"),
    B("a LOGIN {3}\nabc x", "Literal must be followed by CRLF"),
    B("a LOGIN {3-}\r\nabc x", "Invalid literal"),
    B("a LOGIN ~{3}\r\nabc x", "literal8 is only allowed in APPEND"),
    B(bytes: bytes("a LOGIN {3}\r\na") + [0] + bytes("b x"), "NUL in literal"),
    B(bytes: bytes("a LOGIN \"\u{e9}\" x").map { $0 == 0xC3 ? 0xE9 : $0 }.filter { $0 != 0xA9 }, "Invalid UTF-8"),
    B("a FETCH 0 FLAGS", "Number must not be zero"),
    B("a FETCH 4294967296 FLAGS", "Number too large"),
    B("a FETCH 1:4294967296 FLAGS", "Number too large"),
    B("a FETCH 1, FLAGS", "Expected a number"),
    B("a FETCH FLAGS", "Invalid sequence set"),
    B("a FETCH 1 FOO", "Unknown fetch attribute FOO"),
    B("a FETCH 1 ()", "Empty list"),
    B("a FETCH 1 (FLAGS", "Expected )"),
    B("a FETCH 1 (ALL)", "Unknown fetch attribute ALL"),
    B("a SEARCH 2,$", "Expected a number"),
    B("a FETCH 1 BODY[MIME]", "MIME needs a part number"),
    B("a FETCH 1 BODY[0]", "Number must not be zero"),
    B("a FETCH 1 BODY[1.]", "Invalid section"),
    B("a FETCH 1 BODY[HEADER.FIELDS ()]", "Empty list"),
    B("a FETCH 1 BODY[HEADER.FIELDS]", "Expected a space"),
    B("a FETCH 1 BODY[TEXT", "Expected ]"),
    B("a FETCH 1 BODY[]<0.0>", "Number must not be zero"),
    B("a FETCH 1 BODY[]<0>", "Invalid partial"),
    B("a FETCH 1 BODY.PEEK", "BODY.PEEK needs a section"),
    B("a FETCH 1 BINARY.SIZE", "Expected ["),
    B("a FETCH 1 BINARY[TEXT]", "Expected a number"),
    B("a FETCH 1 FLAGS (VANISHED)", "VANISHED needs UID FETCH and CHANGEDSINCE"),
    B("a UID FETCH 1 FLAGS (VANISHED)", "VANISHED needs UID FETCH and CHANGEDSINCE"),
    B("a FETCH 1 FLAGS (CHANGEDSINCE 0)", "Number must not be zero"),
    B("a FETCH 1 FLAGS (CHANGEDSINCE 9223372036854775808)", "Number too large"),
    B("a STORE 1 FLAGS", "Missing argument"),
    B("a STORE 1 XFLAGS (\\Seen)", "Unknown STORE action"),
    B("a STORE 1 +FLAGS (\\)", "Invalid flag"),
    B("a STORE 1 (UNCHANGEDSINCE) FLAGS ()", "Expected a space"),
    B("a SEARCH", "Missing argument"),
    B("a SEARCH ", "Missing search key"),
    B("a SEARCH FOO", "Unknown search key FOO"),
    B("a SEARCH ()", "Empty list"),
    B("a SEARCH (SEEN", "Expected )"),
    B("a SEARCH OR SEEN", "Missing argument"),
    B("a SEARCH SINCE 1-Foo-2000", "Invalid month"),
    B("a SEARCH SINCE 123-Feb-2000", "Invalid date"),
    B("a SEARCH SINCE 0-Feb-2000", "Invalid date"),
    B("a SEARCH SINCE 1-Feb-20", "Invalid date"),
    B("a SEARCH RETURN (FOO) ALL", "Unknown return option FOO"),
    B("a SEARCH RETURN (PARTIAL 1:10 ALL) ALL", "PARTIAL and ALL cannot go together"),
    B("a SEARCH RETURN (PARTIAL 1:-10) ALL", "Partial range bounds must have the same sign"),
    B("a SEARCH RETURN (PARTIAL 0:10) ALL", "Number must not be zero"),
    B("a SEARCH RETURN (PARTIAL 5) ALL", "Expected : in partial range"),
    B("a FETCH 1 FLAGS (PARTIAL 1:2 PARTIAL 1:2)", "Duplicate PARTIAL"),
    B("a SEARCH OLDER 0", "Number must not be zero"),
    B("a SEARCH LARGER 9223372036854775808", "Number too large"),
    B("a SEARCH MODSEQ \"/foo\" all 1", "Invalid MODSEQ entry name"),
    B("a SEARCH UID", "Missing argument"),
    B("a SEARCH UID x", "Invalid sequence set"),
    B("a APPEND INBOX", "Missing argument"),
    B("a APPEND INBOX (\\Seen)", "Missing argument"),
    B("a APPEND INBOX \"x\" {1}\r\na", "Invalid date"),
    B("a APPEND INBOX \"17-Jul-1996 25:44:25 -0700\" {1}\r\na", "Invalid date-time"),
    B("a APPEND INBOX \"17-Jul-1996 02:44:25 0700\" {1}\r\na", "Invalid time zone"),
    B("a APPEND INBOX foo", "Expected a message literal"),
    B("a APPEND INBOX {1}\r\na extra", "Expected a message literal"),
    B(bytes: bytes("a APPEND INBOX {3}\r\na") + [0] + bytes("b"), "NUL in message; send it as literal8"),
    B("a LIST", "Missing argument"),
    B("a LIST \"\"", "Missing argument"),
    B("a LIST (FOO) \"\" *", "Unknown LIST selection option FOO"),
    B("a LIST (RECURSIVEMATCH) \"\" *", "RECURSIVEMATCH needs another selection option"),
    B("a LIST \"\" * RETURN (FOO)", "Unknown LIST return option FOO"),
    B("a LIST \"\" * FOO", "Expected RETURN"),
    B("a LIST \"\" ()", "Empty list"),
    B("a STATUS INBOX ()", "Empty list"),
    B("a STATUS INBOX (FOO)", "Unknown status item FOO"),
    B("a STATUS INBOX MESSAGES", "Expected ("),
    B("a CREATE x (USE (Sent))", "Invalid special-use attribute"),
    B("a CREATE x (FOO)", "Unknown CREATE parameter FOO"),
    B("a ENABLE", "Missing argument"),
    B("a AUTHENTICATE", "Missing argument"),
    B("a AUTHENTICATE PLAIN ===", "Invalid base64"),
    B("a AUTHENTICATE PLAIN a$b", "Unexpected characters at end of command"),
    B("a ID (\"a\")", "Expected a space"),
    B("a ID (a b)", "Expected an ID field name"),
    B("a UID", "Missing argument"),
    B("a UID FOO 1", "Unknown UID command FOO"),
    B("a UID EXPUNGE", "Missing argument"),
    B("a COPY 1", "Missing argument"),
    B("a MOVE 1 ", "Missing mailbox name"),
    B("a FETCH " + Array(repeating: "1", count: IMAPLimits.maxSequenceRanges + 1).joined(separator: ",") + " FLAGS",
          "Too many ranges in sequence set"),
    B("a SEARCH " + String(repeating: "(", count: IMAPLimits.maxNestingDepth + 1) + "SEEN"
          + String(repeating: ")", count: IMAPLimits.maxNestingDepth + 1), "Nesting too deep"),
    B("a SEARCH " + String(repeating: "NOT ", count: 100_000) + "SEEN", "Nesting too deep"),
    B("a SEARCH " + String(repeating: "OR SEEN ", count: 100_000) + "SEEN", "Nesting too deep"),
    B("a SEARCH " + String(repeating: "(", count: 100_000), "Nesting too deep"),
]

@Suite struct CommandParserTests {
    @Test(arguments: parseFixtures)
    func parses(_ fixture: ParseFixture) throws {
        let result = CommandParser.parse(fixture.input)
        #expect(result == .success(TaggedCommand(tag: fixture.tag, command: fixture.expected)))
    }

    @Test(arguments: badFixtures)
    func refuses(_ fixture: BadFixture) {
        guard case .failure(let error) = CommandParser.parse(fixture.input) else {
            Issue.record("parsed: \(CommandParser.parse(fixture.input))")
            return
        }
        #expect(error.tag == fixture.tag)
        if let message = fixture.message { #expect(error.message == message) }
    }

    @Test func nestingAtTheLimitIsAccepted() {
        let depth = IMAPLimits.maxNestingDepth
        let input = "a SEARCH " + String(repeating: "(", count: depth) + "SEEN" + String(repeating: ")", count: depth)
        var expected = SearchKey.seen
        for _ in 0..<depth { expected = .and([expected]) }
        #expect(CommandParser.parse(bytes(input)) == .success(TaggedCommand(tag: "a", command: .search(SearchCommand(key: expected), uid: false))))
    }

    @Test func sequenceSetAtTheLimitIsAccepted() throws {
        let input = "a FETCH " + Array(repeating: "1", count: IMAPLimits.maxSequenceRanges).joined(separator: ",") + " FLAGS"
        guard case .success(let c) = CommandParser.parse(bytes(input)), case .fetch(let set, _, _, _) = c.command else {
            Issue.record("not parsed")
            return
        }
        #expect(set.ranges.count == IMAPLimits.maxSequenceRanges)
    }

    @Test func searchStringsDecodeFromTheCharset() {
        // "café" in ISO-8859-1, sent as a literal.
        let input = bytes("a SEARCH CHARSET ISO-8859-1 SUBJECT {4}\r\ncaf") + [0xE9]
        #expect(CommandParser.parse(input) == .success(TaggedCommand(
            tag: "a", command: .search(SearchCommand(charset: "ISO-8859-1", key: .subject("caf\u{e9}")), uid: false))))
    }

    /// Every prefix of every fixture, and every fixture with one byte changed, gives an answer.
    @Test func prefixesAndMutationsNeverTrap() {
        for fixture in parseFixtures where fixture.input.count < 400 {
            for n in 0...fixture.input.count {
                _ = CommandParser.parse(Array(fixture.input.prefix(n)))
            }
            for i in fixture.input.indices {
                for b: UInt8 in [0, 0x20, 0x22, 0x28, 0x29, 0x7B, 0x7D, 0x5B, 0x5D, 0x2A, 0xFF, 0x30, 0x5C, 0x0D] {
                    var mutated = fixture.input
                    mutated[i] = b
                    _ = CommandParser.parse(mutated)
                }
            }
        }
    }

    @Test func binaryJunkIsRefused() {
        var generator = SplitMix64(seed: 42)
        for _ in 0..<2000 {
            let count = Int(generator.next() % 200)
            let junk = (0..<count).map { _ in UInt8(truncatingIfNeeded: generator.next()) }
            if case .success = CommandParser.parse(junk) {
                // Junk may happen to parse; it must at least not trap.
                continue
            }
        }
        #expect(CommandParser.parse([0, 1, 2, 0xFF, 0xFE]).isFailure)
        #expect(CommandParser.parse(bytes("a FETCH 1 ") + [0xFF, 0x00]).isFailure)
    }
}

extension Result {
    var isFailure: Bool {
        if case .failure = self { return true }
        return false
    }
}
