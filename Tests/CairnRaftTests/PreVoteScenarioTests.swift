import CairnRaft
import Testing

@Suite("Pre-vote")
struct PreVoteScenarioTests {
    @Test("a partitioned follower that keeps timing out does not raise its term, and rejoins without disturbing the leader")
    func partitionedFollowerKeepsItsTerm() {
        let cluster = ScenarioCluster(voters: 3)
        cluster.elect(1)
        cluster.isolate(3)
        cluster.tickAll(50)

        #expect(cluster[3].role == .preCandidate)
        #expect(cluster[3].term == 2, "a pre-vote that fails changes no term")
        #expect(cluster.lost.filter { $0.from == 3 && $0.kind == .preVote }.count >= 4, "it tried at least twice")
        #expect(cluster.lost.filter { $0.from == 3 && $0.kind == .vote }.isEmpty, "it never started a real election")
        #expect(cluster.leader == 1)

        #expect(cluster.propose(1, "while-away") == .accepted(firstIndex: 3, lastIndex: 3, term: 2))
        cluster.stabilize()
        cluster.heal()
        cluster.tickAll(30)

        #expect(cluster.leader == 1)
        #expect(cluster[1].term == 2, "the leader's term is untouched")
        #expect(cluster[3].role == .follower)
        #expect(cluster[3].leader == 1)
        #expect(cluster[3].term == 2)
        #expect(cluster.commands(3) == ["while-away"])
    }

    @Test("without pre-vote the partitioned follower's term climbs, and on healing it forces the leader out of its term")
    func withoutPreVoteTheTermClimbs() throws {
        let cluster = ScenarioCluster(voters: 3, configure: { $0.preVote = false })
        cluster.elect(1)
        cluster.isolate(3)
        cluster.tickAll(50)

        #expect(cluster[3].role == .candidate)
        #expect(cluster[3].term >= 4, "at least two real elections, each in a new term")
        #expect(cluster.leader == 1 && cluster[1].term == 2, "the majority side does not notice yet")

        let inflated = cluster[3].term
        cluster.heal()
        cluster.tickAll(1)
        #expect(cluster[1].role != .leader, "the leader learned a higher term and stepped down")
        #expect(cluster[1].term >= inflated)

        cluster.tickAll(until: { cluster.leader != nil }, limit: 40)
        let leader = try #require(cluster.leader)
        #expect(cluster[leader].term >= inflated)
    }

    @Test("a pre-vote is refused to a node whose log is behind, so its failed pre-votes leave every term alone")
    func preVoteRefusedToStaleLog() {
        // Without check-quorum, so that only the log decides the pre-vote.
        let cluster = ScenarioCluster(voters: 3, configure: { $0.checkQuorum = false })
        cluster.elect(1)
        cluster.isolate(3)
        cluster.propose(1, "a")
        cluster.stabilize()
        #expect(cluster[1].commitIndex == 3)
        #expect(cluster[3].lastIndex == 2)

        // The leader goes away; the stale node times out first.
        cluster.crash(1)
        cluster.heal()
        cluster.tick(3, 20)
        cluster.stabilize()
        let answers = cluster.delivered(.preVoteResponse, from: 2, to: 3)
        #expect(!answers.isEmpty)
        #expect(answers.allSatisfy { !$0.isGrant })
        #expect(cluster[3].role == .preCandidate)
        #expect(cluster[2].term == 2 && cluster[3].term == 2)
        #expect(cluster[2].vote == 1)

        // The up-to-date node wins the next election and the stale one catches up.
        cluster.tickAll(until: { cluster.leader != nil }, limit: 40)
        #expect(cluster.leader == 2)
        #expect(cluster[2].term == 3)
        cluster.tickAll(2)
        #expect(cluster.commands(3) == ["a"])
    }
}
