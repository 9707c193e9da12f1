import CairnClient
import CairnWire
import Foundation
import NIOConcurrencyHelpers
import Testing

/// `SessionKeeper`, `CairnLock`, `LeaderElection` and the request mapping of the client API,
/// against a scripted server.
@Suite("Sessions, locks and requests against a scripted server", .timeLimit(.minutes(1)))
struct ClientUnitLockStreamTests {
    func session(_ id: String, ttl: UInt64 = 10_000) -> Session {
        Session(id: id, name: "", node: "n1", ttlMilliseconds: ttl, lockDelayMilliseconds: 0, behavior: .release, checks: [], createIndex: 1)
    }

    @Test("the API maps answers to results: lock outcomes, vanished sessions and server error codes")
    func requestMapping() async throws {
        let server = try await FakeCairnServer { connection, stream, request in
            switch request {
            case .kvAcquire(_, _, _, let session): connection.send(stream, .kvPut(succeeded: session == "mine", index: 9))
            case .sessionRenew: connection.send(stream, .error(.notFound, message: "no such session"))
            case .sessionInfo: connection.send(stream, .session(nil, meta(4)))
            case .kvKeys(let prefix, let separator, _): connection.send(stream, .kvKeys([prefix + "a" + separator], meta(4)))
            case .catalogRegister: connection.send(stream, .applied(index: 12))
            case .kvGet: connection.send(stream, .kvGet(nil, ReadMeta(index: 4, knownLeader: false, lastContactMilliseconds: 250)))
            case .snapshotRestore: connection.send(stream, .error(.invalidSnapshot, message: "bad checksum"))
            default: connection.send(stream, .error(.unknownOperation, message: "not scripted"))
            }
        }
        let client = try server.client()
        #expect(try await client.acquire(key: "k", session: "mine"))
        #expect(try await !client.acquire(key: "k", session: "theirs"))
        #expect(try await client.renewSession("gone") == nil)
        #expect(try await client.session("gone") == nil)
        #expect(try await client.keys(prefix: "app/", separator: "/") == ["app/a/"])
        #expect(try await client.register(ServiceRegistration(service: ServiceInstance(id: "w", name: "web"))) == 12)
        let read = try await client.getWithMeta("k", consistency: .stale)
        #expect(read.entry == nil)
        #expect(read.meta == ReadMeta(index: 4, knownLeader: false, lastContactMilliseconds: 250))
        let error = await #expect(throws: CairnClientError.self) { try await client.restoreSnapshot([1, 2, 3]) }
        #expect(error?.serverCode == .invalidSnapshot)
        await client.close()
        await server.shutdown()
    }

    @Test("a session keeper renews in the background and reports the loss when a renewal finds the session gone")
    func keeperReportsLoss() async throws {
        let renewals = NIOLockedValueBox(0)
        let server = try await FakeCairnServer { connection, stream, request in
            guard case .sessionRenew(let id) = request else { return }
            let count = renewals.withLockedValue { $0 += 1; return $0 }
            connection.send(stream, .session(count < 3 ? Session(id: id, name: "", node: "n1", ttlMilliseconds: 400, lockDelayMilliseconds: 0,
                                                                 behavior: .release, checks: [], createIndex: 1) : nil, meta(5)))
        }
        let client = try server.client()
        let keeper = SessionKeeper(client: client, sessionID: "s-1", ttl: .milliseconds(400))
        var lost = keeper.lost.makeAsyncIterator()
        #expect(await lost.next() == .invalidated)
        #expect(keeper.loss == .invalidated)
        #expect(renewals.withLockedValue { $0 } == 3)
        // A stream asked for after the loss yields it at once.
        #expect(await keeper.lost.first { _ in true } == .invalidated)
        await keeper.close()
        await client.close()
        await server.shutdown()
    }

    @Test("a closed keeper destroys its session and its loss streams finish without a loss")
    func keeperCloseDestroys() async throws {
        let server = try await FakeCairnServer { connection, stream, request in
            switch request {
            case .sessionDestroy: connection.send(stream, .applied(index: 8))
            case .sessionRenew(let id): connection.send(stream, .session(Session(id: id, name: "", node: "", ttlMilliseconds: 60_000,
                                                                                 lockDelayMilliseconds: 0, behavior: .release, checks: [],
                                                                                 createIndex: 1), meta(5)))
            default: break
            }
        }
        let client = try server.client()
        let keeper = SessionKeeper(client: client, sessionID: "s-2", ttl: .seconds(60))
        // Subscribed before the close, so the close must finish a waiting iteration.
        var losses = keeper.lost.makeAsyncIterator()
        await keeper.close()
        #expect(await losses.next() == nil)
        #expect(server.requests.map(\.request).contains(.sessionDestroy(id: "s-2")))
        await client.close()
        await server.shutdown()
    }

    /// A scripted lock key: held by "other" until the lock's own watch has seen it held, then
    /// released; acquisitions succeed once it is free. Later the lease's monitor sees it released.
    final class LockScript: @unchecked Sendable {
        struct State {
            var holder = "other"
            var lockIndex: UInt64 = 1
            var index: UInt64 = 10
            var watches: [(FakeCairnServer.Connection, UInt64)] = []
        }
        let state = NIOLockedValueBox(State())

