import CairnRaft
import Testing

/// The contract written on ``Ready``: what a message promises is durable before it leaves.
@Suite("Ready ordering contract")
struct ReadyOrderingScenarioTests {
    @Test("votes are sent only after the hard state carrying them, in the same Ready, is durable")
    func votesAfterPersist() throws {
        let cluster = ScenarioCluster(voters: 3)
        cluster.holdDisk(1)
        cluster.holdDisk(2)
        cluster.campaign(1)
        #expect(cluster.queued(.preVote, from: 1).count == 2, "a pre-vote promises nothing and goes at once")

        cluster.deliverAll()
        let preVoteAnswer = try #require(cluster.pendingWrites[2]?.last)
        #expect(preVoteAnswer.messages.map(\.kind) == [.preVoteResponse])
        #expect(preVoteAnswer.hardState == nil)
        #expect(cluster.queued(.preVoteResponse, from: 2).count == 1)

        // The candidate's own vote is in the same Ready as its requests for votes.
        cluster.deliverAll()
        #expect(cluster[1].role == .candidate)
        let candidacy = try #require(cluster.pendingWrites[1]?.last)
        #expect(candidacy.hardState == HardState(term: 2, vote: 1, commit: 1))
        #expect(candidacy.messages.isEmpty)
        #expect(candidacy.messagesAfterPersist.map(\.kind) == [.vote, .vote])
        #expect(cluster.queued(.vote).isEmpty)
        cluster.releaseDisk(1)
        #expect(cluster.disks[1]?.hardState == HardState(term: 2, vote: 1, commit: 1))
        #expect(cluster.queued(.vote, from: 1).count == 2)

        // Node 2 grants, but its grant waits for its disk; node 3's disk is synchronous.
        cluster.deliverAll()
        let grant = try #require(cluster.pendingWrites[2]?.last)
        #expect(grant.hardState == HardState(term: 2, vote: 1, commit: 1))
        #expect(grant.messages.isEmpty)
        #expect(grant.messagesAfterPersist.map(\.kind) == [.voteResponse])
        #expect(grant.messagesAfterPersist.allSatisfy { $0.isGrant })
        #expect(cluster.queued(.voteResponse, from: 2).isEmpty)
        #expect(cluster.queued(.voteResponse, from: 3).map(\.isGrant) == [true])
        #expect(cluster.disks[3]?.hardState.vote == 1)

        // Node 2 crashes before its write completes: it never voted, and nobody heard it did.
        cluster.crash(2)
        cluster.restart(2)
        #expect(cluster[2].term == 1)
        #expect(cluster[2].vote == .none)
        cluster.stabilize()
        #expect(cluster.leader == 1)
        #expect(cluster.delivered(.voteResponse, from: 2).isEmpty)
    }

    @Test("an append is acknowledged only once its entries are durable; a rejection goes at once")
    func acknowledgementsAfterPersist() throws {
        let cluster = ScenarioCluster(voters: 3)
        cluster.elect(1)
        cluster.tickAll(1)

        cluster.holdDisk(2)
        cluster.propose(1, "x")
        cluster.deliverAll()
        let write = try #require(cluster.pendingWrites[2]?.last)
        #expect(write.entries.map(\.index) == [3])
        #expect(write.messages.isEmpty)
        #expect(write.messagesAfterPersist.map(\.kind) == [.appendResponse])
        #expect(write.messagesAfterPersist.allSatisfy { !$0.isRejection })
        #expect(cluster.queued(.appendResponse, from: 2).isEmpty)
        #expect(cluster.queued(.appendResponse, from: 3).count == 1)

        cluster.releaseDisk(2)
        #expect(cluster.disks[2]?.entries.last?.index == 3)
        #expect(cluster.queued(.appendResponse, from: 2).count == 1)
        cluster.stabilize()

        // An append that does not match promises nothing: its rejection leaves before any write.
        cluster.holdDisk(3)
        cluster.inject(Message(from: 1, to: 3, term: 2, body: .append(.init(prevIndex: 9, prevTerm: 2, entries: [], commit: 3))))
        cluster.deliverAll()
        #expect(cluster.queued(.appendResponse, from: 3).map(\.isRejection) == [true])
        #expect(cluster.pendingWrites[3]?.allSatisfy { !$0.needsPersist } == true)
    }

    @Test("a follower that crashes before persisting an append has not acknowledged it")
    func crashBeforePersistLosesTheAppendOnly() {
        let cluster = ScenarioCluster(voters: 3)
        cluster.elect(1)
        cluster.tickAll(1)
        cluster.holdDisk(2)
        cluster.holdDisk(3)
        cluster.propose(1, "x")
        cluster.deliverAll()
        #expect(cluster[2].lastIndex == 3)

        cluster.crash(2)
        cluster.crash(3)
        cluster.deliverAll()
        #expect(cluster[1].commitIndex == 2, "no acknowledgement left either follower")
        cluster.restart(2)
        cluster.restart(3)
        #expect(cluster[2].lastIndex == 2)

        cluster.tickAll(3)
        #expect(cluster[1].commitIndex == 3)
        #expect(cluster.commands(2) == ["x"])
    }

    @Test("a Ready that only moves the commit index needs no sync; a new term or vote does, and a lost commit index is learned again")
    func commitAloneIsWrittenWithoutASync() throws {
        let cluster = ScenarioCluster(voters: 3)
        cluster.holdDisk(1)
        cluster.campaign(1)
        cluster.deliverAll()
        cluster.deliverAll()
        let candidacy = try #require(cluster.pendingWrites[1]?.last)
        #expect(candidacy.hardState?.vote == 1)
        #expect(candidacy.hardStateMustSync && candidacy.needsSync, "a vote must be durable before the requests for votes leave")
        cluster.releaseDisk(1)
        cluster.stabilize()
        #expect(cluster.leader == 1)

        cluster.holdDisk(1)
        cluster.propose(1, "x")
        cluster.deliverAll()  // the appends reach the followers, whose disks sync at once
        cluster.deliverAll()  // their acknowledgements reach the leader, whose own write is still held
        let writes = try #require(cluster.pendingWrites[1])
        let append = try #require(writes.first { !$0.entries.isEmpty })
        #expect(append.needsSync)
        let commit = try #require(writes.first { $0.entries.isEmpty && $0.hardState != nil })
        #expect(commit.hardState?.commit == append.entries.last?.index, "the followers' acknowledgements commit the entry")
        #expect(!commit.hardStateMustSync && !commit.needsSync)
        cluster.releaseDisk(1)
        #expect(cluster.commands(1) == ["x"])
        #expect(cluster.disks[1]?.hardState.commit ?? 0 < commit.hardState?.commit ?? 0, "written, not yet synced")
        #expect(cluster.disks[1]?.restored.hardState.commit == commit.hardState?.commit, "a process restart would find it")

        // A machine crash before any later sync loses the commit index, never the entry; it comes back.
        cluster.restart(1, machineCrash: true)
        #expect(cluster[1].lastIndex == append.entries.last?.index)
        #expect(cluster[1].commitIndex < commit.hardState?.commit ?? 0, "the commit index was lost with the crash")
        let ticks = cluster.tickAll(until: { cluster[1].commitIndex >= commit.hardState?.commit ?? .max })
        #expect(ticks != nil, "a leader (re-)elected after the crash tells node 1 the commit index again")
        #expect(cluster.commands(1) == ["x"])
    }
}
