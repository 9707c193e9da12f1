import CairnClient
import CairnWire
import Foundation
import Testing

/// What the client library does when the server breaks the wire protocol.
@Suite("A server that sends a bad frame", .timeLimit(.minutes(1)))
struct ClientUnitBadFrameTests {
    @Test("the request in flight fails, and the client tells the server what was wrong before closing")
    func badFrameFromServer() async throws {
        // A frame of kind 99, which version 1 does not define, in answer to every request.
        let undefinedKind: [UInt8] = [0, 0, 0, 10, 99, 0] + [UInt8](repeating: 0, count: 8)
        let server = try await FakeCairnServer { connection, _, _ in connection.sendRaw(undefinedKind) }
        let client = try server.client()
        await #expect(throws: CairnClientError.self) { _ = try await client.put("a", value: [1]) }
        let deadline = ContinuousClock.now + .seconds(10)
        while server.errorReports.isEmpty, ContinuousClock.now < deadline { try await Task.sleep(for: .milliseconds(10)) }
        let report = try #require(server.errorReports.first, "the client sent no error frame")
        #expect(report.code == .unknownFrameKind)
        #expect(report.reason.contains("99"), "\(report.reason)")
        await client.close()
        await server.shutdown()
    }
}
