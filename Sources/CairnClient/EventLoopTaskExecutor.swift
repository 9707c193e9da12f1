import NIOCore

/// Runs Swift tasks on a NIO event loop: the thread that reads and writes the client's
/// connections. A task that prefers it (`withTaskExecutorPreference`, or
/// `TaskGroup.addTask(executorPreference:)`) sends a request and resumes with its answer on the
/// connection's own thread, without waking a thread of Swift's global pool in between.
final class EventLoopTaskExecutor: TaskExecutor, @unchecked Sendable {
    let eventLoop: any EventLoop

    init(eventLoop: any EventLoop) {
        self.eventLoop = eventLoop
    }

    func enqueue(_ job: consuming ExecutorJob) {
        let job = UnownedJob(job)
        eventLoop.execute {
            job.runSynchronously(on: self.asUnownedTaskExecutor())
        }
    }
}
