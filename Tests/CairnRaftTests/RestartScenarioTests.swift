import CairnRaft
import Testing

@Suite("Restarts")
struct RestartScenarioTests {
    @Test("a restarted node keeps its term, vote and log, and does not vote twice in a term")
    func restartKeepsVote() {
        let cluster = ScenarioCluster(voters: 3, configure: { $0.preVote = false })
        // Node 1 reaches only node 2, and never hears back: it stays a candidate.
        cluster.cut(from: 1, to: 3)
        cluster.cut(from: 2, to: 1)
        cluster.campaign(1)
        cluster.stabilize()
        #expect(cluster[1].role == .candidate)
        #expect(cluster[2].term == 2 && cluster[2].vote == 1)
        #expect(cluster[3].term == 1)
        let log = cluster[2].entries

        cluster.restart(2)
        #expect(cluster[2].term == 2)
        #expect(cluster[2].vote == 1)
        #expect(cluster[2].entries == log)
        #expect(cluster[2].role == .follower)

        // Node 3 campaigns in the same term 2: node 2 already voted in it.
        cluster.campaign(3)
        #expect(cluster[3].term == 2)
        cluster.stabilize()
        #expect(cluster.delivered(.voteResponse, from: 2, to: 3).map(\.isGrant) == [false])
        #expect(cluster[2].vote == 1)
        #expect(cluster[3].role == .candidate)
        #expect(cluster.leader == nil)
    }

    @Test("a restarted node reapplies its committed log and rejoins")
    func restartReappliesAndRejoins() {
        let cluster = ScenarioCluster(voters: 3)
        cluster.elect(1)
        cluster.propose(1, batch: ["a", "b"])
        cluster.stabilize()
        cluster.tickAll(1)

        cluster.restart(2)
        #expect(cluster[2].commitIndex == 4)
        #expect(cluster.applied[2]?.map(\.index) == [1, 2, 3, 4])
        #expect(cluster.commands(2) == ["a", "b"])

        cluster.propose(1, "c")
        cluster.stabilize()
        cluster.tickAll(1)
        #expect(cluster[2].leader == 1)
        #expect(cluster.commands(2) == ["a", "b", "c"])
    }

    @Test("a restarted node sits out one election timeout before voting against a leader it may have acknowledged")
    func restartedNodeRespectsLease() {
        let cluster = ScenarioCluster(voters: 3)
        cluster.elect(1)
        cluster.tickAll(1)
        cluster.restart(2)
        #expect(cluster[2].leader == .none)

        let request = Message(from: 3, to: 2, term: 3, body: .vote(.init(lastIndex: 2, lastTerm: 2, preVote: false, transfer: false)))
        cluster.inject(request)
        cluster.deliverAll()
        #expect(cluster[2].term == 2, "ignored during the quiet period after the restart")
        #expect(cluster.queued(.voteResponse).isEmpty)

        cluster.isolate(2)
        cluster.tick(2, 10)
        cluster.heal()
        cluster.inject(request)
        cluster.deliverAll()
        #expect(cluster[2].term == 3)
        #expect(cluster[2].vote == 3)
    }

    @Test("a node that never saw a term beyond the bootstrap starts without a quiet period")
    func freshNodeHasNoQuietPeriod() {
        let cluster = ScenarioCluster(voters: 3)
        cluster.restart(2)
        cluster.inject(Message(from: 3, to: 2, term: 2, body: .vote(.init(lastIndex: 1, lastTerm: 1, preVote: false, transfer: false))))
        cluster.deliverAll()
        #expect(cluster[2].term == 2)
        #expect(cluster[2].vote == 3)
    }
}
