import Dispatch
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
///
/// The hand-off is a semaphore, not a condition variable: a woken writer starts at once instead
/// of first taking back the condition's lock (which costs a system call more per write, since
/// the lock is taken back as if contended).
final class LogWriter: @unchecked Sendable {
    private let lock = NSLock()
    /// The job taken and not finished (guarded by `lock`).
    private var job: (@Sendable () -> Void)?
    private var stopping = false
    /// Owners blocked in ``waitUntilIdle()`` (guarded by `lock`).
    private var idleWaiters = 0
    /// Signalled once per job handed over, and once to stop.
    private let wake = DispatchSemaphore(value: 0)
    /// Signalled once per waiter when a job finishes.
    private let idle = DispatchSemaphore(value: 0)
    /// Signalled when the thread ends.
    private let exited = DispatchSemaphore(value: 0)
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
        lock.withLock {
            precondition(self.job == nil && !stopping, "LogWriter.run while a job is in flight or after stop")
            self.job = job
        }
        wake.signal()
    }

    /// Whether no job is in flight.
    var isIdle: Bool {
        lock.withLock { job == nil }
    }

    /// Blocks until no job is in flight.
    func waitUntilIdle() {
        let wait: Bool = lock.withLock {
            guard job != nil else { return false }
            idleWaiters += 1
            return true
        }
        if wait { idle.wait() }
    }

    /// Lets the job in flight (if any) finish, then ends the thread and waits for it. Later calls
    /// return at once.
    func stop() {
        let first: Bool = lock.withLock {
            defer { stopping = true }
            return !stopping
        }
        guard first else { return }
        wake.signal()
        exited.wait()
    }

    private func work() {
        while true {
            wake.wait()
            // A job, or the stop (which comes after any job in flight has finished: `run` is only
            // called while idle, and `stop` by the owner, not during a `run`).
            guard let next = lock.withLock({ job }) else { break }
            next()
            let waiters: Int = lock.withLock {
                job = nil
                defer { idleWaiters = 0 }
                return idleWaiters
            }
            for _ in 0..<waiters { idle.signal() }
            onFinish()
        }
        exited.signal()
    }
}
