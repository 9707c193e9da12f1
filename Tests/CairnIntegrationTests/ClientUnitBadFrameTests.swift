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
        try await server.waitForReports("an error frame from the client") { !$0.isEmpty }
        let report = try #require(server.errorReports.first)
        #expect(report.code == .unknownFrameKind)
        #expect(report.reason.contains("99"), "\(report.reason)")
        await client.close()
        await server.shutdown()
    }
}

/// A request too large for one frame is refused before any of it is sent.
@Suite("A request too large for a frame", .timeLimit(.minutes(1)))
struct ClientUnitRequestTooLargeTests {
    @Test("it fails with requestTooLarge, is never sent, and the connection goes on serving")
    func tooLarge() async throws {
        let server = try await FakeCairnServer { connection, stream, request in
            guard case .kvPut = request else { return }
            connection.send(stream, .kvPut(succeeded: true, index: 1))
        }
        let client = try server.client()
        let value = [UInt8](repeating: 7, count: Frame.defaultMaximumLength + 1)
        do {
            _ = try await client.put("big", value: value)
            Issue.record("a put above the frame limit was answered")
        } catch let error as CairnClientError {
            #expect(error.code == .requestTooLarge, "\(error)")
            #expect(error.reason.contains("exceeds the limit"), "\(error.reason)")
        }
        #expect(try await client.put("small", value: [1]) == (true, 1))
        #expect(server.requests.map(\.request) == [.kvPut(key: "small", value: [1], flags: 0, cas: nil)], "the large put never left")
        #expect(server.connectionsAccepted == 1, "the connection was kept")
        await client.close()
        await server.shutdown()
    }
}
