import NIOCore
import Synchronization

/// Runs Swift tasks on a NIO event loop: the thread that reads and writes the client's
/// connections. A task that prefers it (`withTaskExecutorPreference`, or
/// `TaskGroup.addTask(executorPreference:)`) sends a request and resumes with its answer on the
/// connection's own thread, without waking a thread of Swift's global pool in between.
///
/// Once the client is closed (its event loop shuts down) jobs go to Swift's global executor
/// instead, so a task that prefers this executor — even one awaiting `close()` — never hangs on
/// a loop that no longer runs anything.
///
/// Every job (each resumption of such a task) reads whether the loop is still in use: an atomic
/// load, not a lock.
final class EventLoopTaskExecutor: TaskExecutor, Sendable {
    let eventLoop: any EventLoop
    private let shutDown = Atomic(false)

    init(eventLoop: any EventLoop) {
        self.eventLoop = eventLoop
    }

    /// From now on, jobs run on the global executor. Call before shutting the event loop down.
    func stopUsingEventLoop() {
        shutDown.store(true, ordering: .releasing)
    }

    func enqueue(_ job: consuming ExecutorJob) {
        if shutDown.load(ordering: .acquiring) {
            globalConcurrentExecutor.enqueue(job)
            return
        }
        let job = UnownedJob(job)
        eventLoop.execute {
            job.runSynchronously(on: self.asUnownedTaskExecutor())
        }
    }
}
