import Foundation

/// A thread of its own that runs one job at a time for a ``RaftReplica``: a leader's log writes
/// (`pwrite` + `fdatasync`), so that the replica's thread keeps stepping messages — its followers'
/// acknowledgements among them — while its own disk works.
///
/// The owner hands it a job with ``run(_:)`` only while it is idle, and learns that the job has
/// finished either from `onFinish` (called on the writer's thread after each job, to wake the
/// owner's thread) or by waiting with ``waitUntilIdle()``. Finishing a job and returning from
/// `waitUntilIdle` or seeing ``isIdle`` true go through the same lock, so whatever the job wrote
/// is visible to the owner afterwards.
final class LogWriter: @unchecked Sendable {
    private let condition = NSCondition()
    /// The job taken and not finished (guarded by `condition`).
    private var job: (@Sendable () -> Void)?
    private var stopping = false
    private var exited = false
    private let onFinish: @Sendable () -> Void

    /// Starts the thread, named `name`.
    init(name: String, onFinish: @escaping @Sendable () -> Void) {
        self.onFinish = onFinish
        let thread = Thread { [self] in work() }
        thread.name = name
        thread.start()
    }

    /// Runs `job` on the writer's thread. Precondition: the writer is idle.
    func run(_ job: @escaping @Sendable () -> Void) {
        condition.lock()
        precondition(self.job == nil && !stopping, "LogWriter.run while a job is in flight or after stop")
        self.job = job
        condition.unlock()
        // Woken after the unlock, the writer does not start by waiting for the lock its waker
        // still holds (a futex wait and wake more per write).
        condition.signal()
    }

    /// Whether no job is in flight.
    var isIdle: Bool {
        condition.lock()
        defer { condition.unlock() }
        return job == nil
    }

    /// Blocks until no job is in flight.
    func waitUntilIdle() {
        condition.lock()
        while job != nil { condition.wait() }
        condition.unlock()
    }

    /// Lets the job in flight (if any) finish, then ends the thread and waits for it.
    func stop() {
        condition.lock()
        stopping = true
        condition.broadcast()
        while !exited { condition.wait() }
        condition.unlock()
    }

    private func work() {
        condition.lock()
        while true {
            while job == nil && !stopping { condition.wait() }
            guard let next = job else { break }
            condition.unlock()
            next()
            condition.lock()
            job = nil
            condition.broadcast()
            condition.unlock()
            onFinish()
            condition.lock()
        }
        exited = true
        condition.broadcast()
        condition.unlock()
    }
}
