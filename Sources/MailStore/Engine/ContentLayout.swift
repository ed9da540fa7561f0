/// How message content maps onto storage values.
///
/// LMDB keeps a value of up to about 2 KiB inside a shared leaf page, and puts anything larger
/// into whole 4 KiB overflow pages, each run of which carries a 16-byte header. So a 4,096-byte
/// value costs two pages. Content is cut into pieces that either fit a leaf (small tails, which
/// then share pages with other messages' tails) or fill runs of overflow pages exactly.
enum ContentLayout {
    /// The storage page size.
    static let pageSize = 4096
    /// Bytes of an overflow run lost to its header.
    static let overflowHeader = 16
    /// The largest piece kept inside a leaf page (LMDB's node maximum for 4 KiB pages is 2,038
    /// bytes including the node header and a 10-byte key).
    static let inlineMax = 2000
    /// The longest overflow run per piece: 16 pages, 65,520 bytes.
    static let maxPagesPerChunk = 16

    /// The piece sizes for content of `size` bytes. Deterministic, so a reader can find the
    /// piece holding any offset.
    static func pieces(forSize size: Int) -> [Int] {
        var rest = size
        var pieces: [Int] = []
        while rest > 0 {
            let piece: Int
            if rest <= inlineMax {
                piece = rest
            } else if rest <= 2 * inlineMax {
                piece = (rest + 1) / 2
            } else {
                let pages = min(maxPagesPerChunk, (rest + overflowHeader) / pageSize)
                piece = pages == 0 ? rest : pages * pageSize - overflowHeader
            }
            pieces.append(piece)
            rest -= piece
        }
        return pieces
    }
}