        func handle(_ connection: FakeCairnServer.Connection, _ stream: UInt64, _ request: ClientRequest) {
            switch request {
            case .sessionCreate:
                connection.send(stream, .sessionCreated(id: "mine", index: 11))
            case .sessionRenew(let id):
                connection.send(stream, .session(Session(id: id, name: "", node: "", ttlMilliseconds: 15_000, lockDelayMilliseconds: 0,
                                                         behavior: .release, checks: [], createIndex: 11), meta(11)))
            case .sessionDestroy:
                connection.send(stream, .applied(index: 30))
            case .kvAcquire(let key, _, _, let session):
                let ok = state.withLockedValue { s -> Bool in
                    guard s.holder.isEmpty || s.holder == session else { return false }
                    if s.holder != session { s.lockIndex += 1 }
                    s.holder = session
                    s.index += 1
                    return true
                }
                _ = key
                connection.send(stream, .kvPut(succeeded: ok, index: 12))
            case .kvGet(let key, _):
                let s = state.withLockedValue { $0 }
                connection.send(stream, .kvGet(KVEntry(key: key, value: [], modifyIndex: s.index, lockIndex: s.lockIndex, session: s.holder), meta(s.index)))
            case .kvRelease:
                connection.send(stream, .kvPut(succeeded: true, index: 40))
            case .watch(.key(let key), let from):
                let (held, index) = state.withLockedValue { s -> (String, UInt64) in
                    s.watches.append((connection, stream))
                    return (s.holder, s.index)
                }
                if from == 0 {
                    // The acquiring lock's watch: show the key held, then released.
                    connection.send(stream, .watchEvent(keyEvent(index, key: key, session: held, snapshot: true)))
                    state.withLockedValue { s in
                        s.holder = ""
                        s.index += 1
                    }
                    connection.send(stream, .watchEvent(keyEvent(index + 1, key: key, session: "")))
                }
            default:
                connection.send(stream, .error(.unknownOperation, message: "not scripted"))
            }
        }

        /// Tells the lease's watch (the last one opened) that someone released the lock.
        func releaseBySomeoneElse(key: String) {
            let (watch, index) = state.withLockedValue { s -> ((FakeCairnServer.Connection, UInt64)?, UInt64) in
                s.holder = ""
                s.index += 1
                return (s.watches.last, s.index)
            }
            if let (connection, stream) = watch { connection.send(stream, .watchEvent(keyEvent(index, key: key, session: ""))) }
        }
    }

    @Test("a lock waits for the holder, acquires with a fresh lock index as fencing token, and reports losing it")
    func lockRecipe() async throws {
        let script = LockScript()
        let server = try await FakeCairnServer { script.handle($0, $1, $2) }
        let client = try server.client()
        let lock = CairnLock(client: client, key: "jobs/.lock", value: Array("me".utf8), sessionTTL: .seconds(15), retryInterval: .milliseconds(50))
        let lease = try await lock.acquire()
        #expect(lease.sessionID == "mine")
        #expect(lease.lockIndex == 2)
        #expect(!lease.isLost)
        // The first attempt failed (held), the watch saw the release, the second succeeded.
        let acquires = server.requests.filter { if case .kvAcquire = $0.request { return true } else { return false } }
        #expect(acquires.count == 2)
        // The lease watches the key from the index of the read that saw it held.
        let deadline = ContinuousClock.now + .seconds(10)
        while script.state.withLockedValue({ $0.watches.count }) < 2 && ContinuousClock.now < deadline {
            try await Task.sleep(for: .milliseconds(10))
        }
        #expect(server.watches.map(\.fromIndex) == [0, 12])
        script.releaseBySomeoneElse(key: "jobs/.lock")
        #expect(await lease.lost.first { _ in true } == .released)
        #expect(lease.loss == .released)
        try await lease.release()
        #expect(server.requests.map(\.request).contains(.sessionDestroy(id: "mine")))
        await client.close()
        await server.shutdown()
    }

    @Test("acquiring within a timeout gives up, and destroys the lock's session, when the holder never lets go")
    func lockTimeout() async throws {
        let server = try await FakeCairnServer { connection, stream, request in
            switch request {
            case .sessionCreate: connection.send(stream, .sessionCreated(id: "mine", index: 2))
            case .kvAcquire: connection.send(stream, .kvPut(succeeded: false, index: 3))
            case .watch(.key(let key), _): connection.send(stream, .watchEvent(keyEvent(3, key: key, session: "other", snapshot: true)))
            case .sessionDestroy: connection.send(stream, .applied(index: 4))
            default: break
            }
        }
        let client = try server.client()
        let lock = CairnLock(client: client, key: "jobs/.lock")
        #expect(try await lock.acquire(within: .milliseconds(300)) == nil)
        #expect(server.requests.map(\.request).contains(.sessionDestroy(id: "mine")))
        await client.close()
        await server.shutdown()
    }

    @Test("observing an election yields the current leader, then each change, folding repeats")
    func observeLeaders() async throws {
        let server = try await FakeCairnServer { connection, stream, request in
            guard case .watch(.key(let key), _) = request else { return }
            connection.send(stream, .watchEvent(keyEvent(5, key: key, session: "s1", snapshot: true, value: "alpha")))
            connection.send(stream, .watchEvent(keyEvent(6, key: key, session: "s1", value: "alpha")))
            connection.send(stream, .watchEvent(keyEvent(7, key: key, session: "", value: "alpha")))
            connection.send(stream, .watchEvent(keyEvent(8, key: key, session: "s2", value: "beta")))
        }
        let client = try server.client()
        let election = LeaderElection(client: client, key: "service/leader")
        var leaders: [String?] = []
        for try await leader in election.observe() {
            leaders.append(leader)
            if leaders.count == 3 { break }
        }
        #expect(leaders == ["alpha", nil, "beta"])
        await client.close()
        await server.shutdown()
    }
}
