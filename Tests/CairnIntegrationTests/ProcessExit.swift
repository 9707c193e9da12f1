import Foundation

extension Process {
    /// Starts the process and waits for it to exit without holding a thread (the tests share a
    /// few cooperative threads on two cores). After `seconds` it is killed (SIGKILL) and the
    /// result is nil. `afterStart` runs once the process has started (to feed its input).
    func runToExit(within seconds: Double, afterStart: () -> Void = {}) async throws -> Int32? {
        let exited = AsyncStream<Int32> { continuation in
            terminationHandler = { continuation.yield($0.terminationStatus); continuation.finish() }
        }
        try run()
        afterStart()
        let pid = processIdentifier
        return await withTaskGroup(of: Int32?.self) { group in
            group.addTask {
                for await status in exited { return status }
                return nil
            }
            group.addTask {
                try? await Task.sleep(for: .seconds(seconds))
                return nil
            }
            let first = await group.next()!
            if first == nil {
                kill(pid, SIGKILL)
                // The exit task ends once the killed process is reaped.
                _ = await group.next()
                return nil
            }
            group.cancelAll()
            return first
        }
    }

    /// SIGTERM, then waits up to `seconds` for the process to exit; its exit status, or nil when
    /// it had to be killed (SIGKILL). A process that already ended gives its status at once.
    func terminate(within seconds: Double) async -> Int32? {
        guard isRunning else { return terminationStatus }
        kill(processIdentifier, SIGTERM)
        let deadline = ContinuousClock.now + .seconds(seconds)
        while isRunning && ContinuousClock.now < deadline { try? await Task.sleep(for: .milliseconds(20)) }
        if isRunning {
            kill(processIdentifier, SIGKILL)
            return nil
        }
        return terminationStatus
    }
}
