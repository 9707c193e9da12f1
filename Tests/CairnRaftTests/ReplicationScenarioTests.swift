import CairnRaft
import Testing

@Suite("Replication")
struct ReplicationScenarioTests {
    @Test("appends are pipelined up to the inflight window, and the leader stops sending when it is full")
    func pipeliningUpToTheWindow() {
        let cluster = ScenarioCluster(voters: 3, configure: { $0.maxInflightAppends = 3 })
        cluster.elect(1)
        cluster.tickAll(1)
        #expect(cluster.status(1).peers[2]?.state == "replicate")

        let deliveredBefore = cluster.delivered.count
        for i in 1...5 { cluster.propose(1, "p\(i)") }
        #expect(cluster.delivered.count == deliveredBefore, "nothing answered yet")
        let inFlight = cluster.queued(.append, from: 1, to: 2)
        #expect(inFlight.map { $0.appendedEntries.map(\.index) } == [[3], [4], [5]], "three in flight, then the window is full")

        // One acknowledgement frees one slot: the rest goes in one append.
        cluster.deliver(where: { $0.to == 2 && $0.appendedEntries.first?.index == 3 })
        cluster.deliver(where: { $0.from == 2 && $0.kind == .appendResponse })
        #expect(cluster.queued(.append, from: 1, to: 2).last?.appendedEntries.map(\.index) == [6, 7])
        #expect(cluster.queued(.append, from: 1, to: 3).count == 3, "node 3's window is still full")

        cluster.stabilize()
        cluster.tickAll(1)
        for id in cluster.ids {
            #expect(cluster[id].commitIndex == 7)
            #expect(cluster.commands(id) == ["p1", "p2", "p3", "p4", "p5"])
        }
    }

    @Test("maxAppendBytes splits a batch of entries across several appends")
    func batchingByBytes() {
        // Each entry accounts for 40 payload bytes + 24 = 64: two fit in 150 bytes, three do not.
        let cluster = ScenarioCluster(voters: 3, configure: { $0.maxAppendBytes = 150 })
        cluster.elect(1)
        cluster.tickAll(1)

        let mark = cluster.delivered.count
        let commands = (1...6).map { "command-\($0)-" + String(repeating: "x", count: 30) }
        #expect(cluster.propose(1, batch: commands) == .accepted(firstIndex: 3, lastIndex: 8, term: 2))
        cluster.stabilize()

        let appends = cluster.delivered[mark...].filter { $0.kind == .append && $0.to == 2 && !$0.appendedEntries.isEmpty }
        #expect(appends.map { $0.appendedEntries.map(\.index) } == [[3, 4], [5, 6], [7, 8]])
        #expect(cluster[1].commitIndex == 8)
        cluster.tickAll(1)
        #expect(cluster.commands(2) == commands)
    }

    @Test("without a byte limit the same batch goes out in one append")
    func batchInOneAppend() {
        let cluster = ScenarioCluster(voters: 3)
        cluster.elect(1)
        cluster.tickAll(1)
        let mark = cluster.delivered.count
        cluster.propose(1, batch: (1...6).map { "command-\($0)-" + String(repeating: "x", count: 30) })
        cluster.stabilize()
        let appends = cluster.delivered[mark...].filter { $0.kind == .append && $0.to == 2 && !$0.appendedEntries.isEmpty }
        #expect(appends.map { $0.appendedEntries.count } == [6])
    }

    @Test("the leader sends its new entries before they are durable on its own disk, and commits only once they are")
    func leaderAppendsBeforePersistingAndCommitsAfter() throws {
        let cluster = ScenarioCluster(voters: 3)
        cluster.elect(1)
        cluster.tickAll(1)

        cluster.holdDisk(1)
        cluster.propose(1, "x")
        let write = try #require(cluster.pendingWrites[1]?.first)
        #expect(write.entries.map(\.index) == [3])
        #expect(write.messages.filter { $0.kind == .append }.map { $0.appendedEntries.map(\.index) } == [[3], [3]])
        #expect(write.messagesAfterPersist.isEmpty)
        #expect(cluster.queued(.append, from: 1).count == 2, "already on the wire")
        #expect(cluster.disks[1]?.entries.last?.index == 2, "not on the leader's disk yet")

        // Only node 2 gets it: node 2 plus a leader whose write is not durable are no majority.
        cluster.discardQueued(where: { $0.to == 3 })
        cluster.deliverAll()
        cluster.deliverAll()
        #expect(cluster.status(1).peers[2]?.match == 3)
        #expect(cluster[1].commitIndex == 2)

        cluster.releaseDisk(1)
        #expect(cluster[1].commitIndex == 3)
        #expect(cluster.commands(1) == ["x"])
    }

