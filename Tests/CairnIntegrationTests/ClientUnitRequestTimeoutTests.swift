import CairnClient
import CairnWire
import Foundation
import Testing

/// Requests that get no answer time out on their own deadlines, while the others on the same
/// connection are answered (a connection keeps one timer for all of its requests). Deadlines are
/// whole milliseconds, hence the 10 ms of slack.
@Suite("Request timeouts", .timeLimit(.minutes(1)))
struct ClientUnitRequestTimeoutTests {
    @Test("unanswered requests fail with timeout after their own deadline; answered ones succeed; later ones time out too")
    func timeouts() async throws {
        // Keys starting with "hold" are never answered.
        let server = try await FakeCairnServer { connection, stream, request in
            guard case .kvPut(let key, _, _, _) = request, !key.hasPrefix("hold") else { return }
            connection.send(stream, .kvPut(succeeded: true, index: 1))
        }
        let client = try server.client(requestTimeout: .milliseconds(400))
        let clock = ContinuousClock()
        let start = clock.now
        async let first = Self.timedOut(client, "hold-1", clock: clock)
        try await server.waitFor("the first held put") { $0.contains { $0.request == .kvPut(key: "hold-1", value: [1], flags: 0, cas: nil) } }
        try await Task.sleep(for: .milliseconds(150))
        let secondSent = clock.now
        async let second = Self.timedOut(client, "hold-2", clock: clock)
        // Answered while both wait.
        #expect(try await client.put("answered", value: [1]) == (true, 1))
        let (a, b) = try await (first, second)
        #expect(a - start >= .milliseconds(390), "the first timed out after \(a - start), before its deadline")
        #expect(b - secondSent >= .milliseconds(390), "the second timed out after \(b - secondSent), before its own deadline")
        #expect(b - secondSent < .seconds(10))
        // The timer is set again for a request sent after the others expired.
        let third = clock.now
        let c = try await Self.timedOut(client, "hold-3", clock: clock)
        #expect(c - third >= .milliseconds(390))
        await client.close()
        await server.shutdown()
    }

    /// Puts `key`; returns when it failed with `timeout` (an issue is recorded for anything else).
    static func timedOut(_ client: CairnClient, _ key: String, clock: ContinuousClock) async throws -> ContinuousClock.Instant {
        do {
            _ = try await client.put(key, value: [1])
            Issue.record("the put of \(key) was answered")
        } catch let error as CairnClientError {
            #expect(error.code == .timeout, "\(key): \(error)")
        }
        return clock.now
    }
}
