// libFuzzer entry point for the MailMessage module; built by fuzz-mailmessage.sh together with
// the module sources, so it sees internal API without @testable.

/// Feeds one input through every entry point that takes untrusted bytes, and checks invariants.
@_cdecl("LLVMFuzzerTestOneInput")
public func fuzzMailMessage(_ data: UnsafePointer<UInt8>?, _ size: Int) -> Int32 {
    let bytes = data.map { Array(UnsafeBufferPointer(start: $0, count: size)) } ?? []
    let message = ParsedMessage.parse(bytes)
    checkInvariants(message.root, count: bytes.count)
    precondition(message.size >= bytes.count)

    // Serialization must round-trip, and arbitrary bytes must never crash the decoder.
    let encoded = message.serialized()
    guard let decoded = try? ParsedMessage(serialized: encoded), decoded == message else {
        preconditionFailure("serialization round trip failed")
    }
    _ = try? ParsedMessage(serialized: bytes)

    // Section lookups, BINARY and search text work from the parsed result and the same bytes.
    for spec in [
        SectionSpec(), SectionSpec(kind: .header), SectionSpec(kind: .text),
        SectionSpec(part: [1]), SectionSpec(part: [1], kind: .mime), SectionSpec(part: [1, 1]),
        SectionSpec(part: [2, 1], kind: .headerFields(["subject", "from"])),
        SectionSpec(part: [1], kind: .headerFieldsNot(["to"])),
    ] {
        _ = message.sectionBytes(spec, in: bytes)
    }
    _ = try? message.binaryContent(at: [1], in: bytes)
    _ = message.searchText(in: bytes)

    // Header-value parsers on the raw input as well.
    if bytes.count < 4096 {
        let text = String(decoding: bytes, as: UTF8.self)
        _ = bytes.withUnsafeBufferPointer(AddressList.parse(_:))
        _ = EncodedWords.decode(text)
        _ = MessageDate(parsing: text)
        _ = ThreadingKeys.baseSubject(text)
        _ = HTMLText.strip(bytes)
        _ = TransferDecoding.quotedPrintable(bytes)
        _ = TransferDecoding.base64(bytes)
    }
    return 0
}

/// Every offset lies inside the input and parts nest inside their parents.
private func checkInvariants(_ part: MessagePart, count: Int) {
    precondition(part.headerRange.lowerBound >= 0 && part.headerRange.upperBound <= part.bodyRange.lowerBound)
    precondition(part.bodyRange.upperBound <= count)
    switch part.body {
    case .single:
        break
    case .multipart(let children):
        precondition(!children.isEmpty)
        for c in children {
            precondition(c.headerRange.lowerBound >= part.bodyRange.lowerBound && c.bodyRange.upperBound <= part.bodyRange.upperBound)
            checkInvariants(c, count: count)
        }
    case .message(_, let inner):
        precondition(inner.headerRange.lowerBound == part.bodyRange.lowerBound)
        checkInvariants(inner, count: count)
    }
}
