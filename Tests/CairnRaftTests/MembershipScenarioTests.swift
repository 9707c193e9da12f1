import CairnRaft
import Testing

@Suite("Membership changes")
struct MembershipScenarioTests {
    @Test("a learner replicates the log, but its acknowledgement does not count towards commit and it never campaigns")
    func learnerDoesNotCount() {
        let cluster = ScenarioCluster(voters: 3, configure: { $0.autoPromoteLearners = false })
        cluster.elect(1)
        cluster.tickAll(1)
        cluster.addNode(4)
        #expect(cluster.change(1, .addLearner(4)) == .accepted(firstIndex: 3, lastIndex: 3, term: 2))
        cluster.stabilize()
        cluster.tickAll(1)
        #expect(cluster[1].membership == Membership(voters: [1, 2, 3], learners: [4]))
        #expect(cluster[4].membership == Membership(voters: [1, 2, 3], learners: [4]))
        #expect(cluster[4].commitIndex == 3)

        // The voters go away: the leader and the learner are not a majority.
        cluster.isolate(2)
        cluster.isolate(3)
        cluster.propose(1, "x")
        cluster.stabilize()
        #expect(cluster[4].lastIndex == 4)
        #expect(cluster.status(1).peers[4]?.match == 4)
        #expect(cluster[1].commitIndex == 3)

        cluster.heal()
        cluster.tickAll(2)
        #expect(cluster[1].commitIndex == 4)
        #expect(cluster.commands(4) == ["x"])

        cluster.isolate(4)
        cluster.tick(4, 60)
        #expect(cluster[4].role == .follower)
        #expect(cluster[4].term == 2)
        #expect(cluster.queued(.preVote, from: 4).isEmpty && cluster.queued(.vote, from: 4).isEmpty)
    }

