import Foundation

extension Process {
    /// Starts the process and waits for it to exit without holding a thread (the tests share a
    /// few cooperative threads on two cores). After `seconds` it is killed (SIGKILL) and the
    /// result is nil. `afterStart` runs once the process has started (to feed its input).
    func runToExit(within seconds: Double, afterStart: () -> Void = {}) async throws -> Int32? {
        let exited = exitStatuses()
        try run()
        afterStart()
        return await waitForExit(exited, within: seconds)
    }

    /// SIGTERM, then waits up to `seconds` for the process to exit; its exit status, or nil when
    /// it had to be killed (SIGKILL). A process that already ended gives its status at once.
    func terminate(within seconds: Double) async -> Int32? {
        // The handler is set before the check: a process that exits in between still reports.
        let exited = exitStatuses()
        guard isRunning else { return terminationStatus }
        kill(processIdentifier, SIGTERM)
        return await waitForExit(exited, within: seconds)
    }

    /// The exit status, once the process has exited (sets `terminationHandler`).
    private func exitStatuses() -> AsyncStream<Int32> {
        AsyncStream<Int32> { continuation in
            terminationHandler = { continuation.yield($0.terminationStatus); continuation.finish() }
        }
    }

    /// The status from `exited`, or nil once `seconds` passed first (the process is then killed,
    /// and reaped before this returns).
    private func waitForExit(_ exited: AsyncStream<Int32>, within seconds: Double) async -> Int32? {
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
}
