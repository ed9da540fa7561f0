/// Messages to append to one mailbox in one change, made ready outside any transaction
/// together with their full-text segment. Building the segment is the costliest part of an
/// append; done here, it runs on the caller's task (in parallel with other work) and leaves
/// the single writer thread only bytes to store (`StoreWriter.append(to:_:)`).
public struct PreparedBatch: Sendable {
    /// One message of the batch, with what the store records beside its content.
    public struct Entry: Sendable {
        public var message: PreparedMessage
        public var flags: MessageFlags
        public var keywords: [String]
        /// The internal date; the time of the append when nil.
        public var internalDate: ZonedDate?

        public init(_ message: PreparedMessage, flags: MessageFlags = [], keywords: [String] = [],
                    internalDate: ZonedDate? = nil) {
            self.message = message
            self.flags = flags
            self.keywords = keywords
            self.internalDate = internalDate
        }
    }

    public let entries: [Entry]
    /// The entries' segment with entry `i` under UID `i`: the append shifts it onto the UIDs
    /// the entries get (`TextSegment.rebased`), which are consecutive.
    let segment: [UInt8]

    public init(_ entries: [Entry]) {
        self.entries = entries
        segment = TextSegment.build(entries.enumerated().map { (UInt32($0.offset), $0.element.message.terms) })
    }
}
