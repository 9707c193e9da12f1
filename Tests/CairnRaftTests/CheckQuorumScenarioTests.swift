import CairnRaft
import Testing

@Suite("Check-quorum")
struct CheckQuorumScenarioTests {
    @Test("a leader cut off from the majority steps down within two election timeouts, in the same term")
    func isolatedLeaderStepsDown() {
        let cluster = ScenarioCluster(voters: 3)
        cluster.elect(1)
        cluster.isolate(1)

        // The first check sees the followers heard from before the cut.
        cluster.tick(1, 10)
        #expect(cluster[1].role == .leader)
        cluster.tick(1, 9)
        #expect(cluster[1].role == .leader)
        cluster.tick(1, 1)
        #expect(cluster[1].role == .follower)
        #expect(cluster[1].term == 2)
        #expect(cluster[1].leader == .none)
        #expect(cluster.status(1).peers.isEmpty)
    }

    @Test("without check-quorum an isolated leader keeps believing it leads")
    func withoutCheckQuorumLeaderStays() {
        let cluster = ScenarioCluster(voters: 3, configure: { $0.checkQuorum = false })
        cluster.elect(1)
        cluster.isolate(1)
        cluster.tick(1, 50)
        #expect(cluster[1].role == .leader)
    }

    @Test("the majority elects a new leader and the deposed one follows it once healed")
    func majorityMovesOn() throws {
        let cluster = ScenarioCluster(voters: 3)
        cluster.elect(1)
        cluster.isolate(1)
        let rounds = cluster.tickAll(until: { cluster[1].role != .leader && cluster.leader != nil }, limit: 60)
        #expect(rounds != nil)
        let newLeader = try #require(cluster.leader)
        #expect(newLeader != 1)
        #expect(cluster[newLeader].term == 3)
        #expect(cluster[1].term == 2)

        cluster.propose(newLeader, "after")
        cluster.heal()
        cluster.tickAll(3)
        #expect(cluster[1].leader == newLeader)
        #expect(cluster[1].term == 3)
        #expect(cluster.commands(1) == ["after"])
    }

    @Test("followers that hear from a live leader ignore a higher-term vote request, unless it comes from a transfer")
    func inLeaseVoteRejection() {
        let cluster = ScenarioCluster(voters: 3, configure: { $0.preVote = false })
        cluster.elect(1)
        cluster.isolate(3)
        cluster.tick(3, 25)
        cluster.deliverAll()
        let inflated = cluster[3].term
        #expect(inflated > 2)

        cluster.heal()
        cluster.campaign(3)
        #expect(cluster.deliver(where: { $0.from == 3 && $0.kind == .vote }) == 2)
        #expect(cluster.queued(.voteResponse).isEmpty, "not even answered")
        #expect(cluster[1].role == .leader && cluster[1].term == 2)
        #expect(cluster[2].term == 2 && cluster[2].vote == 1 && cluster[2].leader == 1)

        // The same request flagged as a leadership transfer is granted.
        let transferTerm = inflated + 5
        cluster.inject(Message(from: 3, to: 2, term: transferTerm,
                               body: .vote(.init(lastIndex: 2, lastTerm: 2, preVote: false, transfer: true))))
        cluster.deliverAll()
        #expect(cluster[2].term == transferTerm)
        #expect(cluster[2].vote == 3)
        #expect(cluster.queued(.voteResponse, from: 2, to: 3).map(\.isGrant) == [true])
    }

    @Test("a follower votes again only once its leader has been quiet for an election timeout")
    func followerVotesAfterLeaseExpires() {
        let cluster = ScenarioCluster(voters: 3, configure: { $0.preVote = false })
        cluster.elect(1)
        cluster.crash(1)
        let request = Message(from: 3, to: 2, term: 4, body: .vote(.init(lastIndex: 2, lastTerm: 2, preVote: false, transfer: false)))

        cluster.tick(2, 9)
        cluster.inject(request)
        cluster.deliverAll()
        #expect(cluster[2].term == 2, "nine quiet ticks: still in the lease")

        cluster.tick(2, 1)
        cluster.inject(request)
        cluster.deliverAll()
        #expect(cluster[2].term == 4)
        #expect(cluster[2].vote == 3)
    }
}
