@testable import CairnClient
import CairnWire
import NIOConcurrencyHelpers
import NIOCore
import NIOPosix
import Testing

/// A caller that needs a connection while another caller's dial is in progress shares that dial
/// (one handshake, not one each) — but waits for it no longer than its own time allows.
@Suite("Sharing a dial without outliving one's own deadline", .timeLimit(.minutes(1)))
struct ClientUnitDialDeadlineTests {
    @Test("a caller joining a slower dial gives up at its own deadline; the dial runs on and the lane moves on when it fails")
    func joinerKeepsItsOwnDeadline() async throws {
        let server = try await FakeCairnServer { connection, stream, request in
            if case .kvPut = request { connection.send(stream, .kvPut(succeeded: true, index: 1)) }
        }
        let silent = try await SilentListener()
        // The requests lane dials the silent listener first: TCP connects, TLS never answers.
        let client = try server.client(listing: [silent.address])

        let first = Task { try await client.currentConnection(.requests, timeout: .seconds(2)) }
        try await silent.waitForConnection()
        let joiner = await #expect(throws: CairnClientError.self) {
            try await client.currentConnection(.requests, timeout: .milliseconds(200))
        }
        #expect(joiner?.code == .timeout)
        #expect(joiner?.reason.contains("still in progress") == true, "gave up on its own, not with the dial: \(joiner?.reason ?? "")")
        #expect(silent.connectionsAccepted == 1, "the joiner did not dial again")

        // The dial itself ends at its own time, though the server never answered the handshake,
        // and the lane moves to the next server.
        let dialError = await #expect(throws: CairnClientError.self) { try await first.value }
        #expect(dialError?.code == .timeout)
        #expect(dialError?.reason.contains("no TLS handshake and preface within 2000 ms") == true, "\(dialError?.reason ?? "")")
        let put = try await client.put("k", value: [1])
        #expect(put == (true, 1))

        await client.close()
        await silent.shutdown()
        await server.shutdown()
    }

    @Test("the first of a task's result and a timeout: the result when the task ends first, nil when the time runs out first")
    func firstOfResultAndTimeout() async throws {
        let quick = Task<Int, any Error> { 7 }
        let quickOutcome = await CairnClient.result(of: quick, within: .seconds(30))
        #expect(try quickOutcome?.get() == 7)

        let failing = Task<Int, any Error> { throw CairnClientError(.unreachable, "no") }
        let failingOutcome = await CairnClient.result(of: failing, within: .seconds(30))
        #expect(throws: CairnClientError.self) { try failingOutcome?.get() }

        // Ends only when cancelled: the wait must end on its own, leaving the task running.
        let endless = Task<Int, any Error> {
            try await Task.sleep(for: .seconds(3600))
            return 1
        }
        let endlessOutcome = await CairnClient.result(of: endless, within: .milliseconds(50))
        #expect(endlessOutcome == nil)
        #expect(!endless.isCancelled, "waiting gave up without touching the task")
        endless.cancel()
        await #expect(throws: CancellationError.self) { try await endless.value }
    }
}

/// Accepts TCP connections and never answers: a dial to it hangs in the TLS handshake until
/// the dial's own time runs out.
private final class SilentListener: Sendable {
    let address: String
    private let group = MultiThreadedEventLoopGroup(numberOfThreads: 1)
    private let channel: any Channel
    private let accepted = NIOLockedValueBox(0)

    init() async throws {
        let accepted = accepted
        channel = try await ServerBootstrap(group: group)
            .serverChannelOption(.socketOption(.so_reuseaddr), value: 1)
            .childChannelInitializer { channel in
                accepted.withLockedValue { $0 += 1 }
                return channel.eventLoop.makeSucceededVoidFuture()
            }
            .bind(host: "127.0.0.1", port: 0).get()
        address = "127.0.0.1:\(channel.localAddress?.port ?? 0)"
    }

    var connectionsAccepted: Int { accepted.withLockedValue { $0 } }

    /// Polls until a connection was accepted, or 10 s pass.
    func waitForConnection() async throws {
        let deadline = ContinuousClock.now + .seconds(10)
        while ContinuousClock.now < deadline {
            if connectionsAccepted > 0 { return }
            try await Task.sleep(for: .milliseconds(5))
        }
        throw FixtureError("nothing connected to the silent listener at \(address)")
    }

    func shutdown() async {
        try? await channel.close()
        try? await group.shutdownGracefully()
    }
}
