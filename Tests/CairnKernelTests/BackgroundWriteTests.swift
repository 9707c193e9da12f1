import CairnKernel
import CairnRaft
import CairnStorage
import Foundation
import Testing

/// A leader's log written on the replica's writer thread (``RaftReplica``'s background writes).
@Suite("Raft replica: background writes")
struct BackgroundWriteTests {
    /// A three-node cluster writing in the background, its leader's id and replica, and the two
    /// followers.
    static func cluster() throws -> (DiskCluster, leaderID: NodeID, leader: RaftReplica<RecordingStateMachine>, followers: [NodeID]) {
        let cluster = try DiskCluster(voters: [1, 2, 3], backgroundWrites: true)
        let leaderID = try cluster.electLeader()
        return (cluster, leaderID, cluster.replicas[leaderID]!, ([1, 2, 3] as [NodeID]).filter { $0 != leaderID })
    }

    /// Proposes `value` on the leader and takes its Ready: the appends are out, its own write in
    /// flight. Returns the entry's index and the messages to deliver.
    static func propose(_ value: String, on replica: RaftReplica<RecordingStateMachine>) throws -> (LogIndex, [Message]) {
        guard case .accepted(let index, _, _) = replica.propose([Array(value.utf8)]) else { throw CancellationError() }
        return (index, try replica.advance().messages)
    }

    /// Hands `messages` to the followers, and their answers to the leader.
    static func exchange(_ messages: [Message], in cluster: DiskCluster, leader: NodeID) throws {
        for m in messages where m.to != leader { cluster.replicas[m.to]!.step(m) }
        for id in cluster.replicas.keys.sorted() where id != leader {
            for m in try cluster.replicas[id]!.advance().messages where m.to == leader { cluster.replicas[leader]!.step(m) }
        }
    }

    @Test("the leader commits and applies on its two followers' acknowledgements while its own write is in flight, and counts that write once it is taken in")
    func commitsOnFollowers() throws {
        let (cluster, leaderID, leader, _) = try Self.cluster()
        let (index, appends) = try Self.propose("x", on: leader)
        #expect(leader.hasBackgroundWrites)
        #expect(leader.raft.status.stableIndex == index - 1)
        #expect(appends.filter { if case .append = $0.body { true } else { false } }.count == 2,
                "the appends left before the leader's write finished")

        try Self.exchange(appends, in: cluster, leader: leaderID)
        let out = try leader.advance()
        #expect(out.applied.map { String(decoding: $0.entry.data, as: UTF8.self) } == ["x"])
        #expect(leader.raft.commitIndex == index)
        #expect(leader.raft.status.stableIndex == index - 1, "its own write is not taken in yet")

