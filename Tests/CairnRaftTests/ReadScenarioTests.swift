import CairnRaft
import Testing

@Suite("ReadIndex and lease reads")
struct ReadScenarioTests {
    @Test("a ReadIndex read is released only once a quorum answered the heartbeat round, at the commit index of the request")
    func readIndexWaitsForQuorum() {
        let cluster = ScenarioCluster(voters: 5)
        cluster.elect(1)
        cluster.tickAll(1)

        #expect(cluster.readIndex(1, 7) == .pending)
        let round = cluster.queued(.heartbeat, from: 1)
        #expect(round.count == 4)
        #expect(round.allSatisfy { ($0.readContext ?? 0) > 0 })
        cluster.propose(1, "written-after-the-read")

        cluster.deliver(where: { $0.kind == .heartbeat && ($0.to == 2 || $0.to == 3) })
        #expect(cluster.readStates[1, default: []].isEmpty, "not answered yet")
        cluster.deliver(where: { $0.kind == .heartbeatResponse && $0.from == 2 })
        #expect(cluster.readStates[1, default: []].isEmpty, "two of five is no quorum")
        cluster.deliver(where: { $0.kind == .heartbeatResponse && $0.from == 3 })
        #expect(cluster.readStates[1] == [ReadState(requestID: 7, index: 2)])

        cluster.stabilize()
        #expect(cluster[1].commitIndex == 3)
        #expect(cluster.readStates[1] == [ReadState(requestID: 7, index: 2)], "released once, at the index of the request")
    }

    @Test("a new leader holds reads until an entry of its own term is committed")
    func newLeaderWaitsForItsOwnEntry() {
        let cluster = ScenarioCluster(voters: 3)
        cluster.dropMessages(where: { $0.kind == .append })
        cluster.elect(1)
        #expect(cluster.leader == 1)
        #expect(cluster[1].commitIndex == 1)

        #expect(cluster.readIndex(1, 9) == .pending)
        #expect(cluster.queued(.heartbeat).isEmpty, "no round is started before the leader's own entry commits")

        cluster.heal()
        cluster.tickAll(until: { !cluster.readStates[1, default: []].isEmpty }, limit: 5)
        #expect(cluster[1].commitIndex == 2)
        #expect(cluster.readStates[1] == [ReadState(requestID: 9, index: 2)])
    }

    @Test("a leader cut off from the majority never releases a read, and drops it when it steps down")
    func partitionedLeaderCannotServeReads() {
        let cluster = ScenarioCluster(voters: 3)
        cluster.elect(1)
        cluster.tickAll(1)
        cluster.isolate(1)

        #expect(cluster.readIndex(1, 5) == .pending)
        cluster.tick(1, 9)
        cluster.deliverAll()
        #expect(cluster[1].role == .leader)
        #expect(cluster.readStates[1, default: []].isEmpty)
        #expect(cluster.droppedReads[1, default: []].isEmpty)

        cluster.tick(1, 20)
        #expect(cluster[1].role == .follower)
        #expect(cluster.readStates[1, default: []].isEmpty)
        #expect(cluster.droppedReads[1] == [5])
    }

    @Test("a follower answers a read with the leader it knows")
    func followerRedirects() {
        let cluster = ScenarioCluster(voters: 3)
        #expect(cluster.readIndex(1, 1) == .notLeader(leader: .none))
        cluster.elect(1)
        #expect(cluster.readIndex(2, 2) == .notLeader(leader: 1))
        #expect(cluster.leaseRead(3, 3) == .notLeader(leader: 1))
        #expect(cluster.readStates[2, default: []].isEmpty && cluster.readStates[3, default: []].isEmpty)
    }

    @Test("the lease is valid after a quorum heartbeat round and ends electionTimeout - leaseSafetyMargin ticks after it")
    func leaseLifetime() {
        let cluster = ScenarioCluster(voters: 3)
        cluster.elect(1)
        #expect(!cluster[1].leaseIsValid, "no heartbeat round answered yet")

        cluster.tickAll(1)
        #expect(cluster[1].leaseIsValid)

        // A lease read is answered at once, without a heartbeat round.
        #expect(cluster.leaseRead(1, 11) == .pending)
        #expect(cluster.readStates[1] == [ReadState(requestID: 11, index: 2)])
        #expect(cluster.queued(.heartbeat).isEmpty)

        // The round was sent at tick 1; the lease lasts 10 - 2 = 8 ticks from then.
        cluster.isolate(1)
        cluster.tick(1, 7)
        #expect(cluster[1].leaseIsValid)
        cluster.tick(1, 1)
        #expect(!cluster[1].leaseIsValid)
        #expect(cluster[1].role == .leader, "still leading, but without a lease")

        // Without a lease, a lease read falls back to ReadIndex.
        cluster.deliverAll()
        #expect(cluster.leaseRead(1, 12) == .pending)
        #expect(cluster.queued(.heartbeat, from: 1).count == 2)
        #expect(cluster.readStates[1] == [ReadState(requestID: 11, index: 2)])
    }

    @Test("the lease counts from when the confirming heartbeat was sent, not from when it was answered")
    func leaseCountsFromTheSend() throws {
        let cluster = ScenarioCluster(voters: 3)
        cluster.elect(1)
        cluster.tick(1, 1)
        let firstRound = try #require(cluster.queued(.heartbeat, from: 1).first?.readContext)
        cluster.tick(1, 3)

        // The round sent at tick 1 is answered only now, at tick 4.
        cluster.deliver(where: { $0.readContext == firstRound })
        cluster.deliver(where: { $0.kind == .heartbeatResponse })
        cluster.discardQueued(where: { _ in true })
        #expect(cluster[1].leaseIsValid)

        cluster.isolate(1)
        cluster.tick(1, 4)
        #expect(cluster[1].leaseIsValid, "tick 8: within 8 ticks of the send")
        cluster.tick(1, 1)
        #expect(!cluster[1].leaseIsValid, "tick 9: 8 ticks after the send, though only 5 after the answer")
    }

    @Test("acknowledged heartbeats extend the lease")
    func leaseIsRenewed() {
        let cluster = ScenarioCluster(voters: 3)
        cluster.elect(1)
        cluster.tickAll(30)
        #expect(cluster[1].leaseIsValid)
        #expect(cluster.leader == 1)
    }

    @Test("the lease ends when a leadership transfer starts and stays off for the term")
    func leaseEndsWithTransfer() {
        let cluster = ScenarioCluster(voters: 3)
        cluster.elect(1)
        cluster.tickAll(1)
        #expect(cluster[1].leaseIsValid)

        cluster.cut(from: 1, to: 3)
        #expect(cluster.transfer(1, to: 3) == .started)
        #expect(!cluster[1].leaseIsValid)

        cluster.tickAll(10)
        #expect(cluster.propose(1, "transfer-abandoned") != .transferInProgress)
        #expect(cluster.leader == 1)
        #expect(!cluster[1].leaseIsValid, "off for the rest of the term")
    }
}
