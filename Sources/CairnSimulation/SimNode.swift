import CairnKernel
import CairnRaft

/// One simulated server: a Raft node, its disk (what is durable, and the writes in flight),
/// its state machine, and the client requests it has accepted.
final class SimNode {
    let id: NodeID
    let phase: Int
    let electionTimeout: Int
    let tuning: SimulationProfile
    var incarnation = 0
    var running = true
    var decommissioned = false
    var raft: RaftNode
    var durable: DurableState
    /// Readys whose writes are in flight, in order; `applied` once their committed entries, reads
    /// and dropped reads were handled (perhaps before the writes finished).
    var diskQueue: [(ready: Ready, completeAt: Int, applied: Bool)] = []
    var stateMachine = RecordingStateMachine()
    var pendingProposals: [LogIndex: (term: Term, value: UInt64)] = [:]
    /// Read id → how many acknowledgements existed when the read was issued.
    var pendingReads: [UInt64: Int] = [:]
    var waitingReads: [ReadState] = []

    init(id: NodeID, phase: Int, durable state: RestoredState, seed: UInt64, profile: SimulationProfile) {
        self.id = id
        self.phase = phase
        self.electionTimeout = profile.electionTimeout
        self.tuning = profile
        durable = DurableState(state)
        raft = RaftNode(configuration: Self.configuration(id: id, seed: seed, incarnation: 0, profile: profile), restoring: state)
    }

    static func configuration(id: NodeID, seed: UInt64, incarnation: Int, profile: SimulationProfile) -> RaftConfiguration {
        var c = RaftConfiguration(id: id, randomSeed: seed &+ id &* 7919 &+ UInt64(incarnation) &* 104_729)
        c.electionTimeout = profile.electionTimeout
        c.heartbeatInterval = 1
        c.maxAppendBytes = profile.maxAppendBytes
        c.maxInflightAppends = profile.maxInflightAppends
        c.snapshotChunkSize = profile.snapshotChunkSize
        return c
    }

    /// Comes back from a crash with only what was durable.
    func restart(seed: UInt64) {
        incarnation += 1
        durable.loseUnsynced()
        let state = durable.restored
        raft = RaftNode(configuration: Self.configuration(id: id, seed: seed, incarnation: incarnation, profile: tuning), restoring: state)
        stateMachine = RecordingStateMachine()
        if let snap = state.snapshot {
            try? stateMachine.restore(snap.data, at: snap.metadata.index)
        }
        running = true
        diskQueue.removeAll()
    }
}

/// An in-memory disk for driving ``RaftNode`` in tests and simulations: what is durable, and how a
/// ``Ready`` is written to it.
public struct DurableState: Sendable {
    /// The durable term, vote and commit.
    public var hardState: HardState
    /// The durable snapshot.
    public var snapshot: Snapshot?
    /// The durable entries after the snapshot.
    public var entries: [Entry]
    /// A hard state written without a sync (its commit index alone moved): durable only once a
    /// later synced write follows it, lost if the node crashes first.
    public var unsyncedHardState: HardState?

    /// A disk holding `state`.
    public init(_ state: RestoredState) {
        hardState = state.hardState
        snapshot = state.snapshot
        entries = state.entries
    }

    /// The last durable index (the snapshot's when no entry follows it).
    public var lastIndex: LogIndex { entries.last?.index ?? snapshot?.metadata.index ?? 0 }

    /// What a node restarting from this disk recovers: everything written, as after a process
    /// crash (call ``loseUnsynced()`` first for a machine crash).
    public var restored: RestoredState {
        RestoredState(hardState: unsyncedHardState ?? hardState, snapshot: snapshot, entries: entries)
    }

    /// Writes one Ready in the documented order: snapshot, entries, hard state.
    public mutating func persist(_ rd: Ready) {
        if let snap = rd.snapshot {
            snapshot = snap
            entries.removeAll()
        }
        if let first = rd.entries.first {
            let base = snapshot?.metadata.index ?? 0
            precondition(first.index > base, "a Ready wrote entry \(first.index) at or below the snapshot \(base)")
            entries.removeAll { $0.index >= first.index }
            precondition(first.index == base + LogIndex(entries.count) + 1, "a Ready left a gap in the durable log")
            entries.append(contentsOf: rd.entries)
        }
        if rd.needsSync {
            if let hs = rd.hardState ?? unsyncedHardState { hardState = hs }
            unsyncedHardState = nil
        } else if let hs = rd.hardState {
            unsyncedHardState = hs
        }
    }

    /// A machine crash: what was written without a sync is gone (the worst case).
    public mutating func loseUnsynced() {
        unsyncedHardState = nil
    }

    /// Stores a snapshot the node's own state machine made, dropping the entries it covers.
    public mutating func compact(_ snap: Snapshot) {
        snapshot = snap
        entries.removeAll { $0.index <= snap.metadata.index }
    }
}
