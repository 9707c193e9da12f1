import CairnClient
import CairnWire
import Foundation
import NIOConcurrencyHelpers
import Testing

/// `CairnWatch` over real connections to a scripted server: stream routing, transparent
/// resume, de-duplication, cancellation and client-side buffering.
@Suite("Watches against a scripted server")
struct ClientUnitWatchStreamTests {
    @Test("events arrive in order; stale repeats are dropped; a dropped connection resumes after the last index")
    func resumesAfterConnectionLoss() async throws {
        let server = try await FakeCairnServer { connection, stream, request in
            guard case .watch(_, let from) = request else { return }
            if from == 0 {
                for index: UInt64 in [5, 6, 6, 4, 7] { connection.send(stream, .watchEvent(keyEvent(index, snapshot: index == 5))) }
                connection.close()
            } else {
                connection.send(stream, .watchEvent(keyEvent(from + 1)))
            }
        }
        let client = try server.client()
        let watch = client.watch(.key("k"))
        var indexes: [UInt64] = []
        for try await event in watch {
            indexes.append(event.index)
            if indexes.count == 4 { break }
        }
        #expect(indexes == [5, 6, 7, 8])
        #expect(server.watches.map(\.fromIndex) == [0, 7])
        #expect(watch.statistics.droppedEvents == 2)
        #expect(watch.statistics.resumes == 1)
        #expect(watch.statistics.deliveredEvents == 4)
        await client.close()
        await server.shutdown()
    }

    @Test("a server that lost the history sends the watch back to index 0, and the snapshot that follows is delivered")
    func historyCompactedStartsOver() async throws {
        let server = try await FakeCairnServer { connection, stream, request in
            guard case .watch(_, let from) = request else { return }
            if from == 10 {
                connection.send(stream, .error(.historyCompacted, message: "history starts at 15"))
            } else {
                connection.send(stream, .watchEvent(keyEvent(20, snapshot: true)))
            }
        }
        let client = try server.client()
        var iterator = client.watch(.keyPrefix(""), fromIndex: 10).makeAsyncIterator()
        let event = try #require(try await iterator.next())
        #expect(event.index == 20)
        #expect(event.payload == keyEvent(20, snapshot: true).payload)
        #expect(server.watches.map(\.fromIndex) == [10, 0])
        await client.close()
        await server.shutdown()
    }

    @Test("a slow server stream or a shutting-down server is resumed transparently")
    func serverCutsAreResumed() async throws {
        let server = try await FakeCairnServer { connection, stream, request in
            guard case .watch(_, let from) = request else { return }
            switch from {
            case 0:
                connection.send(stream, .watchEvent(keyEvent(1, snapshot: true)))
                connection.send(stream, .error(.watchTooSlow, message: "slow"))
            case 1:
                connection.send(stream, .watchEvent(keyEvent(2)))
                connection.send(stream, .error(.shuttingDown, message: "bye"))
            default:
                connection.send(stream, .watchEvent(keyEvent(from + 1)))
            }
        }
        let client = try server.client()
        var indexes: [UInt64] = []
        for try await event in client.watch(.key("k")) {
            indexes.append(event.index)
            if indexes.count == 3 { break }
        }
        #expect(indexes == [1, 2, 3])
        #expect(server.watches.map(\.fromIndex) == [0, 1, 2])
        // Shutting down moves the watch to a fresh connection; a slow stream stays on its own.
        let connections = server.requests.filter { if case .watch = $0.request { return true } else { return false } }.map(\.connection)
        try #require(connections.count == 3)
        #expect(connections[0] == connections[1])
        #expect(connections[2] != connections[1])
        await client.close()
        await server.shutdown()
    }

