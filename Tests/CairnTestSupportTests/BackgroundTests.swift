import CairnTestSupport
import Foundation
import Testing

@Suite("Running CPU-bound tests in the background")
struct BackgroundTests {
    struct Refused: Error, Equatable {}

    @Test("the body runs on a thread at the lowest priority, off the cooperative pool, and its result comes back")
    func runsInTheBackground() async {
        #expect(!isOnBackgroundThread)
        let (priority, sum) = await inBackground { (isOnBackgroundThread, (1...1_000).reduce(0, +)) }
        #expect(priority)
        #expect(sum == 500_500)
        // Work after an await inside the body stays there.
        let afterAwait = await inBackground { () async -> Bool in
            await Task.yield()
            return isOnBackgroundThread
        }
        #expect(afterAwait)
    }

    @Test("an error thrown by the body reaches the caller")
    func errorsPropagate() async {
        await #expect(throws: Refused()) {
            try await inBackground { () throws(Refused) -> Int in throw Refused() }
        }
        await #expect(throws: Refused()) {
            try await onDedicatedThread { () throws -> Int in throw Refused() }
        }
    }

    @Test("an expectation that fails inside the body is recorded against the test")
    func expectationsAreRecorded() async {
        await withKnownIssue("the body's failed expectation must reach this test") {
            await inBackground { #expect(Bool(false), "deliberately failing inside inBackground") }
        }
    }

    @Test("runs that share one slot never overlap")
    func slotsLimitConcurrency() async {
        let slot = DispatchSemaphore(value: 1)
        let state = Overlap()
        await withTaskGroup(of: Void.self) { group in
            for _ in 0..<4 {
                group.addTask {
                    await inBackground(oneOf: slot) {
                        state.enter()
                        // Enough work that unguarded runs on two cores would overlap.
                        var x: UInt64 = 1
                        for i in 0..<2_000_000 { x = x &* 6364136223846793005 &+ UInt64(i) }
                        state.leave(x)
                    }
                }
            }
        }
        #expect(state.maximum == 1)
        #expect(state.runs == 4)
    }

    final class Overlap: @unchecked Sendable {
        private let lock = NSLock()
        private var active = 0
        private(set) var maximum = 0
        private(set) var runs = 0
        private var sink: UInt64 = 0
        func enter() { lock.withLock { active += 1; maximum = max(maximum, active) } }
        func leave(_ value: UInt64) { lock.withLock { active -= 1; runs += 1; sink ^= value } }
    }
}
