import CairnRaft
import Testing

@Suite("Elections")
struct ElectionScenarioTests {
    @Test("a candidate with a majority wins, commits an empty entry of its term, and followers learn the commit")
    func candidateWinsWithMajority() {
        let cluster = ScenarioCluster(voters: 3)
        #expect(cluster.ids.allSatisfy { cluster[$0].term == 1 && cluster[$0].commitIndex == 1 })

        cluster.campaign(1)
        #expect(cluster[1].role == .preCandidate)
        #expect(cluster[1].term == 1, "a pre-vote changes no term")
        #expect(cluster.queued(.preVote, from: 1).count == 2)

        cluster.stabilize()
        #expect(cluster.leader == 1)
        #expect(cluster[1].term == 2)
        #expect(cluster.delivered(.vote, from: 1).count == 2)
        #expect(cluster.delivered(.voteResponse, to: 1).allSatisfy { $0.isGrant })

        let noop = cluster[1].entry(at: 2)
        #expect(noop?.kind == .empty)
        #expect(noop?.term == 2)
        #expect(cluster[1].commitIndex == 2)

        // Followers learn the commit from the next append or heartbeat.
        cluster.tickAll(1)
        for id in cluster.ids {
            #expect(cluster[id].term == 2)
            #expect(cluster[id].leader == 1)
            #expect(cluster[id].commitIndex == 2)
            #expect(cluster.logTerms(id) == [1, 2])
            #expect(cluster.applied[id]?.map(\.index) == [1, 2])
        }
        #expect(cluster[2].vote == 1 && cluster[3].vote == 1)
        #expect(cluster[2].role == .follower && cluster[3].role == .follower)
    }

    @Test("a candidate that cannot reach a majority does not win")
    func candidateWithoutMajorityLoses() {
        let cluster = ScenarioCluster(voters: 5, configure: { $0.preVote = false })
        cluster.partition([1, 2], [3, 4, 5])

        cluster.elect(1)
        #expect(cluster[1].role == .candidate)
        #expect(cluster[1].term == 2)
        #expect(cluster[2].vote == 1)
        #expect(cluster.leader == nil)
        #expect(cluster[1].commitIndex == 1)
    }

    @Test("two candidates in one term split the vote, and a later election with randomized timeouts resolves it")
    func splitVoteResolves() throws {
        let cluster = ScenarioCluster(voters: 4)
        // Node 3 only hears node 1 and node 4 only hears node 2.
        cluster.cut(from: 1, to: 4)
        cluster.cut(from: 2, to: 3)
        cluster.campaign(1)
        cluster.campaign(2)
        cluster.stabilize()

        #expect(cluster[1].role == .candidate && cluster[2].role == .candidate)
        #expect(cluster[1].term == 2 && cluster[2].term == 2)
        #expect(cluster[3].vote == 1)
        #expect(cluster[4].vote == 2)
        #expect(cluster.leader == nil, "2 of 4 votes is no majority")
        #expect(cluster.delivered(.voteResponse).filter(\.isGrant).count == 2)

        cluster.heal()
        let rounds = cluster.tickAll(until: { cluster.leader != nil }, limit: 60)
        #expect(rounds != nil)
        let leader = try #require(cluster.leader)
        let term = cluster[leader].term
        #expect(term > 2, "the vote is resolved in a later term")
        #expect(cluster.ids.filter { cluster[$0].role == .leader }.count == 1)
        cluster.tickAll(2)
        for id in cluster.ids {
            #expect(cluster[id].term == term)
            #expect(cluster[id].leader == leader)
            #expect(cluster[id].commitIndex == cluster[leader].lastIndex)
        }
    }

    @Test("a follower that stops hearing from its leader campaigns after a randomized election timeout")
    func followerCampaignsAfterTimeout() {
        let cluster = ScenarioCluster(voters: 3)
        cluster.elect(1)
        cluster.tickAll(5)
        #expect(cluster.leader == 1)

        cluster.crash(1)
        // Election timeouts are drawn from [10, 20): nobody moves before 10 ticks.
        cluster.tickAll(9)
        #expect(cluster[2].role == .follower && cluster[3].role == .follower)
        #expect(cluster[2].term == 2 && cluster[3].term == 2)

        let rounds = cluster.tickAll(until: { cluster.leader != nil }, limit: 20)
        #expect(rounds != nil)
        #expect(cluster.leader == 2 || cluster.leader == 3)
        #expect(cluster[cluster.leader ?? 2].term == 3)
    }

    @Test("a voter grants one vote per term")
    func oneVotePerTerm() {
        let cluster = ScenarioCluster(voters: 3, configure: { $0.preVote = false })
        cluster.cut(from: 1, to: 3)
        cluster.cut(from: 3, to: 1)
        cluster.campaign(1)
        cluster.campaign(3)
        cluster.stabilize()

        // Node 2 heard node 1 first and voted for it; node 3, in the same term, is refused.
        #expect(cluster[2].vote == 1)
        #expect(cluster.leader == 1)
        #expect(cluster[3].role == .candidate)
        let answersTo3 = cluster.delivered(.voteResponse, from: 2, to: 3)
        #expect(answersTo3.count == 1)
        #expect(answersTo3.allSatisfy { !$0.isGrant })
    }
}
