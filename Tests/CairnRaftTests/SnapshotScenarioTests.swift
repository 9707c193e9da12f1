import CairnRaft
import Testing

@Suite("Snapshots")
struct SnapshotScenarioTests {
    /// A leader (node 1) whose log is compacted through index 12 while node 3 was away with
    /// only indexes 1–2; snapshot chunks are 16 bytes.
    static func compactedWhileNode3Away() -> ScenarioCluster {
        let cluster = ScenarioCluster(voters: 3, configure: { $0.snapshotChunkSize = 16 })
        cluster.elect(1)
        cluster.tickAll(1)
        cluster.isolate(3)
        for i in 1...10 { cluster.propose(1, "value-\(i)") }
        cluster.stabilize()
        #expect(cluster[1].commitIndex == 12)
        #expect(cluster[3].lastIndex == 2)

        let outcome = cluster.compact(1, through: 12)
        #expect(outcome == .compacted(SnapshotMetadata(index: 12, term: 2, membership: Membership(voters: [1, 2, 3]))))
        #expect(cluster[1].firstIndex == 13)
        #expect(cluster[1].entries.isEmpty)
        #expect(cluster[1].snapshotMetadata?.index == 12)
        return cluster
    }

    static let values = (1...10).map { "value-\($0)" }

    @Test("a follower behind the compacted log gets the snapshot in chunks, installs it, then catches up with appends")
    func laggingFollowerInstallsChunkedSnapshot() throws {
        let cluster = Self.compactedWhileNode3Away()
        let size = try #require(cluster.disks[1]?.snapshot?.data.count)
        let expectedChunks = (size + 15) / 16
        #expect(expectedChunks >= 5)

        cluster.heal()
        let rounds = cluster.tickAll(until: { cluster.installedSnapshots[3]?.isEmpty == false }, limit: 5)
        #expect(rounds != nil)
        let chunks = cluster.delivered(.snapshotChunk, from: 1, to: 3)
        #expect(chunks.count == expectedChunks)
        #expect(chunks.map(\.chunkOffset) == stride(from: 0, to: size, by: 16).map { UInt64($0) })
        #expect(cluster.delivered(.snapshotChunkResponse, from: 3).count == expectedChunks - 1)

        // Installed: the Ready carried the snapshot, the log starts after it.
        #expect(cluster.installedSnapshots[3]?.map(\.metadata.index) == [12])
        #expect(cluster.disks[3]?.snapshot?.metadata.index == 12)
        #expect(cluster.disks[3]?.entries.isEmpty == true)
        #expect(cluster[3].firstIndex == 13)
        #expect(cluster[3].commitIndex == 12)
        #expect(cluster.commands(3) == Self.values)
        #expect(cluster.status(1).peers[3]?.state == "replicate")
        #expect(cluster.status(1).peers[3]?.match == 12)

        // Then ordinary appends.
        let mark = cluster.delivered.count
        cluster.propose(1, "after-snapshot")
        cluster.stabilize()
        cluster.tickAll(1)
        #expect(cluster.delivered[mark...].contains { $0.to == 3 && $0.appendedEntries.map(\.index) == [13] })
        #expect(cluster.delivered[mark...].filter { $0.kind == .snapshotChunk }.isEmpty)
        #expect(cluster.logTerms(3) == [2])
        #expect(cluster.commands(3) == Self.values + ["after-snapshot"])
    }

    @Test("a lost chunk is sent again after the next heartbeat and the transfer completes")
    func lostChunkIsRecovered() throws {
        let cluster = Self.compactedWhileNode3Away()
        let size = try #require(cluster.disks[1]?.snapshot?.data.count)
        cluster.heal()
        cluster.dropNext(where: { $0.chunkOffset == 32 })

        let rounds = cluster.tickAll(until: { cluster.installedSnapshots[3]?.isEmpty == false }, limit: 10)
        #expect(rounds != nil)
        #expect(cluster.lost.filter { $0.kind == .snapshotChunk }.map(\.chunkOffset) == [32])
        let offsets = cluster.delivered(.snapshotChunk, to: 3).map(\.chunkOffset)
        #expect(offsets.filter { $0 == 32 }.count == 1)
        #expect(offsets.count == (size + 15) / 16)
        #expect(cluster.commands(3) == Self.values)
        #expect(cluster[3].commitIndex == 12)
    }

    @Test("a new node joins through the snapshot when the entries it needs are compacted away")
    func newNodeJoinsThroughSnapshot() {
        let cluster = Self.compactedWhileNode3Away()
        cluster.heal()
        cluster.tickAll(3)
        cluster.addNode(4)
        #expect(cluster.change(1, .addLearner(4)) == .accepted(firstIndex: 13, lastIndex: 13, term: 2))
        cluster.stabilize()
        cluster.tickAll(2)

        #expect(cluster.installedSnapshots[4]?.map(\.metadata.index) == [12])
        #expect(cluster[4].firstIndex == 13)
        #expect(cluster.commands(4) == Self.values)
        #expect(cluster[4].commitIndex == cluster[1].commitIndex)
        #expect(cluster[1].membership == Membership(voters: [1, 2, 3, 4]), "caught up and promoted")
        #expect(cluster[4].membership == Membership(voters: [1, 2, 3, 4]))
    }

    @Test("compaction is refused below the snapshot point or beyond what is applied")
    func invalidCompaction() {
        let cluster = ScenarioCluster(voters: 3)
        cluster.elect(1)
        cluster.propose(1, "a")
        cluster.stabilize()
        #expect(cluster.compact(1, through: 9) == .invalidIndex)
        #expect(cluster.compact(1, through: 2) != .invalidIndex)
        #expect(cluster.compact(1, through: 2) == .invalidIndex)
        #expect(cluster.compact(1, through: 1) == .invalidIndex)
        #expect(cluster[1].firstIndex == 3)
    }

    @Test("a node restarted from a snapshot restores its state and reapplies only what follows")
    func restartFromSnapshot() {
        let cluster = ScenarioCluster(voters: 3)
        cluster.elect(1)
        cluster.propose(1, batch: ["a", "b", "c"])
        cluster.stabilize()
        cluster.tickAll(1)
        #expect(cluster.compact(2, through: 4) != .invalidIndex)
        cluster.restart(2)
        #expect(cluster[2].firstIndex == 5)
        #expect(cluster.commands(2) == ["a", "b", "c"])
        #expect(cluster.applied[2]?.map(\.index) == [5])
    }

    @Test("a chunk delivered twice, out of order, is not appended twice")
    func duplicatedChunkIsIgnored() throws {
        let cluster = Self.compactedWhileNode3Away()
        let sent = try #require(cluster.disks[1]?.snapshot)
        cluster.heal()
        cluster.duplicateNext(where: { $0.chunkOffset == 16 })

        let rounds = cluster.tickAll(until: { cluster.installedSnapshots[3]?.isEmpty == false }, limit: 10)
        #expect(rounds != nil)
        let offsets = cluster.delivered(.snapshotChunk, to: 3).compactMap(\.chunkOffset)
        #expect(offsets.filter { $0 == 16 }.count == 2)
        #expect(Set(offsets) == Set(stride(from: 0, to: sent.data.count, by: 16).map { UInt64($0) }))
        #expect(cluster.installedSnapshots[3] == [sent], "installed once, byte for byte")
        #expect(cluster.commands(3) == Self.values)
    }
}
