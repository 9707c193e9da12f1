import CairnClient
import CairnWire
import Foundation
import Testing

/// Three real `cairn agent` processes on 127.0.0.1–127.0.0.3 with freshly made certificates.
@Suite("Three agents on loopback", .serialized)
struct ClusterTests {
    func index(of name: String) -> Int? { Int(name.dropFirst()) }

    @Test("a three-process cluster replicates, survives kill -9 of its leader, catches a restarted node up through a snapshot, and removes a peer")
    func clusterLifecycle() async throws {
        let fx = try ClusterFixture(nodes: 3, snapshotEvery: 40)
        try fx.startAll()
        let client = try fx.client()
        defer { Task { await client.close() } }

        // A leader is elected from the three bootstrapping servers.
        let firstLeader = try await fx.eventually(within: 30, "a leader") {
            try await client.members().first { $0.role == "leader" }
        }
        let members = try await client.members()
        #expect(members.count == 3)
        #expect(Set(members.map(\.name)) == ["n1", "n2", "n3"])

        // Writes sent to every node (followers redirect to the leader) are readable from every node.
        var written: [String: String] = [:]
        for i in 1...3 {
            let c = try fx.client([i])
            for k in 0..<10 {
                let key = "via-n\(i)/\(k)"
                let result = try await c.put(key, value: Array("v\(i)-\(k)".utf8))
                #expect(result.succeeded)
                written[key] = "v\(i)-\(k)"
            }
            await c.close()
        }
        for i in 1...3 {
            let c = try fx.client([i])
            _ = try await fx.eventually(within: 15, "node \(i) to apply every write") { () -> Bool? in
                for (key, value) in written {
                    guard let entry = try await c.get(key, consistency: .stale), entry.value == Array(value.utf8) else { return nil }
                }
                return true
            }
            await c.close()
        }

        // kill -9 the leader: a new one is elected and every acknowledged write survives.
        let victim = try #require(index(of: firstLeader.name))
        await fx.kill9(victim)
        let survivors = (1...3).filter { $0 != victim }
        let survivorClient = try fx.client(survivors, timeout: .seconds(20))
        let killedAt = ContinuousClock.now
        _ = try await survivorClient.put("after-failover", value: Array("yes".utf8))
        let failover = ContinuousClock.now - killedAt
        print("failover: first acknowledged write \(failover) after kill -9 of the leader")
        let newLeader = try await fx.eventually(within: 10, "a new leader") {
            try await survivorClient.members().first { $0.role == "leader" && $0.name != firstLeader.name }
        }
        #expect(newLeader.term > firstLeader.term)
        for (key, value) in written {
            #expect(try await survivorClient.get(key)?.value == Array(value.utf8))
        }

        // While the old leader is down, write past the snapshot threshold so the log is compacted.
        for k in 0..<120 {
            written["bulk/\(k)"] = "b\(k)"
            #expect(try await survivorClient.put("bulk/\(k)", value: Array("b\(k)".utf8)).succeeded)
        }
        written["after-failover"] = "yes"

        // The killed node restarts, rejoins and catches up — through a snapshot, as its log is behind.
        try fx.start(victim)
        let rejoined = try fx.client([victim])
        _ = try await fx.eventually(within: 30, "the restarted node to catch up") { () -> Bool? in
            for (key, value) in written {
                guard let entry = try await rejoined.get(key, consistency: .stale), entry.value == Array(value.utf8) else { return nil }
            }
            return true
        }
        await rejoined.close()
        let snapshots = (try? FileManager.default.contentsOfDirectory(atPath: fx.dataDir(victim) + "/raft/snap")) ?? []
        #expect(snapshots.contains { $0.hasSuffix(".snap") }, "the restarted node has a snapshot file")
        #expect(fx.log(victim).contains("snapshot") || !snapshots.isEmpty)

        // Removing a peer shrinks the configuration to the two others.
        let removed = try #require(try await survivorClient.members().first { $0.name == "n\(victim)" })
        _ = try await survivorClient.removePeer(id: removed.id)
        let remaining = try await fx.eventually(within: 10, "the configuration without n\(victim)") { () -> [MemberInfo]? in
            let m = try await survivorClient.members()
            return m.count == 2 ? m : nil
        }
        #expect(!remaining.contains { $0.name == "n\(victim)" })
        #expect(try await survivorClient.put("after-removal", value: [1]).succeeded)
        await survivorClient.close()

        // SIGTERM stops each server cleanly.
        for i in 1...3 {
            let status = await fx.terminate(i)
            #expect(status == 0, "n\(i) exited with \(String(describing: status)); log:\n\(fx.log(i).suffix(2000))")
        }
    }