        try cluster.drainBackgroundWrites(leaderID)
        #expect(leader.raft.status.stableIndex == index)
        try cluster.stop(leaderID)
        try cluster.start(leaderID)
        #expect(cluster.replicas[leaderID]!.raft.entry(at: index)?.data == Array("x".utf8), "durable on the leader's disk")
    }

    @Test("one follower's acknowledgement does not commit while the leader's own write is in flight")
    func oneFollowerIsNoQuorum() throws {
        let (cluster, leaderID, leader, followers) = try Self.cluster()
        let (index, appends) = try Self.propose("x", on: leader)
        try Self.exchange(appends.filter { $0.to == followers[0] }, in: cluster, leader: leaderID)
        let out = try leader.advance()
        #expect(out.applied.isEmpty)
        #expect(leader.raft.commitIndex == index - 1)

        try cluster.drainBackgroundWrites(leaderID)
        #expect(leader.raft.commitIndex == index, "the leader's own write completes the quorum")
        #expect(try leader.advance().applied.count == 1)
    }

    @Test("writes taken while one is in flight queue behind it and go out together as the next")
    func queuedWritesGoTogether() throws {
        let (cluster, leaderID, leader, _) = try Self.cluster()
        let signal = cluster.writeSignals[leaderID]!
        let before = signal.count
        _ = try Self.propose("a", on: leader)
        _ = try Self.propose("b", on: leader)
        let (last, _) = try Self.propose("c", on: leader)
        #expect(leader.raft.status.stableIndex == last - 3)

        try cluster.drainBackgroundWrites(leaderID)
        #expect(leader.raft.status.stableIndex == last)
        #expect(signal.count - before == 2, "a alone, then b and c as one write")
        try cluster.stop(leaderID)
        try cluster.start(leaderID)
        #expect((last - 2...last).map { cluster.replicas[leaderID]!.raft.entry(at: $0)?.data } == ["a", "b", "c"].map { Array($0.utf8) })
    }

    @Test("a snapshot is taken only at a durable index: beginning one waits for the writes in flight")
    func compactionWaitsForWrites() throws {
        let (cluster, leaderID, leader, _) = try Self.cluster()
        let (index, appends) = try Self.propose("x", on: leader)
        try Self.exchange(appends, in: cluster, leader: leaderID)
        _ = try leader.advance()
        #expect(leader.stateMachine.appliedIndex == index)
        #expect(leader.raft.snapshotMetadata(at: index) == nil, "applied, but not durable on the leader yet")

        let begun = try #require(try leader.beginCompaction())
        #expect(begun.metadata.index == index)
        #expect(!leader.hasBackgroundWrites)
        #expect(leader.raft.status.stableIndex == index)
    }

    @Test("a step-down to a newer term waits for the write in flight before its hard state is written")
    func stepDownWaitsForWrite() throws {
        let (cluster, leaderID, leader, followers) = try Self.cluster()
        let (index, _) = try Self.propose("x", on: leader)
        #expect(leader.hasBackgroundWrites)
        let term = leader.raft.term
        leader.step(Message(from: followers[0], to: leaderID, term: term + 1, body: .heartbeat(.init(commit: 0, readContext: 0))))
        _ = try leader.advance()
        #expect(leader.raft.role == .follower)
        #expect(!leader.hasBackgroundWrites, "the write in flight was taken in first")
        #expect(leader.raft.status.stableIndex == index)
        try cluster.stop(leaderID)
        try cluster.start(leaderID)
        #expect(cluster.replicas[leaderID]!.raft.term == term + 1)
        #expect(cluster.replicas[leaderID]!.raft.entry(at: index)?.data == Array("x".utf8))
    }

    @Test("closing finishes the write in flight")
    func closeFinishesWrite() throws {
        let (cluster, leaderID, leader, _) = try Self.cluster()
        let (index, _) = try Self.propose("x", on: leader)
        try cluster.stop(leaderID)
        #expect(leader.raft.status.stableIndex == index, "closing took the write in")
        try cluster.start(leaderID)
        #expect(cluster.replicas[leaderID]!.raft.entry(at: index)?.data == Array("x".utf8))
    }

    @Test("a background write that fails is reported when it is taken in, and the log takes no further write")
    func failedWriteIsReported() throws {
        let cluster = try DiskCluster(voters: [1], backgroundWrites: true, segmentSize: 64 << 20)
        _ = try cluster.electLeader()
        let replica = cluster.replicas[1]!
        // Make the active segment's descriptor refuse every write: /dev/full answers ENOSPC.
        let walDirectory = "\(cluster.root)/n1/wal/"
        let descriptor = try #require(Self.openDescriptor(under: walDirectory))
        let full = open("/dev/full", O_WRONLY)
        #expect(full >= 0)
        defer { close(full) }
        #expect(dup2(full, descriptor) == descriptor)

        _ = try Self.propose("x", on: replica)
        let error = try #require(throws: StorageError.self) { try cluster.drainBackgroundWrites(1) }
        #expect(error.code == .ioFailure)
        #expect(replica.raft.commitIndex < replica.raft.lastIndex, "nothing was committed")
        _ = try Self.propose("y", on: replica)
        #expect(throws: StorageError.self) { try cluster.drainBackgroundWrites(1) }
    }

    /// The file descriptor of this process open on a file in `directory`.
    static func openDescriptor(under directory: String) -> Int32? {
        let names = (try? FileManager.default.contentsOfDirectory(atPath: "/proc/self/fd")) ?? []
        for name in names {
            guard let fd = Int32(name),
                  let target = try? FileManager.default.destinationOfSymbolicLink(atPath: "/proc/self/fd/\(name)") else { continue }
            if target.hasPrefix(directory), target.hasSuffix(".wal") { return fd }
        }
        return nil
    }
}