    @Test("a learner is promoted to voter automatically once it has caught up")
    func learnerIsAutoPromoted() {
        let cluster = ScenarioCluster(voters: 3)
        cluster.elect(1)
        cluster.propose(1, batch: ["a", "b", "c"])
        cluster.stabilize()
        cluster.addNode(4)
        #expect(cluster.change(1, .addLearner(4)) == .accepted(firstIndex: 6, lastIndex: 6, term: 2))
        cluster.stabilize()
        cluster.tickAll(1)

        let configurations = cluster[1].entries.filter { $0.kind == .membership }.compactMap { Membership(decoding: $0.data) }
        #expect(configurations == [
            Membership(voters: [1, 2, 3]),
            Membership(voters: [1, 2, 3], learners: [4]),
            Membership(voters: [1, 2, 3, 4]),
        ])
        for id in cluster.ids {
            #expect(cluster[id].membership == Membership(voters: [1, 2, 3, 4]), "node \(id)")
            #expect(cluster[id].commitIndex == 7, "node \(id)")
        }
        #expect(cluster[1].membership.quorum == 3)
        #expect(cluster.commands(4) == ["a", "b", "c"])
    }

    @Test("a manual promotion is refused while the learner is behind and accepted once it has caught up")
    func manualPromotion() {
        let cluster = ScenarioCluster(voters: 3, configure: { $0.autoPromoteLearners = false })
        cluster.elect(1)
        cluster.tickAll(1)
        cluster.addNode(4)
        cluster.isolate(4)
        cluster.change(1, .addLearner(4))
        cluster.stabilize()
        #expect(cluster[1].membership.learners == [4])
        #expect(cluster.change(1, .promote(4)) == .learnerNotCaughtUp)

        cluster.heal()
        cluster.tickAll(3)
        #expect(cluster.status(1).peers[4]?.match == cluster[1].commitIndex)
        #expect(cluster[1].membership.learners == [4], "no automatic promotion")
        #expect(cluster.change(1, .promote(4)) == .accepted(firstIndex: 4, lastIndex: 4, term: 2))
        cluster.stabilize()
        #expect(cluster[1].membership == Membership(voters: [1, 2, 3, 4]))
    }

    @Test("a second membership change is refused while the first is not yet applied")
    func oneChangeAtATime() {
        let cluster = ScenarioCluster(voters: 3, configure: { $0.autoPromoteLearners = false })
        cluster.elect(1)
        cluster.addNode(4)
        cluster.addNode(5)
        #expect(cluster.change(1, .addLearner(4)) == .accepted(firstIndex: 3, lastIndex: 3, term: 2))
        #expect(cluster.change(1, .addLearner(5)) == .membershipChangePending)
        #expect(cluster.change(1, .remove(3)) == .membershipChangePending)
        #expect(cluster[1].lastIndex == 3)

        cluster.stabilize()
        #expect(cluster.change(1, .addLearner(5)) == .accepted(firstIndex: 4, lastIndex: 4, term: 2))
    }

    @Test("a new leader refuses membership changes until an entry of its own term is committed")
    func newLeaderWaitsForItsOwnEntry() {
        let cluster = ScenarioCluster(voters: 3)
        cluster.dropMessages(where: { $0.kind == .append })
        cluster.elect(1)
        cluster.addNode(4)
        #expect(cluster.leader == 1)
        #expect(cluster[1].commitIndex == 1)
        #expect(cluster.change(1, .addLearner(4)) == .membershipChangePending)

        cluster.heal()
        cluster.tickAll(2)
        #expect(cluster[1].commitIndex == 2)
        #expect(cluster.change(1, .addLearner(4)) == .accepted(firstIndex: 3, lastIndex: 3, term: 2))
    }

    @Test("removing a voter shrinks the quorum")
    func removingAVoterShrinksTheQuorum() {
        let cluster = ScenarioCluster(voters: 4)
        cluster.elect(1)
        cluster.tickAll(1)
        #expect(cluster[1].membership.quorum == 3)

        // With 4 down and 3 cut off, 1 and 2 are no majority of four.
        cluster.crash(4)
        cluster.isolate(3)
        cluster.propose(1, "x")
        cluster.stabilize()
        #expect(cluster[1].commitIndex == 2)

        cluster.heal()
        cluster.tickAll(2)
        #expect(cluster[1].commitIndex == 3)
        #expect(cluster.change(1, .remove(4)) == .accepted(firstIndex: 4, lastIndex: 4, term: 2))
        cluster.stabilize()
        #expect(cluster[1].membership == Membership(voters: [1, 2, 3]))
        #expect(cluster[1].membership.quorum == 2)
        #expect(cluster.status(1).peers[4] == nil)

        // Now 1 and 2 are a majority of three.
        cluster.isolate(3)
        cluster.propose(1, "y")
        cluster.stabilize()
        #expect(cluster[1].commitIndex == 5)
        #expect(cluster.commands(1) == ["x", "y"])
        #expect(cluster.lost.filter { $0.to == 4 && $0.term == 2 && $0.appendedEntries.contains { $0.index == 5 } }.isEmpty,
                "the removed node is sent nothing new")
    }

    @Test("a leader that removes itself steps down once the change is applied, and the rest elect a leader without it")
    func removingTheLeader() throws {
        let cluster = ScenarioCluster(voters: 3)
        cluster.elect(1)
        cluster.tickAll(1)
        #expect(cluster.change(1, .remove(1)) == .accepted(firstIndex: 3, lastIndex: 3, term: 2))
        #expect(cluster[1].role == .leader, "it leads until the change is applied")

        cluster.stabilize()
        #expect(cluster[1].role == .follower)
        #expect(cluster[1].membership == Membership(voters: [2, 3]))
        #expect(cluster.applied[1]?.last?.index == 3)
        for id: NodeID in [2, 3] {
            #expect(cluster[id].commitIndex == 3, "node \(id) learned the commit as the leader left")
            #expect(cluster[id].membership == Membership(voters: [2, 3]), "node \(id)")
        }

        let rounds = cluster.tickAll(until: { cluster.leader != nil }, limit: 40)
        #expect(rounds != nil)
        let leader = try #require(cluster.leader)
        #expect(leader == 2 || leader == 3)
        #expect(cluster[leader].term == 3)
        #expect(cluster.status(leader).peers.keys.sorted() == [2, 3])

        cluster.propose(leader, "without-1")
        cluster.stabilize()
        #expect(cluster.commands(leader) == ["without-1"])
        #expect(cluster[1].term == 2, "the removed node never campaigns and is not contacted")
        #expect(cluster.delivered.filter { $0.to == 1 && $0.term == 3 }.isEmpty)
    }

    @Test("invalid membership changes are refused and append nothing")
    func invalidChanges() {
        let cluster = ScenarioCluster(voters: 3)
        cluster.elect(1)
        #expect(cluster.change(1, .addLearner(2)) == .invalidMembershipChange)
        #expect(cluster.change(1, .addLearner(.none)) == .invalidMembershipChange)
        #expect(cluster.change(1, .promote(3)) == .invalidMembershipChange)
        #expect(cluster.change(1, .remove(9)) == .invalidMembershipChange)
        #expect(cluster.change(2, .addLearner(4)) == .notLeader(leader: 1))
        #expect(cluster[1].lastIndex == 2)

        let single = ScenarioCluster(voters: 1)
        single.elect(1)
        #expect(single.leader == 1)
        #expect(single.change(1, .remove(1)) == .invalidMembershipChange, "the last voter cannot be removed")
    }
}
