import Foundation

/// At most one model comparison runs at a time, whichever module's (all test targets run in one
/// process on machines with two cores, shared with the rest of the suite).
private let modelRuns = DispatchSemaphore(value: 1)

/// Runs CPU-bound test work on a thread of its own, never on Swift's cooperative pool (which the
/// asynchronous tests need meanwhile), one such run at a time; returns its result.
public func onDedicatedThread<T: Sendable>(_ body: @escaping @Sendable () throws -> T) async throws -> T {
    try await withCheckedThrowingContinuation { continuation in
        let thread = Thread {
            modelRuns.wait()
            defer { modelRuns.signal() }
            continuation.resume(with: Result { try body() })
        }
        thread.stackSize = 8 << 20
        thread.start()
    }
}
