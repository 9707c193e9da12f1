import CairnClient
import Foundation
import CairnWire
import NIOConcurrencyHelpers
import Testing

/// What a client does with the other requests in flight on a connection when one of them learns
/// that the server is not the leader.
@Suite("Leaving a server that is not the leader", .timeLimit(.minutes(1)))
struct ClientUnitLeaderRedirectTests {
    @Test("requests already in flight on the old connection still get their answers; the old connection closes once they have")
    func inFlightRequestsSurviveARedirect() async throws {
        // Connection 1 holds the put of "a", answers the put of "b" with "not the leader", and
        // only answers "a" once the client has moved "b" to connection 2.
        let held = NIOLockedValueBox<(FakeCairnServer.Connection, UInt64)?>(nil)
        let server = try await FakeCairnServer { connection, stream, request in
            guard case .kvPut(let key, _, _, _) = request else { return }
            switch (connection.number, key) {
            case (1, "a"):
                held.withLockedValue { $0 = (connection, stream) }
            case (1, _):
                connection.send(stream, .notLeader(leaderID: .none, leaderAddress: ""))
            default:
                connection.send(stream, .kvPut(succeeded: true, index: 7))
                if let (first, heldStream) = held.withLockedValue({ $0 }) {
                    first.send(heldStream, .kvPut(succeeded: true, index: 6))
                }
            }
        }
        let client = try server.client()
        async let a = client.put("a", value: [1])
        try await server.waitFor("the put of a") { $0.contains { $0.request == .kvPut(key: "a", value: [1], flags: 0, cas: nil) } }
        let b = try await client.put("b", value: [2])
        #expect(b == (true, 7))
        let first = try await a
        #expect(first == (true, 6), "not \"outcome unknown\": the old connection was left open for it")
        let puts = server.requests.map { ($0.connection, $0.request) }
        #expect(puts.filter { $0.0 == 2 }.count == 1, "b moved to a new connection; a was never sent twice")
        let oldConnection = try #require(held.withLockedValue { $0 }).0
        try await oldConnection.channel.closeFuture.get()
        await client.close()
        await server.shutdown()
    }

    @Test("requests and watches started together share one connection per lane instead of dialing one each")
    func concurrentStartsShareOneDial() async throws {
        let server = try await FakeCairnServer { connection, stream, request in
            switch request {
            case .kvPut: connection.send(stream, .kvPut(succeeded: true, index: 5))
            case .watch: connection.send(stream, .watchEvent(keyEvent(5, snapshot: true)))
            default: break
            }
        }
        let client = try server.client()
        try await withThrowingTaskGroup(of: Void.self) { group in
            for i in 0..<50 {
                group.addTask { _ = try await client.put("k\(i)", value: [1]) }
                group.addTask {
                    var events = client.watch(.key("w\(i)")).makeAsyncIterator()
                    _ = try await events.next()
                }
            }
            try await group.waitForAll()
        }
        let requests = server.requests
        let putConnections = Set(requests.filter { if case .kvPut = $0.request { return true } else { return false } }.map(\.connection))
        let watchConnections = Set(requests.filter { if case .watch = $0.request { return true } else { return false } }.map(\.connection))
        #expect(putConnections.count == 1, "puts went over connections \(putConnections.sorted())")
        #expect(watchConnections.count == 1, "watches went over connections \(watchConnections.sorted())")
        #expect(server.connectionsAccepted == 2, "one connection for requests, one for watches")
        await client.close()
        await server.shutdown()
    }

    @Test("many requests that lose the same server together move on by one server, not one each")
    func concurrentFailuresRotateOnce() async throws {
        let server = try await FakeCairnServer { connection, stream, request in
            if case .kvPut = request { connection.send(stream, .kvPut(succeeded: true, index: 1)) }
        }
        // Nothing listens on port 1: ten requests fail to reach it at once. Had each moved the
        // client one server on, ten moves over two addresses would land on port 1 again.
        let client = try server.client(listing: ["127.0.0.1:1"])
        try await withThrowingTaskGroup(of: Void.self) { group in
            for i in 0..<10 { group.addTask { _ = try await client.put("k\(i)", value: [1]) } }
            try await group.waitForAll()
        }
        #expect(server.requests.count == 10)
        #expect(server.connectionsAccepted == 1)
        await client.close()
        await server.shutdown()
    }

    @Test("a task that prefers the client's task executor runs, and resumes after each answer, on the client's connection thread")
    func taskExecutorIsTheConnectionThread() async throws {
        let server = try await FakeCairnServer { connection, stream, request in
            if case .kvPut = request { connection.send(stream, .kvPut(succeeded: true, index: 1)) }
        }
        let client = try server.client()
        let threads = try await withTaskExecutorPreference(client.taskExecutor) {
            var names = [currentThreadName()]
            for i in 0..<3 {
                _ = try await client.put("k\(i)", value: [1])
                names.append(currentThreadName())
            }
            return names
        }
        #expect(Set(threads).count == 1, "one thread throughout: \(threads)")
        #expect(threads.allSatisfy { $0.hasPrefix("NIO-ELT") }, "an event loop thread: \(threads)")
        await client.close()
        await server.shutdown()
    }
}

/// The name of the calling thread (a synchronous function: `Thread.current` is not available to
/// asynchronous code).
private func currentThreadName() -> String {
    Thread.current.name ?? ""
}
