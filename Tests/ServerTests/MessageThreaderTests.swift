@testable import IMAPServer
import IMAPProtocol
import MailStore
import Testing

/// The THREAD algorithms and the ESORT set form on shapes too large for a transcript: every
/// walk must hold with deep threads (no recursion on the call stack) and stay near linear.
@Suite struct MessageThreaderTests {
    /// Row i (1-based) with Message-ID <i>, a parent when `parent` gives one, a sent date of i.
    static func rows(_ count: Int, subject: (Int) -> String = { _ in "" }, parent: (Int) -> Int?) -> [SortRow] {
        (1...count).map { i in
            var row = SortRow(seq: i, uid: UID(UInt32(i)))
            row.sentDate = Int64(i)
            row.subject = subject(i)
            row.messageID = "\(i)@x"
            row.references = parent(i).map { ["\($0)@x"] } ?? []
            return row
        }
    }

    static func threads(_ rows: [SortRow], _ algorithm: ThreadAlgorithm) -> String {
        var threader = MessageThreader(rows: rows, number: { UInt32($0.seq) })
        return threader.threads(algorithm)
    }

    @Test func longReplyChainIsOneThread() {
        let count = 100_000
        let answer = Self.threads(Self.rows(count) { $0 > 1 ? $0 - 1 : nil }, .references)
        #expect(answer == "(" + (1...count).map(String.init).joined(separator: " ") + ")")
    }

    /// A spine where each message has a reply on the spine and a leaf reply: nesting as deep as
    /// the mailbox is long, `(1 (2 (3 ...)(4))(5))`-like.
    @Test func deepBranchingThreadRenders() {
        let count = 20_001
        // Spine 1, 3, 5, ...; each even message is a leaf under the spine message before it.
        let answer = Self.threads(Self.rows(count) { $0 == 1 ? nil : ($0 % 2 == 0 ? $0 - 1 : $0 - 2) }, .references)
        #expect(answer.hasPrefix("(1 (2)(3 (4)(5 (6)(7 "))
        #expect(answer.filter { $0 == "(" }.count == answer.filter { $0 == ")" }.count)
        #expect(answer.hasSuffix("(20000)(20001)" + String(repeating: ")", count: 10_000)))
    }

    @Test func orderedSubjectGroupsEmptySubjectsToo() {
        let rows = Self.rows(5, subject: { $0 % 2 == 0 ? "b" : "" }) { _ in nil }
        #expect(Self.threads(rows, .orderedSubject) == "(1 (3)(5))(2 4)")
    }

    @Test(arguments: [
        ([4, 5, 2, 1, 3], "4:5,2,1,3"),
        ([1, 2, 3], "1:3"),
        ([9], "9"),
        ([], ""),
        ([7, 6, 5, 8, 9, 1], "7,6,5,8:9,1"),
    ] as [([UInt32], String)])
    func orderedSetKeepsTheOrder(_ numbers: [UInt32], _ expected: String) {
        #expect(IMAPHandler.orderedSet(numbers) == expected)
    }

    @Test func savedResultBecomesAUIDSet() {
        let set = SequenceSet.of([2, 3, 4, 9, 11, 12].map { UID($0) })
        #expect(set.ranges == [SequenceRange(.number(2), .number(4)), SequenceRange(.number(9), .number(9)),
                               SequenceRange(.number(11), .number(12))])
        #expect(SequenceSet.of([]).ranges.isEmpty)
        let key = SearchKey.and([.not(.sequenceSet(.savedResult)), .uid(.savedResult), .seen])
        #expect(key.resolvingSavedResult([UID(5)]) == .and([.not(.uid(SequenceSet([SequenceRange(.number(5))]))),
                                                           .uid(SequenceSet([SequenceRange(.number(5))])), .seen]))
    }
}
