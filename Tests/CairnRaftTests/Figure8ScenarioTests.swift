import CairnRaft
import Testing

/// Figure 8 of the Raft paper (§5.4.2): a leader may not conclude that an entry from an earlier
/// term is committed because it is stored on a majority. Five servers, plain Raft (no pre-vote,
/// no check-quorum). Cairn's logs start with the bootstrap entry at index 1, term 1, and every
/// new leader writes an empty entry of its term first, so indexes and terms are those of the
/// paper shifted by one; S2 and S3 swap roles in (c) and (d).
@Suite("Figure 8 of the Raft paper")
struct Figure8ScenarioTests {
    /// Builds situation (c): S1 leads term 4, has replicated its term-2 entries at indexes 2–3
    /// to S2 and S3 (a majority, and it knows it), but its own term-4 entry only to S2.
    static func situationC() -> ScenarioCluster {
        let cluster = ScenarioCluster(voters: 5, configure: {
            $0.preVote = false
            $0.checkQuorum = false
            $0.maxAppendBytes = 1  // one entry per append, so that entries can be lost one by one
        })

        // (a) S1 leads term 2 and replicates its entries to S2 only.
        cluster.dropMessages(where: { $0.kind == .append && $0.from == 1 && $0.to != 2 })
        cluster.elect(1)
        cluster.propose(1, "a")
        cluster.stabilize()
        #expect(cluster[1].term == 2)
        #expect(cluster.logTerms(1) == [1, 2, 2])
        #expect(cluster.logTerms(2) == [1, 2, 2])
        #expect(cluster.logTerms(3) == [1])
        #expect(cluster[1].commitIndex == 1, "two of five is no majority")

        // (b) S1 crashes; S5 is elected in term 3 by S3, S4 and itself, and writes entries
        // nobody receives.
        cluster.crash(1)
        cluster.heal()
        cluster.dropMessages(where: { $0.kind == .append && $0.from == 5 })
        cluster.elect(5)
        #expect(cluster.leader == 5)
        #expect(cluster[5].term == 3)
        #expect(cluster.delivered(.voteResponse, from: 2, to: 5).map(\.isGrant) == [false], "S2's log is more up to date")
        cluster.propose(5, "b")
        cluster.stabilize()
        #expect(cluster.logTerms(5) == [1, 3, 3])
        #expect(cluster[5].commitIndex == 1)

        // (c) S5 crashes; S1 restarts and is elected in term 4 (its try in term 3 fails: S3
        // and S4 already voted for S5 in that term). It replicates its term-2 entries to S3,
        // but its term-4 entry reaches only S2, and nothing reaches S4.
        cluster.crash(5)
        cluster.heal()
        cluster.restart(1)
        cluster.elect(1)
        #expect(cluster[1].role == .candidate)
        #expect(cluster[1].term == 3)
        cluster.dropMessages(where: { m in
            m.kind == .append && m.from == 1
                && (m.to == 4 || (m.to == 3 && cluster[3].lastIndex >= 3 && m.appendedEntries.contains { $0.term == 4 }))
        })
        cluster.elect(1)
        #expect(cluster.leader == 1)
        #expect(cluster[1].term == 4)
        #expect(cluster.logTerms(1) == [1, 2, 2, 4])
        #expect(cluster.logTerms(2) == [1, 2, 2, 4])
        #expect(cluster.logTerms(3) == [1, 2, 2])
        #expect(cluster.logTerms(4) == [1])
        #expect(cluster.status(1).peers[2]?.match == 4)
        #expect(cluster.status(1).peers[3]?.match == 3, "the leader knows index 3 of term 2 is on S1, S2 and S3")
        #expect(cluster[1].commitIndex == 1, "and still does not commit it: it is not of the leader's term")
        #expect(cluster.ids.allSatisfy { cluster.commands($0).isEmpty })
        return cluster
    }

    @Test("an entry of an earlier term stored on a majority is not committed by counting replicas")
    func oldTermEntryIsNotCommittedByCounting() {
        let cluster = Self.situationC()
        // Even more ticks of S1 leading with this picture change nothing.
        cluster.tick(1, 3)
        cluster.deliverAll()
        cluster.deliverAll()
        #expect(cluster[1].commitIndex == 1)
    }

    @Test("(d) that entry can legally be overwritten by a leader of a later term")
    func oldTermEntryCanBeOverwritten() {
        let cluster = Self.situationC()
        cluster.crash(1)
        cluster.heal()
        cluster.restart(5)
        cluster.elect(5)
        #expect(cluster[5].role == .follower, "term 4 is taken: S2, S3 and S4 voted for S1")
        #expect(cluster[5].term == 4)
        cluster.elect(5)
        #expect(cluster.leader == 5)
        #expect(cluster[5].term == 5)
        #expect(cluster.delivered(.voteResponse, from: 2, to: 5).last?.isGrant == false, "S2 holds a term-4 entry")

        cluster.tickAll(1)
        #expect(cluster[5].commitIndex == 4)
        for id: NodeID in [2, 3, 4, 5] {
            #expect(cluster.logTerms(id) == [1, 3, 3, 5], "node \(id)")
            #expect(cluster.commands(id) == ["b"], "node \(id)")
        }
        #expect(cluster.logTerms(1) == [1, 2, 2, 4], "S1 is down with its old log")
    }

    @Test("(e) once an entry of the leader's term is on a majority, it and every entry before it are committed for good")
    func currentTermEntryCommitsEverythingBefore() throws {
        let cluster = Self.situationC()
        cluster.heal()
        cluster.tickAll(2)
        #expect(cluster[1].commitIndex == 4)
        #expect(cluster.logTerms(3) == [1, 2, 2, 4])
        #expect(cluster.logTerms(4) == [1, 2, 2, 4])
        #expect(cluster.commands(1) == ["a"])

        // S1 crashes; S5 comes back but cannot win: a majority holds the term-4 entry.
        cluster.crash(1)
        cluster.restart(5)
        cluster.elect(5)
        cluster.elect(5)
        #expect(cluster[5].role != .leader)

        cluster.tickAll(until: { cluster.leader != nil }, limit: 60)
        let leader = try #require(cluster.leader)
        #expect(leader != 5)
        cluster.tickAll(2)
        for id: NodeID in [2, 3, 4, 5] {
            #expect(Array(cluster.logTerms(id).prefix(4)) == [1, 2, 2, 4], "node \(id)")
            #expect(cluster.commands(id) == ["a"], "node \(id)")
        }
    }
}
