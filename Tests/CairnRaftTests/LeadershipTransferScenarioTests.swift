import CairnRaft
import Testing

@Suite("Leadership transfer")
struct LeadershipTransferScenarioTests {
    @Test("a transfer to an up-to-date follower sends TimeoutNow at once, and the target wins in the next term")
    func transferToUpToDateFollower() {
        let cluster = ScenarioCluster(voters: 3)
        cluster.elect(1)
        cluster.tickAll(1)

        #expect(cluster.transfer(1, to: 2) == .started)
        #expect(cluster.queued(.timeoutNow, from: 1).map(\.to) == [2])
        cluster.stabilize()

        #expect(cluster.leader == 2)
        #expect(cluster[2].term == 3)
        #expect(cluster[1].role == .follower)
        #expect(cluster[1].leader == 2)
        #expect(cluster.delivered(.timeoutNow).count == 1)
        #expect(cluster.delivered(.preVote, from: 2).isEmpty, "the target skips pre-vote")
        #expect(cluster.delivered(.voteResponse, to: 2).allSatisfy { $0.isGrant }, "voters in a leader's lease still grant a transfer")
    }

    @Test("a transfer to a lagging follower first catches it up, and refuses proposals meanwhile")
    func transferToLaggingFollower() throws {
        let cluster = ScenarioCluster(voters: 3)
        cluster.elect(1)
        cluster.tickAll(1)
        cluster.isolate(3)
        cluster.propose(1, batch: ["a", "b", "c", "d", "e"])
        cluster.stabilize()
        #expect(cluster[3].lastIndex == 2)
        cluster.heal()

        #expect(cluster.transfer(1, to: 3) == .started)
        #expect(cluster.queued(.timeoutNow).isEmpty, "not before the target holds the whole log")
        #expect(cluster.propose(1, "during") == .transferInProgress)
        #expect(cluster.change(1, .remove(2)) == .transferInProgress)

        cluster.stabilize()
        #expect(cluster.leader == 3)
        #expect(cluster[3].term == 3)
        #expect(cluster.loggedCommands(3) == ["a", "b", "c", "d", "e"])
        let timeoutAt = try #require(cluster.delivered.firstIndex { $0.kind == .timeoutNow })
        let caughtUpAt = try #require(cluster.delivered.lastIndex { $0.to == 3 && $0.appendedEntries.contains { $0.index == 7 } })
        #expect(caughtUpAt < timeoutAt)
    }

    @Test("a transfer to an unreachable target is abandoned after an election timeout, and proposals resume")
    func transferAbandoned() {
        let cluster = ScenarioCluster(voters: 3)
        cluster.elect(1)
        cluster.tickAll(1)
        cluster.isolate(3)

        #expect(cluster.transfer(1, to: 3) == .started)
        #expect(cluster.propose(1, "refused") == .transferInProgress)
        cluster.tickAll(9)
        #expect(cluster.propose(1, "still-refused") == .transferInProgress)
        cluster.tickAll(1)
        #expect(cluster.propose(1, "accepted") == .accepted(firstIndex: 3, lastIndex: 3, term: 2))

        cluster.stabilize()
        #expect(cluster.leader == 1)
        #expect(cluster[1].term == 2)
        #expect(cluster.delivered(.timeoutNow).isEmpty)
        #expect(cluster.lost.filter { $0.kind == .timeoutNow }.count == 1)
        #expect(cluster.commands(1) == ["accepted"])
    }

    @Test("transfer requests that cannot apply are refused")
    func refusedTransfers() {
        let cluster = ScenarioCluster(voters: 3, configure: { $0.autoPromoteLearners = false })
        cluster.elect(1)
        cluster.addNode(4)
        cluster.change(1, .addLearner(4))
        cluster.stabilize()
        #expect(cluster.transfer(2, to: 3) == .notLeader(leader: 1))
        #expect(cluster.transfer(1, to: 1) == .alreadyLeader)
        #expect(cluster.transfer(1, to: 9) == .notAVoter)
        #expect(cluster.transfer(1, to: 4) == .notAVoter)
        #expect(cluster.propose(1, "still-leading") == .accepted(firstIndex: 4, lastIndex: 4, term: 2))
    }
}
