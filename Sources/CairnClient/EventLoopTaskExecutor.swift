import NIOCore

/// Runs Swift tasks on a NIO event loop: the thread that reads and writes the client's
/// connections. A task that prefers it (`withTaskExecutorPreference`, or
/// `TaskGroup.addTask(executorPreference:)`) sends a request and resumes with its answer on the
/// connection's own thread, without waking a thread of Swift's global pool in between.
///
/// Once the client is closed (its event loop shuts down) jobs go to Swift's global executor
/// instead, so a task that prefers this executor — even one awaiting `close()` — never hangs on
/// a loop that no longer runs anything.
///
/// A job enqueued from the loop's own thread (a task resumed by an answer that arrived there:
/// the common case) is appended to the loop's queue directly; one from another thread goes
/// through the client's ``LoopGate``.
final class EventLoopTaskExecutor: TaskExecutor, Sendable {
    let eventLoop: any EventLoop
    private let gate: LoopGate

    init(eventLoop: any EventLoop, gate: LoopGate) {
        self.eventLoop = eventLoop
        self.gate = gate
    }

    func enqueue(_ job: consuming ExecutorJob) {
        let job = UnownedJob(job)
        let loop = eventLoop
        let scheduled = gate.schedule(on: loop) {
            loop.execute { job.runSynchronously(on: self.asUnownedTaskExecutor()) }
        }
        if !scheduled { globalConcurrentExecutor.enqueue(ExecutorJob(job)) }
    }
}
