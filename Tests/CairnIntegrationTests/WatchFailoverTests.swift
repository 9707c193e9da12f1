import CairnClient
import CairnWire
import Foundation
import Testing

/// Watches, transactions and snapshots on three real agents.
@Suite("Watches, transactions and snapshots on three agents", .serialized)
struct WatchFailoverTests {
    /// Collects a watch's events in a task until one reaches `until` (or the deadline passes).
    final class Collector: @unchecked Sendable {
        private let lock = NSLock()
        private var collected: [WatchEvent] = []
        var events: [WatchEvent] { lock.withLock { collected } }
        func append(_ event: WatchEvent) { lock.withLock { collected.append(event) } }
        var lastIndex: UInt64 { lock.withLock { collected.last?.index ?? 0 } }
    }

    func collect(_ watch: CairnWatch, into collector: Collector, until stop: @escaping @Sendable (WatchEvent) -> Bool) -> Task<Void, any Error> {
        Task {
            for try await event in watch {
                collector.append(event)
                if stop(event) { return }
            }
        }
    }

    @Test("a watcher sees every change exactly once, in order, across a kill -9 of the leader it was connected to")
    func watchAcrossLeaderKill() async throws {
        let fx = try ClusterFixture(nodes: 3)
        try fx.startAll()
        let probe = try fx.client()
        defer { Task { await probe.close() } }
        let leader = try await fx.waitForLeader(probe)
        let leaderIndex = try #require(Int(leader.name.dropFirst()))
        let others = (1...3).filter { $0 != leaderIndex }
        _ = try await probe.put("w/seed", value: Array("0".utf8))

        // The watcher's connection goes to the leader, the server about to die (a client's watches
        // start on its second configured address).
        let watcherClient = try fx.client([others[0], leaderIndex, others[1]], timeout: .seconds(20))
        defer { Task { await watcherClient.close() } }
        let done = "w/zz-done"
        let seen = Collector()
        let watch = watcherClient.watch(.keyPrefix("w/"))
        let watcher = collect(watch, into: seen) { event in
            if case .keys(let changes, _) = event.payload { return changes.contains { $0.key == done } }
            return false
        }
        _ = try await fx.eventually(within: 10, "the watch's first event") { seen.events.first }

        let writer = try fx.client(others + [leaderIndex], timeout: .seconds(20))
        defer { Task { await writer.close() } }
        var acknowledged: [String: UInt64] = [:]
        var unknown = 0
        for i in 0..<150 {
            if i == 50 { await fx.kill9(leaderIndex) }
            do {
                let result = try await writer.put("w/\(i)", value: Array("v\(i)".utf8))
                #expect(result.succeeded)
                acknowledged["w/\(i)"] = result.index
            } catch let error as CairnClientError where error.code == .outcomeUnknown {
                unknown += 1
            }
        }
        let final = try await writer.put(done, value: [])
        try await withTimeout(seconds: 30) { try await watcher.value }

        let events = seen.events
        #expect(watch.statistics.resumes >= 1, "the watch lost its server and resumed elsewhere")
        // The first event is the state when the watch began; then one event per index, rising.
        let first = try #require(events.first)
        guard case .keys(_, let snapshot) = first.payload else { Issue.record("the first event holds no keys"); return }
        #expect(snapshot)
        let changes = Array(events.dropFirst())
        #expect(zip(changes, changes.dropFirst()).allSatisfy { $0.index < $1.index }, "indexes strictly increase: no repeat")
        #expect(changes.allSatisfy { if case .keys(_, false) = $0.payload { return true } else { return false } })
        #expect(changes.last?.index == final.index)

        // Every acknowledged write was seen exactly once, at its own index.
        var seenAt: [String: [UInt64]] = [:]
        for event in changes {
            if case .keys(let list, _) = event.payload { for change in list { seenAt[change.key, default: []].append(event.index) } }
        }
        #expect(acknowledged.count >= 50, "the writes before the kill were all acknowledged")
        for (key, index) in acknowledged { #expect(seenAt[key] == [index], "\(key) acknowledged at \(index), seen at \(seenAt[key] ?? [])") }
        print("watch across kill -9: \(changes.count) change events, \(acknowledged.count) acknowledged writes, \(unknown) with unknown outcome, \(watch.statistics.resumes) resume(s)")

        // No gap: replaying the history after the watch's start on a surviving server gives the
        // exact same sequence of events.
        let replayClient = try fx.client([others[0]])
        defer { Task { await replayClient.close() } }
        let replayed = Collector()
        let replay = collect(replayClient.watch(.keyPrefix("w/"), fromIndex: first.index), into: replayed) { $0.index >= final.index }
        try await withTimeout(seconds: 20) { try await replay.value }
        #expect(replayed.events == changes)

        // And the watcher's view, applied to the first snapshot, is the store's current state.
        var state: [String: [UInt8]] = [:]
        for event in events {
            guard case .keys(let list, _) = event.payload else { continue }
            for change in list { state[change.key] = change.entry?.value }
        }
        let current = try await writer.list(prefix: "w/")
        #expect(state == Dictionary(uniqueKeysWithValues: current.map { ($0.key, $0.value) }))
        for i in others { #expect(await fx.terminate(i) == 0) }
    }

    @Test("transactions apply all or nothing, and a saved snapshot restores on every server")
    func transactionsAndSnapshots() async throws {
        let fx = try ClusterFixture(nodes: 3)
        try fx.startAll()
        let client = try fx.client()
        defer { Task { await client.close() } }
        try await fx.waitForLeader(client)

        // A failing check at the end undoes the writes before it.
        _ = try await client.put("t/exists", value: Array("x".utf8))
        let failed = try await client.transaction([
            .set(key: "t/a", value: Array("1".utf8), flags: 0), .set(key: "t/b", value: Array("1".utf8), flags: 0),
            .checkNotExists(key: "t/exists"),
        ])
        guard case .failed(_, let operation, let reason) = failed else { Issue.record("expected a failure, got \(failed)"); return }
        #expect(operation == 2)
        #expect(!reason.isEmpty)
        #expect(try await client.get("t/a") == nil)
        #expect(try await client.get("t/b") == nil)

        // Concurrent read-modify-write transactions keep two counters equal: each commits whole.
        _ = try await client.put("t/x", value: Array("0".utf8))
        _ = try await client.put("t/y", value: Array("0".utf8))
        try await withThrowingTaskGroup(of: Void.self) { group in
            for _ in 0..<4 {
                group.addTask {
                    var committed = 0
                    while committed < 5 {
                        let x = try #require(try await client.get("t/x"))
                        let n = Int(String(decoding: x.value, as: UTF8.self))! + 1
                        let outcome = try await client.transaction([
                            .checkIndex(key: "t/x", index: x.modifyIndex),
                            .set(key: "t/x", value: Array("\(n)".utf8), flags: 0), .set(key: "t/y", value: Array("\(n)".utf8), flags: 0),
                        ])
                        if case .committed = outcome { committed += 1 }
                    }
                }
            }
            try await group.waitForAll()
        }
        let x = try #require(try await client.get("t/x")), y = try #require(try await client.get("t/y"))
        #expect(String(decoding: x.value, as: UTF8.self) == "20")
        #expect(x.value == y.value)
        #expect(x.modifyIndex == y.modifyIndex, "both keys written by the same entry")

        // Save, change everything, restore: every server is back to the saved state.
        let saved = try await client.list(prefix: "t/")
        let snapshot = try await client.saveSnapshot()
        _ = try await client.deleteTree(prefix: "t/")
        _ = try await client.put("t/later", value: Array("gone after restore".utf8))
        var damaged = snapshot.archive
        damaged[damaged.count - 1] ^= 0xFF
        await #expect(throws: CairnClientError.self) { try await client.restoreSnapshot(damaged) }
        #expect(try await client.get("t/later") != nil, "a damaged archive changes nothing")
        _ = try await client.restoreSnapshot(snapshot.archive)
        for i in 1...3 {
            let node = try fx.client([i])
            _ = try await fx.eventually(within: 15, "node \(i) to apply the restore") { () -> Bool? in
                let entries = try await node.list(prefix: "t/", consistency: .stale)
                return entries.map(\.key) == saved.map(\.key) && entries.map(\.value) == saved.map(\.value) ? true : nil
            }
            await node.close()
        }
        for i in 1...3 { #expect(await fx.terminate(i) == 0) }
    }
}

/// Runs `body`, failing if it takes longer than `seconds`.
func withTimeout(seconds: Double, _ body: @escaping @Sendable () async throws -> Void) async throws {
    try await withThrowingTaskGroup(of: Bool.self) { group in
        group.addTask { try await body(); return true }
        group.addTask { try await Task.sleep(for: .seconds(seconds)); return false }
        let finished = try await group.next()!
        group.cancelAll()
        if !finished { throw FixtureError("timed out after \(seconds)s") }
    }
}
