import CairnRaft
import Testing

@Suite("Divergent logs")
struct LogRepairScenarioTests {
    @Test("a deposed leader's uncommitted entries from its old term are overwritten by the new leader's log")
    func uncommittedEntriesAreOverwritten() throws {
        let cluster = ScenarioCluster(voters: 3)
        cluster.elect(1)
        cluster.propose(1, "committed")
        cluster.stabilize()
        #expect(cluster[1].commitIndex == 3)

        cluster.isolate(1)
        for value in ["stale-a", "stale-b", "stale-c"] { cluster.propose(1, value) }
        cluster.stabilize()
        #expect(cluster.logTerms(1) == [1, 2, 2, 2, 2, 2])
        #expect(cluster[1].commitIndex == 3)

        cluster.tickAll(until: { cluster.leader != nil && cluster.leader != 1 }, limit: 40)
        let newLeader = try #require(cluster.leader)
        #expect(newLeader != 1)
        #expect(cluster.propose(newLeader, "x") == .accepted(firstIndex: 5, lastIndex: 5, term: 3))
        cluster.stabilize()

        cluster.heal()
        cluster.tickAll(3)
        #expect(cluster[1].role == .follower)
        #expect(cluster[1].leader == newLeader)
        #expect(cluster.logTerms(1) == [1, 2, 2, 3, 3])
        #expect(cluster.loggedCommands(1) == ["committed", "x"])
        #expect(cluster.commands(1) == ["committed", "x"])
        #expect(cluster[1].commitIndex == 5)
    }

    @Test("fast backtracking repairs a fifty-entry divergence in a single rejection")
    func fastBacktracking() throws {
        let cluster = ScenarioCluster(voters: 3)
        cluster.elect(1)
        cluster.propose(1, batch: (1...5).map { "shared-\($0)" })
        cluster.stabilize()
        #expect(cluster[1].commitIndex == 7)

        // Node 1 keeps leading alone and writes 50 entries nobody else has.
        cluster.isolate(1)
        cluster.propose(1, batch: (1...50).map { "divergent-\($0)" })
        cluster.stabilize()
        #expect(cluster[1].lastIndex == 57)

        // The others move on to term 3 and write 50 entries of their own.
        cluster.tickAll(until: { cluster.leader != nil && cluster.leader != 1 }, limit: 40)
        let second = try #require(cluster.leader)
        cluster.propose(second, batch: (1...50).map { "new-\($0)" })
        cluster.stabilize()

        // A leader elected now starts node 1's next index past the end of its own long log.
        let third: NodeID = second == 2 ? 3 : 2
        #expect(cluster.transfer(second, to: third) == .started)
        cluster.stabilize()
        #expect(cluster.leader == third)
        #expect(cluster[third].lastIndex == 59)

        let before = cluster.delivered.count
        cluster.heal()
        cluster.tickAll(3)
        let answers = cluster.delivered[before...].filter { $0.from == 1 && $0.kind == .appendResponse }
        let rejections = answers.filter(\.isRejection).count
        #expect(rejections >= 1, "the logs did diverge")
        #expect(rejections <= 2, "far fewer round trips than the 50 divergent entries")

        #expect(cluster[1].entries == cluster[third].entries)
        #expect(cluster.loggedCommands(1).filter { $0.hasPrefix("divergent") }.isEmpty)
        #expect(cluster[1].commitIndex == 59)
    }

    @Test("fast backtracking also skips, in one step, a follower's entries from a term the leader never saw")
    func fastBacktrackingOverHigherTermSuffix() throws {
        let cluster = ScenarioCluster(voters: 5, configure: {
            $0.preVote = false
            $0.checkQuorum = false
        })
        cluster.elect(1)
        cluster.propose(1, batch: (1...5).map { "shared-\($0)" })
        cluster.stabilize()
        cluster.tickAll(1)
        #expect(cluster.ids.allSatisfy { cluster[$0].commitIndex == 7 })

        // S1 writes 50 entries of term 2 that only S2 receives.
        cluster.dropMessages(where: { $0.kind == .append && $0.from == 1 && $0.to != 2 })
        cluster.propose(1, batch: (1...50).map { "two-\($0)" })
        cluster.stabilize()
        #expect(cluster[2].lastIndex == 57)

        // S3 leads term 3 with S4 and S5 and writes 51 entries nobody receives.
        cluster.heal()
        cluster.isolate(1)
        cluster.isolate(2)
        cluster.dropMessages(where: { $0.kind == .append && $0.from == 3 })
        cluster.elect(3)
        #expect(cluster.leader == 3)
        cluster.propose(3, batch: (1...50).map { "three-\($0)" })
        cluster.stabilize()
        #expect(cluster.logTerms(3).suffix(51).allSatisfy { $0 == 3 })

        // S2 leads term 4 with S1, S4 and S5 (term 3 is taken by S3's election).
        cluster.heal()
        cluster.isolate(3)
        cluster.elect(2)
        cluster.elect(2)
        #expect(cluster.leader == 2)
        #expect(cluster[2].term == 4)

        let before = cluster.delivered.count
        cluster.heal()
        cluster.tickAll(3)
        let rejections = cluster.delivered[before...].filter { $0.from == 3 && $0.isRejection }.count
        #expect(rejections >= 1, "the logs did diverge")
        #expect(rejections <= 2, "far fewer round trips than the 51 divergent entries")
        #expect(cluster[3].entries == cluster[2].entries)
        #expect(cluster.loggedCommands(3).filter { $0.hasPrefix("three") }.isEmpty)
    }
}
