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
}