    @Test("an error that retrying cannot fix ends the watch by throwing the server's code")
    func fatalErrorThrows() async throws {
        let server = try await FakeCairnServer { connection, stream, request in
            if case .watch = request { connection.send(stream, .error(.invalidKey, message: "key too long")) }
        }
        let client = try server.client()
        let error = await #expect(throws: CairnClientError.self) {
            for try await _ in client.watch(.key("k")) {}
        }
        #expect(error?.serverCode == .invalidKey)
        #expect(server.watches.count == 1)
        await client.close()
        await server.shutdown()
    }

    @Test("leaving the loop tells the server to cancel the stream")
    func breakingOutCancels() async throws {
        let server = try await FakeCairnServer { connection, stream, request in
            if case .watch = request { connection.send(stream, .watchEvent(keyEvent(3, snapshot: true))) }
        }
        let client = try server.client()
        do {
            for try await _ in client.watch(.services) { break }
        }
        try await server.waitFor("a watchCancel") { requests in
            guard let watch = requests.first(where: { if case .watch = $0.request { return true } else { return false } }) else { return false }
            return requests.contains { $0.request == .watchCancel(streamID: watch.streamID) && $0.connection == watch.connection }
        }
        await client.close()
        await server.shutdown()
    }

    @Test("cancelling the consuming task ends the sequence without an error and cancels the stream")
    func taskCancellation() async throws {
        let server = try await FakeCairnServer { connection, stream, request in
            if case .watch = request { connection.send(stream, .watchEvent(keyEvent(3, snapshot: true))) }
        }
        let client = try server.client()
        let watch = client.watch(.key("k"))
        let consumer = Task {
            var count = 0
            for try await _ in watch { count += 1 }
            return count
        }
        try await server.waitFor("the watch") { $0.contains { if case .watch = $0.request { return true } else { return false } } }
        // The consumer is now parked waiting for a second event that never comes.
        let deadline = ContinuousClock.now + .seconds(10)
        while watch.statistics.deliveredEvents < 1 && ContinuousClock.now < deadline { try await Task.sleep(for: .milliseconds(10)) }
        consumer.cancel()
        #expect(try await consumer.value == 1)
        try await server.waitFor("a watchCancel") { $0.contains { if case .watchCancel = $0.request { return true } else { return false } } }
        await client.close()
        await server.shutdown()
    }

    @Test("a consumer slower than the client buffer loses no event: the stream is cut and resumed after what it read")
    func clientBufferOverflowResumes() async throws {
        let server = try await FakeCairnServer { connection, stream, request in
            guard case .watch(_, let from) = request else { return }
            for index in (from + 1)...20 { connection.send(stream, .watchEvent(keyEvent(index, snapshot: from == 0 && index == 1))) }
        }
        let client = try server.client()
        let watch = client.watch(.key("k"), options: WatchOptions(bufferCapacity: 2))
        var iterator = watch.makeAsyncIterator()
        var indexes: [UInt64] = [try #require(try await iterator.next()).index]
        // Stay away until the client has given up on the overflowing stream.
        try await server.waitFor("a watchCancel") { $0.contains { if case .watchCancel = $0.request { return true } else { return false } } }
        while indexes.last != 20, indexes.count < 40, let event = try await iterator.next() {
            indexes.append(event.index)
        }
        #expect(indexes == Array(1...20))
        #expect(watch.statistics.resumes >= 1)
        #expect(watch.statistics.droppedEvents == 0)
        let resumedFrom = server.watches.map(\.fromIndex)
        #expect(resumedFrom.first == 0)
        #expect(resumedFrom.count >= 2 && resumedFrom.dropFirst().allSatisfy { $0 > 0 })
        await client.close()
        await server.shutdown()
    }

    @Test("closing the client ends a running watch with the closed error")
    func closingTheClientEndsTheWatch() async throws {
        let server = try await FakeCairnServer { connection, stream, request in
            if case .watch = request { connection.send(stream, .watchEvent(keyEvent(1, snapshot: true))) }
        }
        let client = try server.client()
        let watch = client.watch(.key("k"))
        let consumer = Task {
            do {
                for try await _ in watch {}
                return CairnClientError(.protocolViolation, "the watch ended without an error")
            } catch let error as CairnClientError {
                return error
            }
        }
        let deadline = ContinuousClock.now + .seconds(10)
        while watch.statistics.deliveredEvents < 1 && ContinuousClock.now < deadline { try await Task.sleep(for: .milliseconds(10)) }
        try #require(watch.statistics.deliveredEvents >= 1, "the watch is running when the client closes")
        await client.close()
        #expect(try await consumer.value.code == .closed)
        await server.shutdown()
    }
}
