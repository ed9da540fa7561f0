import Foundation

/// Progress of long work (import, export, backup, compact, check, reindex) on stderr.
///
/// On a terminal it is one line redrawn in place: `label [#####.....] done/total percent,
/// rate, ETA`. When stderr is not a terminal (a log, a pipe, cron) nothing is drawn while the
/// work runs, and `finish` writes one plain line, `label: 1080 messages in 0.4 s (2,700/s)`,
/// with no control characters.
///
/// `@unchecked Sendable`: every mutable field is touched only under `lock`.
final class ProgressBar: @unchecked Sendable {
    /// What `done` and `total` count.
    enum Unit: Sendable {
        case messages
        case bytes
    }

    private let label: String
    private let total: Int
    private let unit: Unit
    /// True when stderr is a terminal, where bars are drawn.
    static var isTerminal: Bool { isatty(STDERR_FILENO) != 0 }
    /// True when this bar is drawn.
    let isDrawing = ProgressBar.isTerminal
    private let lock = NSLock()
    private var lastDraw = 0.0
    private var done = 0
    private var messages: Int?
    private let start = Date().timeIntervalSinceReferenceDate
    /// Redraw at most this often, in seconds.
    static let interval = 0.1

    init(label: String, total: Int, unit: Unit = .messages) {
        self.label = label
        self.total = total
        self.unit = unit
    }

    /// Records progress: `done` in the bar's unit and, when that is bytes, the messages so far.
    func update(_ done: Int, messages: Int? = nil) {
        lock.withLock {
            self.done = done
            if let messages { self.messages = messages }
            guard isDrawing else { return }
            let now = Date().timeIntervalSinceReferenceDate
            guard now - lastDraw >= Self.interval || done >= total else { return }
            lastDraw = now
            let fraction = total > 0 ? min(1, Double(done) / Double(total)) : 1
            let width = 30
            let filled = Int(fraction * Double(width))
            let bar = String(repeating: "#", count: filled) + String(repeating: ".", count: width - filled)
            let rate = Double(done) / max(now - start, 0.001)
            let eta = rate > 0 ? Int(Double(max(total - done, 0)) / rate) : 0
            let count = messages.map { ", \($0) messages" } ?? ""
            FileHandle.standardError.write(Data(
                "\r\(label) [\(bar)] \(format(done))/\(format(total)) \(Int(fraction * 100))% \(format(Int(rate)))/s\(count) ETA \(eta / 60):\(String(format: "%02d", eta % 60)) ".utf8))
        }
    }

    /// Ends the work: completes the bar on a terminal, else writes the one summary line.
    /// `done` defaults to the total.
    func finish(_ done: Int? = nil, messages: Int? = nil) {
        update(done ?? total, messages: messages)
        lock.withLock {
            if isDrawing {
                FileHandle.standardError.write(Data("\n".utf8))
                return
            }
            let seconds = max(Date().timeIntervalSinceReferenceDate - start, 0.001)
            let rate = format(Int(Double(self.done) / seconds))
            let what = switch unit {
            case .messages: "\(self.done) messages"
            case .bytes: self.messages.map { "\($0) messages, \(format(self.done))" } ?? format(self.done)
            }
            let line = "\(label): \(what) in \(String(format: "%.1f", seconds)) s (\(rate)\(unit == .messages ? " messages" : "")/s)\n"
            FileHandle.standardError.write(Data(line.utf8))
        }
    }

    /// A count in the bar's unit: `1080 messages`, or bytes as `12.3 MB`.
    private func format(_ n: Int) -> String {
        switch unit {
        case .messages: "\(n)"
        case .bytes: n < 1_000_000 ? String(format: "%.1f kB", Double(n) / 1e3) : String(format: "%.1f MB", Double(n) / 1e6)
        }
    }
}

extension ProgressBar {
    /// Runs `work`, which blocks, off the calling task while the bar follows `done()`, for
    /// work that reports no progress of its own (an LMDB copy: the size of the file it writes).
    func follow<T: Sendable>(_ done: @escaping @Sendable () -> Int,
                             while work: @escaping @Sendable () throws -> T) async throws -> T {
        let task = Task.detached { try work() }
        let poll = Task.detached { [self] in
            while !Task.isCancelled {
                update(done())
                try? await Task.sleep(for: .milliseconds(100))
            }
        }
        defer { poll.cancel() }
        return try await task.value
    }
}
