@testable import CairnClient
import NIOCore
import NIOPosix
import Testing

/// The gate between the client's event loop and the threads that schedule work on it: open, it
/// lets work through to the loop; closed (before the loop shuts down), it refuses, so that nothing
/// is scheduled on a loop that is gone (where NIO would drop it and a waiter would hang).
@Suite("The client's loop gate", .timeLimit(.minutes(1)))
struct ClientUnitLoopGateTests {
    @Test("while open, work from another thread runs on the loop and futures are waited for")
    func openGateLetsWorkThrough() async throws {
        let group = MultiThreadedEventLoopGroup(numberOfThreads: 1)
        let loop = group.next()
        let gate = LoopGate()
        #expect(try await gate.run(on: loop) { loop.inEventLoop })
        #expect(try await gate.value(of: loop.submit { 7 }) == 7)
        var ran = false
        #expect(gate.schedule(on: loop) { ran = true })
        #expect(ran)
        gate.close()
        try await group.shutdownGracefully()
    }

    @Test("once closed and the loop shut down: scheduling is refused, and waiting throws closed instead of hanging")
    func closedGateRefuses() async throws {
        let group = MultiThreadedEventLoopGroup(numberOfThreads: 1)
        let loop = group.next()
        let gate = LoopGate()
        let done = loop.makeSucceededFuture(1)
        gate.close()
        try await group.shutdownGracefully()

        #expect(gate.isClosed)
        var ran = false
        #expect(!gate.schedule(on: loop) { ran = true })
        #expect(!ran)
        let refusal = await #expect(throws: CairnClientError.self) { try await gate.run(on: loop) { 1 } }
        #expect(refusal?.code == .closed)
        let waitRefusal = await #expect(throws: CairnClientError.self) { try await gate.value(of: done) }
        #expect(waitRefusal?.code == .closed)
    }

    @Test("work already on the loop's thread passes even once the gate is closed (the loop is still running it)")
    func onTheLoopNeedsNoGate() async throws {
        let group = MultiThreadedEventLoopGroup(numberOfThreads: 1)
        let loop = group.next()
        let gate = LoopGate()
        gate.close()
        let passed = try await loop.submit { gate.schedule(on: loop) {} }.get()
        #expect(passed)
        try await group.shutdownGracefully()
    }
}
