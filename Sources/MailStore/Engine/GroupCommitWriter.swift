import Foundation

/// The single writer thread. It takes every pending write, runs each in a nested transaction
/// of one commit, fsyncs once, and only then resumes the callers (group commit).
///
/// `@unchecked Sendable`: `queue` and `stopping` are only touched under `condition`; the
/// backend is itself Sendable and is only written from the writer thread.
final class GroupCommitWriter: @unchecked Sendable {
    /// The most writes folded into one commit, to bound a transaction's size.
    static let maxBatch = 1024

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
    private var stopping = false
    private var thread: Thread?
    private let stopped = DispatchSemaphore(value: 0)

    init(backend: any StorageBackend) {
        self.backend = backend
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
            condition.lock()
            while queue.isEmpty && !stopping { condition.wait() }
            if queue.isEmpty && stopping {
                condition.unlock()
                stopped.signal()
                return
            }
            let batch = Array(queue.prefix(Self.maxBatch))
            queue.removeFirst(batch.count)
            condition.unlock()

            do {
                let pending = PendingIndex()
                let errors = try backend.commitGroup(
                    batch.map { job in { kv in try job.run(kv, pending) } },
                    start: { pending.reset() },
                    end: { kv in try StoreWriter(kv: kv, now: ZonedDate.now(), pending: pending).flushIndex() })
                for (job, error) in zip(batch, errors) { job.finish(error) }
            } catch {
                for job in batch { job.finish(error) }
            }
        }
    }
}
