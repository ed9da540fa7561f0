/// A set of UIDs below a bound, one bit each: what index lookups produce and combine.
struct UIDBitmap: Equatable {
    private(set) var words: [UInt64]
    /// UIDs are below this.
    let universe: UInt32

    init(universe: UInt32) {
        self.universe = universe
        words = [UInt64](repeating: 0, count: (Int(universe) + 63) / 64)
    }

    /// Every UID in `ranges` (clamped to the universe).
    init(universe: UInt32, ranges: [ClosedRange<UInt32>]) {
        self.init(universe: universe)
        for r in ranges where r.lowerBound < universe {
            for uid in r.lowerBound...min(r.upperBound, universe - 1) { insert(uid) }
        }
    }

    @inline(__always)
    mutating func insert(_ uid: UInt32) {
        guard uid < universe else { return }
        words[Int(uid >> 6)] |= 1 << UInt64(uid & 63)
    }

    @inline(__always)
    func contains(_ uid: UInt32) -> Bool {
        uid < universe && words[Int(uid >> 6)] & (1 << UInt64(uid & 63)) != 0
    }

    mutating func formIntersection(_ other: UIDBitmap) {
        for i in words.indices { words[i] &= i < other.words.count ? other.words[i] : 0 }
    }

    mutating func formUnion(_ other: UIDBitmap) {
        for i in words.indices where i < other.words.count { words[i] |= other.words[i] }
    }

    /// The members, ascending.
    var elements: [UInt32] {
        var result: [UInt32] = []
        result.reserveCapacity(count)
        forEach { result.append($0); return true }
        return result
    }

    var count: Int { words.reduce(0) { $0 + $1.nonzeroBitCount } }

    /// Calls `body` with each UID in ascending order; `body` returns false to stop.
    func forEach(_ body: (UInt32) throws -> Bool) rethrows {
        for (i, word) in words.enumerated() where word != 0 {
            var w = word
            while w != 0 {
                let bit = UInt32(w.trailingZeroBitCount)
                if try !body(UInt32(i) << 6 | bit) { return }
                w &= w - 1
            }
        }
    }
}