    @Test("an idle follower learns each write's commit from the leader's held-back commit notice, long before the next heartbeat")
    func idleFollowerLearnsTheCommit() async throws {
        // Heartbeats every 600 ms: a follower that learned commits only from heartbeats (or the
        // next write) would see a write within 200 ms about a third of the time; the commit
        // notice (held 10–20 ms for an append that does not come) brings it in tens of milliseconds.
        let fx = try ClusterFixture(nodes: 3, extraConfig: "\"tick_ms\": 600")
        try fx.startAll()
        let client = try fx.client()
        defer { Task { await client.close() } }
        let leader = try await fx.waitForLeader(client)
        let followerIndex = try #require((1...3).first { fx.clientAddress($0) != leader.clientAddress })
        let follower = try fx.client([followerIndex])
        defer { Task { await follower.close() } }
        for round in 0..<6 {
            let key = "idle/\(round)"
            #expect(try await client.put(key, value: Array("\(round)".utf8)).succeeded)
            let seen = try await fx.eventually(within: 0.2, "n\(followerIndex) to see \(key) without a leader round trip") {
                try await follower.get(key, consistency: .stale)
            }
            #expect(seen.value == Array("\(round)".utf8))
        }
    }

    @Test("one client pipelines many requests, check-and-set works, a follower's not-leader answer is followed, and a write to a one-node-down cluster still commits")
    func redirectAndMinorityFailure() async throws {
        let fx = try ClusterFixture(nodes: 3)
        try fx.startAll()
        let client = try fx.client()
        let leader = try await fx.waitForLeader(client)
        // Many requests in flight on one connection, all answered.
        let concurrent = 200
        let results = try await withThrowingTaskGroup(of: Bool.self) { group in
            for k in 0..<concurrent {
                group.addTask { try await client.put("pipelined/\(k)", value: Array("\(k)".utf8)).succeeded }
            }
            var ok = 0
            for try await succeeded in group where succeeded { ok += 1 }
            return ok
        }
        #expect(results == concurrent)
        #expect(try await client.get("pipelined/\(concurrent - 1)")?.value == Array("\(concurrent - 1)".utf8))
        // Check-and-set on the modify index.
        let current = try #require(try await client.get("pipelined/0"))
        #expect(try await client.put("pipelined/0", value: [9], cas: current.modifyIndex + 1).succeeded == false)
        #expect(try await client.put("pipelined/0", value: [9], cas: current.modifyIndex).succeeded)
        #expect(try await client.delete("pipelined/0", cas: current.modifyIndex).succeeded == false)
        #expect(try await client.delete("pipelined/0").succeeded)
        #expect(try await client.get("pipelined/0") == nil)

        let follower = try #require((1...3).first { "n\($0)" != leader.name })
        let direct = try fx.client([follower])
        #expect(try await direct.put("redirected", value: [7]).succeeded)
        #expect(try await direct.get("redirected")?.value == [7])
        await direct.close()
        let other = try #require((1...3).first { "n\($0)" != leader.name && $0 != follower })
        await fx.kill9(other)
        #expect(try await client.put("two-of-three", value: [2]).succeeded)
        await client.close()
        for i in 1...3 where i != other { #expect(await fx.terminate(i) == 0) }
    }
}
