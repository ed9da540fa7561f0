import Foundation
import Synchronization

/// The single writer thread. It takes every pending write, runs each in a nested transaction
/// of one commit, fsyncs once, and only then resumes the callers (group commit).
///
/// `@unchecked Sendable`: `queue` and `stopping` are only touched under `condition`; the
/// backend is itself Sendable and is only written from the writer thread.
final class GroupCommitWriter: @unchecked Sendable {
    /// The most writes folded into one commit, to bound a transaction's size.
    static let maxBatch = 1024
    /// How long the writer, finding no write after a commit, keeps looking before it sleeps. A
    /// caller that writes again at once (the next delivery of a connection) then finds it
    /// awake, instead of paying a thread wake-up on each side of every commit.
    static let idleSpin: Duration = .microseconds(200)

    struct Job {
        /// The change, given the commit's queue of messages for the full-text index, which
        /// the writer flushes once every change of the commit has run.
        let run: (any KVWriter, PendingIndex) throws -> Void
        /// Called on the writer thread once the commit is durable (or failed).
        let finish: ((any Error)?) -> Void
    }

    private let backend: any StorageBackend
    private let condition = NSCondition()
    private var queue: [Job] = []
    /// `queue.count`, readable without the lock, for the writer's idle spin.
    private let queued = Atomic<Int>(0)
    private var stopping = false
    /// The words of deferred messages, kept across commits (and read by searches).
    private let deferredTerms: DeferredTerms
    private var thread: Thread?
    private let stopped = DispatchSemaphore(value: 0)

    init(backend: any StorageBackend, deferredTerms: DeferredTerms) {
        self.backend = backend
        self.deferredTerms = deferredTerms
        let thread = Thread { [unowned self] in self.loop() }
        thread.name = "mstore-writer"
        thread.qualityOfService = .userInitiated
        self.thread = thread
        thread.start()
    }

    func submit(_ job: Job) {
        condition.lock()
        if stopping {
            condition.unlock()
            job.finish(MailStoreError.storage("store is closed"))
            return
        }
        queue.append(job)
        queued.add(1, ordering: .releasing)
        condition.signal()
        condition.unlock()
    }

    /// Finishes the queued writes, then stops the thread.
    func stop() {
        condition.lock()
        let wasStopping = stopping
        stopping = true
        condition.signal()
        condition.unlock()
        if !wasStopping { stopped.wait() }
    }

    private func loop() {
        while true {
            spinWhileIdle()
            condition.lock()
            while queue.isEmpty && !stopping { condition.wait() }
            if queue.isEmpty && stopping {
                condition.unlock()
                stopped.signal()
                return
            }
            let batch = Array(queue.prefix(Self.maxBatch))
            queue.removeFirst(batch.count)
            queued.subtract(batch.count, ordering: .relaxed)
            condition.unlock()

            do {
                let pending = PendingIndex(deferred: deferredTerms)
                let errors = try backend.commitGroup(
                    batch.map { job in { kv in try job.run(kv, pending) } },
                    start: { pending.reset() },
                    end: { kv in try StoreWriter(kv: kv, now: ZonedDate.now(), pending: pending).flushIndex() })
                for (mailbox, messages) in pending.messages { deferredTerms.add(mailbox, messages) }
                for (job, error) in zip(batch, errors) { job.finish(error) }
            } catch {
                for job in batch { job.finish(error) }
            }
        }
    }

    /// Waits up to `idleSpin` for a write to be queued, yielding the core meanwhile.
    private func spinWhileIdle() {
        let deadline = ContinuousClock.now + Self.idleSpin
        while queued.load(ordering: .acquiring) == 0 && ContinuousClock.now < deadline { sched_yield() }
    }
}
