import Foundation
#if canImport(Glibc)
import Glibc
#endif

/// At most one model comparison runs at a time, whichever module's (all test targets run in one
/// process on machines with two cores, shared with the rest of the suite).
private let modelRuns = DispatchSemaphore(value: 1)

/// Runs a model comparison in the background (see ``inBackground(oneOf:_:)``), one at a time
/// across the whole suite; returns its result.
public func onDedicatedThread<T: Sendable>(_ body: @escaping @Sendable () throws -> T) async throws -> T {
    try await inBackground(oneOf: modelRuns) { try body() }
}

/// Runs `body` with everything it does between suspensions on a new thread at the lowest
/// scheduling priority, and returns its result. With `slots`, the thread first waits for one of
/// them (so that a sweep of many cases keeps to a few threads).
///
/// The whole suite runs in one process on machines with two cores, next to the agents the
/// integration tests start. Long computations must not starve them, nor the tests that wait on
/// them:
/// - the work never occupies one of Swift's cooperative threads, which every asynchronous test
///   needs to resume after each `await` (a test polling a cluster for its leader included);
/// - the thread runs at nice 19, so the kernel gives agents, NIO threads and the cooperative pool
///   the cores whenever they want them, and this work the rest. It takes the same CPU time either
///   way; it only yields first.
///
/// `body` stays in the calling test's task (it runs under a task executor preference), so
/// `#expect` and `#require` inside it are recorded against the test as usual.
public func inBackground<T, Failure: Error>(
    oneOf slots: DispatchSemaphore? = nil, _ body: () async throws(Failure) -> T
) async throws(Failure) -> T {
    let executor = BackgroundThreadExecutor(slots: slots)
    defer { executor.finish() }
    return try await withTaskExecutorPreference(executor, operation: body)
}

/// Whether the calling thread runs at the background priority ``inBackground(oneOf:_:)`` gives.
public var isOnBackgroundThread: Bool {
    #if os(Linux)
    return getpriority(__priority_which_t(PRIO_PROCESS.rawValue), 0) == BackgroundThreadExecutor.niceness
    #else
    return !Thread.isMainThread && Thread.current.threadPriority < 0.5
    #endif
}

/// A task executor that runs its jobs, in order, on one thread of its own at nice 19.
final class BackgroundThreadExecutor: TaskExecutor, @unchecked Sendable {
    static let niceness: Int32 = 19

    private let condition = NSCondition()
    private var jobs: [UnownedJob] = []
    private var finished = false

    init(slots: DispatchSemaphore?) {
        let thread = Thread { [self] in
            Self.lowerThisThreadsPriority()
            slots?.wait()
            defer { slots?.signal() }
            run()
        }
        thread.stackSize = 8 << 20
        thread.start()
    }

    func enqueue(_ job: consuming ExecutorJob) {
        let job = UnownedJob(job)
        condition.lock()
        if finished {
            condition.unlock()
            // The task has left `inBackground`; whatever it still schedules here runs on the
            // global executor rather than never.
            globalConcurrentExecutor.enqueue(ExecutorJob(job))
            return
        }
        jobs.append(job)
        condition.signal()
        condition.unlock()
    }

    /// No more work will come from `inBackground`'s body: the thread ends once its queue is empty.
    func finish() {
        condition.lock()
        finished = true
        condition.signal()
        condition.unlock()
    }

    private func run() {
        while true {
            condition.lock()
            while jobs.isEmpty && !finished { condition.wait() }
            if jobs.isEmpty {
                condition.unlock()
                return
            }
            let batch = jobs
            jobs.removeAll()
            condition.unlock()
            for job in batch { job.runSynchronously(on: asUnownedTaskExecutor()) }
        }
    }

    /// On Linux the nice value belongs to the thread: `who` 0 names the calling thread.
    private static func lowerThisThreadsPriority() {
        #if os(Linux)
        _ = setpriority(__priority_which_t(PRIO_PROCESS.rawValue), 0, niceness)
        #else
        Thread.current.threadPriority = 0.1
        #endif
    }
}