    @Test("two followers commit an entry before the leader's own write is durable; the leader may apply it at once but snapshots it only once durable")
    func followersAloneFormAMajority() {
        let cluster = ScenarioCluster(voters: 3)
        cluster.elect(1)
        cluster.tickAll(1)

        cluster.holdDisk(1)
        cluster.propose(1, "x")
        cluster.deliverAll()
        cluster.deliverAll()
        #expect(cluster[1].commitIndex == 3)
        #expect(cluster[1].status.stableIndex == 2, "the leader's own write is still in flight")
        #expect(cluster.pendingWrites[1]?.flatMap(\.committed).map(\.index) == [3],
                "durable on both followers: handed out for applying although not durable on the leader")
        #expect(cluster[1].snapshotMetadata(at: 3) == nil, "no snapshot beyond what the leader made durable")
        #expect(cluster.compact(1, through: 3) == .invalidIndex)

        cluster.releaseDisk(1)
        #expect(cluster.commands(1) == ["x"])
        #expect(cluster[1].status.stableIndex == 3)
        #expect(cluster[1].snapshotMetadata(at: 3) != nil)
    }

    @Test("a follower that lost an append rejects the next one and is repaired without waiting for a heartbeat")
    func lostAppendIsRepairedByTheNextOne() {
        let cluster = ScenarioCluster(voters: 3)
        cluster.elect(1)
        cluster.tickAll(1)
        cluster.dropNext(where: { $0.kind == .append && $0.to == 3 && !$0.appendedEntries.isEmpty })
        cluster.propose(1, "x")
        cluster.propose(1, "y")
        cluster.stabilize()
        #expect(cluster.delivered(.appendResponse, from: 3).contains { $0.isRejection })
        #expect(cluster[3].lastIndex == 4, "repaired within the same exchange")
        #expect(cluster[1].commitIndex == 4)
        cluster.tickAll(1)
        #expect(cluster.commands(3) == ["x", "y"])
    }

    @Test("a follower that lost the last append is caught up after the next heartbeat")
    func lostLastAppendIsResentAfterHeartbeat() {
        let cluster = ScenarioCluster(voters: 3)
        cluster.elect(1)
        cluster.tickAll(1)
        // The append and the commit update that follows it are both lost: node 3 has nothing to reject.
        cluster.dropMessages(where: { $0.kind == .append && $0.to == 3 })
        cluster.propose(1, "x")
        cluster.stabilize()
        #expect(cluster.lost.filter { $0.kind == .append && $0.to == 3 }.count == 2)
        #expect(cluster[3].lastIndex == 2)
        #expect(cluster[1].commitIndex == 3, "nodes 1 and 2 suffice")

        cluster.heal()
        cluster.tickAll(1)
        #expect(cluster[3].lastIndex == 3)
        #expect(cluster.commands(3) == ["x"])
    }

    @Test("a commit reaches up-to-date followers as a commit notice: an empty append, kept apart from the messages that must go")
    func commitReachesFollowersAsANotice() {
        let cluster = ScenarioCluster(voters: 3)
        cluster.elect(1)
        cluster.tickAll(1)
        let mark = cluster.delivered.count
        cluster.propose(1, "x")
        cluster.stabilize()
        let notices = cluster.delivered[mark...].filter { $0.kind == .append && $0.from == 1 && $0.appendedEntries.isEmpty }
        #expect(notices.map(\.to).sorted() == [2, 3])
        #expect(notices.allSatisfy { if case .append(let a) = $0.body { a.commit == 3 && a.prevIndex == 3 } else { false } })
        // Delivered, the notice moves the followers' commit index without waiting for a heartbeat.
        #expect(cluster[2].commitIndex == 3)
        #expect(cluster[3].commitIndex == 3)
        #expect(cluster.commands(2) == ["x"])
    }

    @Test("dropped commit notices cost only time: the next append or heartbeat brings the commit index")
    func droppedCommitNoticesAreRecovered() {
        let cluster = ScenarioCluster(voters: 3)
        cluster.elect(1)
        cluster.tickAll(1)
        cluster.dropsCommitNotices = true
        cluster.propose(1, "x")
        cluster.stabilize()
        #expect(cluster[1].commitIndex == 3)
        #expect(cluster.droppedCommitNotices == 2)
        #expect(cluster[2].commitIndex == 2, "the notice was dropped")
        #expect(cluster.commands(2).isEmpty)

        // The next append carries the commit index of the entry before it.
        cluster.propose(1, "y")
        cluster.deliver(where: { $0.kind == .append && $0.from == 1 })
        #expect(cluster[2].commitIndex == 3)
        #expect(cluster.commands(2) == ["x"])
        cluster.stabilize()
        #expect(cluster[1].commitIndex == 4)
        #expect(cluster[3].commitIndex == 3)

        // With nothing more to append, the heartbeat does.
        cluster.tickAll(1)
        cluster.stabilize()
        for id in cluster.ids {
            #expect(cluster[id].commitIndex == 4)
            #expect(cluster.commands(id) == ["x", "y"])
        }
    }
}
