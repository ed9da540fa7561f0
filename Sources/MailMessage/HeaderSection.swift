/// A parsed header section: the fields in order, duplicates kept, looked up without regard to case.
///
/// Raw UTF-8 in field values is accepted (RFC 6532); other 8-bit bytes are read as ISO-8859-1.
/// A header that does not end with a blank line runs to the end of the bytes.
public struct HeaderSection: Sendable, Equatable {
    /// The fields in the order they appear.
    public var fields: [HeaderField]

    /// Parses the header section at the start of `bytes`, stopping at the first blank line.
    public init(_ bytes: some Collection<UInt8>) {
        var fields = [HeaderField]()
        let work = { (buf: UnsafeBufferPointer<UInt8>) in
            _ = HeaderScanner.scan(buf, from: 0, to: buf.count) { raw in
                fields.append(HeaderField(buf, raw))
            }
        }
        if bytes.withContiguousStorageIfAvailable(work) == nil {
            Array(bytes).withUnsafeBufferPointer(work)
        }
        self.fields = fields
    }

    /// The fields named `name`, compared without regard to ASCII case, in order.
    public func fields(named name: String) -> [HeaderField] {
        let key = Bytes.lowercased(name.utf8)
        return fields.filter { Bytes.lowercased($0.name.utf8) == key }
    }

    /// The unfolded value of the first field named `name`, or nil.
    public func first(_ name: String) -> String? { fields(named: name).first?.value }

    /// The unfolded values of every field named `name`, in order.
    public func values(_ name: String) -> [String] { fields(named: name).map(\.value) }
}

/// One header field: its name, its raw folded value and where it lies in the parsed bytes.
public struct HeaderField: Sendable, Equatable {
    /// The field name as written.
    public var name: String
    /// The raw value after the colon, still folded, without the final line break.
    public var rawValue: [UInt8]
    /// The whole field, including its final line break, as offsets into the parsed bytes.
    public var range: Range<Int>

    init(_ buf: UnsafeBufferPointer<UInt8>, _ raw: RawField) {
        name = Bytes.string(buf, raw.name)
        rawValue = Array(buf[raw.value])
        range = raw.full
    }

    /// The unfolded value with surrounding WSP removed. RFC 5322 §2.2.3.
    public var value: String {
        rawValue.withUnsafeBufferPointer { Bytes.string(HeaderScanner.unfold($0, 0..<$0.count)) }
    }

    /// The unfolded value with RFC 2047 encoded words decoded.
    public var decodedValue: String { EncodedWords.decode(value) }
}
