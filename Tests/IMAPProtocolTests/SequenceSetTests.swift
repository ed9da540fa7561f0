import IMAPProtocol
import Testing

@Suite struct SequenceSetTests {
    @Test func savedResultIsDistinct() {
        #expect(SequenceSet.savedResult != SequenceSet([SequenceRange(.number(1))]))
        #expect(SequenceSet.savedResult.isSavedResult)
    }
}
