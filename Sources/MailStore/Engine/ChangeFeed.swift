import Foundation

/// Delivers `StoreEvent`s to subscribers: at once for this process's commits, and by polling
/// the backend's commit sequence for other processes' commits (such as `mstore deliver`
/// while `mstored` runs).
///
/// `@unchecked Sendable`: all mutable state is guarded by `lock`.
final class ChangeFeed: @unchecked Sendable {
    private let lock = NSLock()
    private var subscribers: [AccountID: [UInt64: AsyncStream<StoreEvent>.Continuation]] = [:]
    private var nextToken: UInt64 = 0
    /// The last HIGHESTMODSEQ and mailbox list announced, per mailbox and per account.
    private var known: [MailboxID: ModSeq] = [:]
    private var knownLists: [AccountID: [MailboxID: String]] = [:]
    private var polling = false
    private var lastSequence = 0

    weak var store: MailStore?
    let interval: Duration

    init(interval: Duration) { self.interval = interval }

    func subscribe(account: AccountID) -> AsyncStream<StoreEvent> {
        let (stream, continuation) = AsyncStream.makeStream(of: StoreEvent.self, bufferingPolicy: .bufferingNewest(256))
        lock.lock()
        let token = nextToken
        nextToken += 1
        let firstForAccount = subscribers[account] == nil
        subscribers[account, default: [:]][token] = continuation
        let startPolling = !polling
        polling = true
        lock.unlock()
        continuation.onTermination = { [weak self] _ in self?.unsubscribe(account: account, token: token) }
        if firstForAccount { snapshot(account: account) }
        if startPolling { startPoller() }
        return stream
    }

    private func unsubscribe(account: AccountID, token: UInt64) {
        lock.lock()
        subscribers[account]?[token] = nil
        if subscribers[account]?.isEmpty == true { subscribers[account] = nil; knownLists[account] = nil }
        lock.unlock()
    }

    /// Records the current state of an account's mailboxes, so that only later changes are sent.
    private func snapshot(account: AccountID) {
        guard let store, let boxes = try? store.read({ try $0.mailboxes(of: account) }) else { return }
        lock.lock()
        for box in boxes { known[box.id] = max(known[box.id] ?? .zero, box.highestModSeq) }
        knownLists[account] = Dictionary(uniqueKeysWithValues: boxes.map { ($0.id, $0.name) })
        lock.unlock()
    }

    /// Sends events of a durable commit of this process.
    func publish(_ events: [StoreEvent]) {
        guard !events.isEmpty else { return }
        lock.lock()
        var deliveries: [(AsyncStream<StoreEvent>.Continuation, StoreEvent)] = []
        for event in dedupe(events) {
            if case .mailboxChanged(_, let mailbox, let modSeq) = event {
                if let k = known[mailbox], k >= modSeq { continue }
                known[mailbox] = modSeq
            }
            for c in (subscribers[event.account] ?? [:]).values { deliveries.append((c, event)) }
        }
        lock.unlock()
        for (c, e) in deliveries { c.yield(e) }
    }

    /// Keeps only the last `mailboxChanged` per mailbox and one of each list event.
    private func dedupe(_ events: [StoreEvent]) -> [StoreEvent] {
        var result: [StoreEvent] = []
        for e in events.reversed() {
            let duplicate = result.contains { other in
                switch (e, other) {
                case (.mailboxChanged(_, let a, _), .mailboxChanged(_, let b, _)): a == b
                default: e == other
                }
            }
            if !duplicate { result.append(e) }
        }
        return result.reversed()
    }

    private func startPoller() {
        Task.detached { [weak self] in
            while let self, self.pollOnce() {
                try? await Task.sleep(for: self.interval)
            }
        }
    }

    /// One poll: if anybody committed since the last look, compare each subscribed account's
    /// mailboxes with what was announced. Returns false once nobody listens.
    private func pollOnce() -> Bool {
        guard let store else { return false }
        lock.lock()
        let accounts = Array(subscribers.keys)
        if accounts.isEmpty { polling = false; lock.unlock(); return false }
        let sequence = store.backend.commitSequence
        let changed = sequence != lastSequence
        lastSequence = sequence
        lock.unlock()
        guard changed else { return true }
        var events: [StoreEvent] = []
        for account in accounts {
            guard let boxes = try? store.read({ try $0.mailboxes(of: account) }) else { continue }
            let list = Dictionary(uniqueKeysWithValues: boxes.map { ($0.id, $0.name) })
            lock.lock()
            if let previous = knownLists[account], previous != list { events.append(.mailboxListChanged(account: account)) }
            knownLists[account] = list
            lock.unlock()
            for box in boxes { events.append(.mailboxChanged(account: account, mailbox: box.id, modSeq: box.highestModSeq)) }
        }
        publish(events)
        return true
    }
}
