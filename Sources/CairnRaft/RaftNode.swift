/// The Raft consensus algorithm as a deterministic value: no IO, no clock, no threads.
///
/// A shell drives it with events — ``tick()`` at a fixed interval, ``step(_:)`` for every message
/// received, ``propose(_:)``, ``readIndex(_:)`` and the other requests — and after each batch of
/// events takes a ``Ready`` describing what to persist, send and apply. The ordering rules the
/// shell must follow are written on ``Ready``; the essential one is that anything a message
/// promises (a vote, an acknowledged append) is durable before the message leaves.
///
/// Features: leader election with randomized timeouts, pre-vote, check-quorum with in-lease vote
/// rejection; pipelined and batched replication with an inflight window and fast conflict
/// backtracking; the leader's own log write overlapped with replication; commitment of current-
/// term entries only; chunked snapshots for followers behind the compacted log; one-at-a-time
/// membership changes through learners; leadership transfer; ReadIndex reads and a leader lease.
///
/// Randomness comes from a generator seeded by ``RaftConfiguration/randomSeed``, so the same
/// events in the same order always produce the same outputs.
public struct RaftNode: Sendable {
    /// The node's configuration.
    public let configuration: RaftConfiguration
    /// The node's id.
    public var id: NodeID { configuration.id }

    /// The current term.
    public internal(set) var term: Term
    /// Whom this node voted for in `term`.
    public internal(set) var vote: NodeID
    /// This node's role.
    public internal(set) var role: Role = .follower
    /// The leader known in `term`, or ``NodeID/none``.
    public internal(set) var leader: NodeID = .none
    /// The configuration in force (the latest applied membership entry).
    public internal(set) var membership: Membership

    var log: RaftLog
    /// Applied configurations by index, oldest first; the first is at or below the log base.
    var membershipHistory: [(index: LogIndex, membership: Membership)]
    /// The latest snapshot, kept to send to followers that are behind the compacted log.
    var snapshot: Snapshot?

    var progress: [NodeID: Progress] = [:]
    var votes: [NodeID: Bool] = [:]
    var electionElapsed = 0
    var heartbeatElapsed = 0
    var randomizedElectionTimeout = 0
    var rng: SeededRandom
    var ticks: UInt64 = 0

    var leadTransferee: NodeID = .none
    /// True from a restart until an election timeout passes: a restarted node may have
    /// acknowledged a leader's lease before it went down, so it does not vote against that lease
    /// straight away. (A node that never saw a term above the bootstrap term 1 has acknowledged
    /// no leader and starts without the quiet period.)
    var quietAfterStart: Bool
    var pendingMembershipIndex: LogIndex = 0

    // ReadIndex and lease.
    var heartbeatRound: UInt64 = 0
    var confirmedRound: UInt64 = 0
    var roundSentAt: [UInt64: UInt64] = [:]
    var leaseStart: UInt64? = nil
    var leaseDisabledThisTerm = false
    var pendingReads: [(round: UInt64, index: LogIndex, ids: [UInt64])] = []
    var readsAwaitingCommit: [UInt64] = []
    var releasedReads: [ReadState] = []
    var droppedReads: [UInt64] = []

    // Snapshot being received, and one received to hand to the shell.
    var incomingSnapshot: (metadata: SnapshotMetadata, totalSize: UInt64, data: [UInt8])? = nil
    var installedSnapshot: Snapshot? = nil

    var outbox: [Message] = []
    var outboxAfterPersist: [Message] = []
    var commitNotices: [Message] = []
    var lastHardState: HardState
    var lastSoftState: SoftState

    /// Creates a node from what its storage recovered (see ``RestoredState/bootstrap(voters:)``
    /// for a founding node's first start). The shell restores its state machine from
    /// `state.snapshot`; committed entries after it come back through ``ready()``.
    public init(configuration: RaftConfiguration, restoring state: RestoredState) {
        self.configuration = configuration
        let base = state.snapshot?.metadata
        let baseIndex = base?.index ?? 0
        for (offset, entry) in state.entries.enumerated() {
            precondition(entry.index == baseIndex + 1 + LogIndex(offset), "restored entries are not contiguous after the snapshot")
        }
        log = RaftLog(baseIndex: baseIndex, baseTerm: base?.term ?? 0, entries: state.entries, committed: state.hardState.commit)
        term = state.hardState.term
        vote = state.hardState.vote
        membership = base?.membership ?? Membership()
        membershipHistory = [(baseIndex, membership)]
        snapshot = state.snapshot
        rng = SeededRandom(seed: configuration.randomSeed)
        lastHardState = HardState(term: state.hardState.term, vote: state.hardState.vote, commit: log.committed)
        lastSoftState = SoftState(role: .follower, leader: .none, term: state.hardState.term)
        quietAfterStart = state.hardState.term >= 2
        // Committed membership entries are in force at once, before they are re-applied.
        for entry in state.entries where entry.kind == .membership && entry.index <= log.committed {
            if let m = Membership(decoding: entry.data) { recordMembership(m, at: entry.index) }
        }
        becomeFollower(term: term, leader: .none)
    }

    // MARK: - Inputs

    /// Advances logical time by one tick.
    public mutating func tick() {
        ticks += 1
        if quietAfterStart && ticks >= UInt64(configuration.electionTimeout) { quietAfterStart = false }
        if role == .leader {
            tickLeader()
        } else {
            electionElapsed += 1
            if isPromotable && electionElapsed >= randomizedElectionTimeout {
                electionElapsed = 0
                campaign(transfer: false)
            }
        }
    }

    /// Starts an election now (as if the election timeout had elapsed), pre-vote included.
    public mutating func campaign() {
        guard role != .leader else { return }
        electionElapsed = 0
        campaign(transfer: false)
    }

    /// Proposes one command.
    public mutating func propose(_ command: [UInt8]) -> ProposalOutcome {
        propose(batch: [command])
    }

    /// Proposes commands as consecutive entries: one append, one sync, one replication round.
    public mutating func propose(batch commands: [[UInt8]]) -> ProposalOutcome {
        guard role == .leader else { return .notLeader(leader: leader) }
        guard leadTransferee == .none else { return .transferInProgress }
        guard !commands.isEmpty else { return .empty }
        let first = log.lastIndex + 1
        var entries: [Entry] = []
        entries.reserveCapacity(commands.count)
        for (offset, command) in commands.enumerated() {
            entries.append(Entry(term: term, index: first + LogIndex(offset), kind: .normal, data: command))
        }
        appendAndReplicate(entries)
        return .accepted(firstIndex: first, lastIndex: log.lastIndex, term: term)
    }

    /// Proposes a single-step membership change. At most one is in flight at a time, and a new
    /// leader first commits an entry of its own term.
    public mutating func proposeMembershipChange(_ change: Membership.Change) -> ProposalOutcome {
        guard role == .leader else { return .notLeader(leader: leader) }
        guard leadTransferee == .none else { return .transferInProgress }
        guard pendingMembershipIndex <= log.applied else { return .membershipChangePending }
        guard let next = membership.applying(change) else { return .invalidMembershipChange }
        if case .promote(let learner) = change, (progress[learner]?.match ?? 0) < log.committed {
            return .learnerNotCaughtUp
        }
        let index = log.lastIndex + 1
        appendAndReplicate([Entry(term: term, index: index, kind: .membership, data: next.encoded())])
        pendingMembershipIndex = index
        return .accepted(firstIndex: index, lastIndex: index, term: term)
    }

    /// Asks to transfer leadership to `target`: the leader stops taking proposals, brings the
    /// target's log up to date and tells it to campaign at once. Abandoned after an election
    /// timeout without success.
    public mutating func transferLeadership(to target: NodeID) -> TransferOutcome {
        guard role == .leader else { return .notLeader(leader: leader) }
        if target == id { return .alreadyLeader }
        guard membership.voters.contains(target), let pr = progress[target] else { return .notAVoter }
        leadTransferee = target
        electionElapsed = 0
        if pr.match == log.lastIndex {
            sendTimeoutNow(to: target)
        } else {
            _ = sendAppend(to: target, allowEmpty: true)
        }
        return .started
    }

    /// The metadata ``compact(index:data:)`` would give a snapshot at `index` now, or nil when
    /// `index` cannot be compacted to (not applied yet, not yet durable on this node, or already
    /// compacted away). For a snapshot serialized and saved off the node's thread before it is
    /// handed to `compact`.
    public func snapshotMetadata(at index: LogIndex) -> SnapshotMetadata? {
        guard index > log.baseIndex, index <= log.applied, index <= log.stable, let t = log.term(at: index) else { return nil }
        return SnapshotMetadata(index: index, term: t, membership: membership(at: index))
    }

    /// Compacts the log up to `index` (which must be applied, and durable on this node: a leader
    /// may apply entries its followers made durable before its own write of them has finished),
    /// keeping `data` — the state machine's image at exactly `index` — as the snapshot sent to
    /// followers that fall behind.
    public mutating func compact(index: LogIndex, data: [UInt8]) -> CompactionOutcome {
        guard index > log.baseIndex, index <= log.applied, index <= log.stable, let t = log.term(at: index) else { return .invalidIndex }
        let metadata = SnapshotMetadata(index: index, term: t, membership: membership(at: index))
        snapshot = Snapshot(metadata: metadata, data: data)
        log.compact(through: index)
        if let keep = membershipHistory.lastIndex(where: { $0.index <= index }), keep > 0 {
            membershipHistory.removeFirst(keep)
        }
        return .compacted(metadata)
    }

    // MARK: - Outputs

    /// Takes everything the shell must now do. See ``Ready`` for the ordering rules.
    public mutating func ready() -> Ready {
        var rd = Ready()
        if let snap = installedSnapshot {
            rd.snapshot = snap
            installedSnapshot = nil
        }
        rd.entries = log.takeUnpersisted()
        rd.committed = takeCommitted()
        let hs = HardState(term: term, vote: vote, commit: log.committed)
        if hs != lastHardState {
            rd.hardState = hs
            rd.hardStateMustSync = hs.term != lastHardState.term || hs.vote != lastHardState.vote
            lastHardState = hs
        }
        let soft = SoftState(role: role, leader: leader, term: term)
        if soft != lastSoftState {
            rd.softState = soft
            lastSoftState = soft
        }
        rd.messages = outbox
        rd.messagesAfterPersist = outboxAfterPersist
        outbox.removeAll(keepingCapacity: true)
        outboxAfterPersist.removeAll(keepingCapacity: true)
        rd.commitNotices = commitNotices
        commitNotices.removeAll(keepingCapacity: true)
        rd.readStates = releasedReads
        releasedReads.removeAll()
        rd.droppedReads = droppedReads
        droppedReads.removeAll()
        return rd
    }

    /// Whether ``ready()`` would return work.
    public var hasReady: Bool {
        installedSnapshot != nil || log.unpersistedFrom <= log.lastIndex
            || log.committed > log.applied
            || HardState(term: term, vote: vote, commit: log.committed) != lastHardState
            || SoftState(role: role, leader: leader, term: term) != lastSoftState
            || !outbox.isEmpty || !outboxAfterPersist.isEmpty || !commitNotices.isEmpty
            || !releasedReads.isEmpty || !droppedReads.isEmpty
    }

    /// Tells the node that `ready` (and every `Ready` before it) is durable. On a leader this
    /// counts its own log towards the quorum; when that commits, up-to-date followers hear of it
    /// through commit notices (``Ready/commitNotices``).
    public mutating func persisted(_ ready: Ready) {
        if let last = ready.entries.last {
            log.markStable(index: last.index, term: last.term)
        }
        if role == .leader {
            if progress[id] != nil { progress[id]!.match = max(progress[id]!.match, log.stable) }
            if maybeCommit() { broadcastCommit() }
        }
    }

    // MARK: - Introspection

    /// Index of the last entry in the log.
    public var lastIndex: LogIndex { log.lastIndex }
    /// Index of the first entry still in the log (after the snapshot).
    public var firstIndex: LogIndex { log.firstIndex }
    /// The commit index.
    public var commitIndex: LogIndex { log.committed }
    /// The highest index handed out for application.
    public var appliedIndex: LogIndex { log.applied }
    /// The entry at `index`, if it is in the (uncompacted) log.
    public func entry(at index: LogIndex) -> Entry? { log.entry(at: index) }
    /// The term of the entry at `index`, including the snapshot point.
    public func term(at index: LogIndex) -> Term? { log.term(at: index) }
    /// The entries in the log after the snapshot point.
    public var entries: [Entry] { log.entries }
    /// The latest snapshot's metadata, if the log was ever compacted or restored from one.
    public var snapshotMetadata: SnapshotMetadata? { snapshot?.metadata }

    /// A picture of the node for operators and tests.
    public var status: RaftStatus {
        var peers: [NodeID: RaftStatus.Peer] = [:]
        if role == .leader {
            for (peer, pr) in progress {
                let state: String
                switch pr.state {
                case .probe: state = "probe"
                case .replicate: state = "replicate"
                case .snapshot: state = "snapshot"
                }
                peers[peer] = .init(match: peer == id ? log.stable : pr.match, next: pr.next, state: state, recentActive: pr.recentActive)
            }
        }
        return RaftStatus(id: id, role: role, term: term, vote: vote, leader: leader, commitIndex: log.committed,
                          appliedIndex: log.applied, stableIndex: log.stable, firstIndex: log.firstIndex,
                          lastIndex: log.lastIndex, lastTerm: log.lastTerm, membership: membership, peers: peers)
    }

    // MARK: - Role changes

    var isPromotable: Bool { membership.voters.contains(id) }

    mutating func reset(term newTerm: Term) {
        if newTerm != term {
            term = newTerm
            vote = .none
            leaseDisabledThisTerm = false
        }
        leader = .none
        electionElapsed = 0
        heartbeatElapsed = 0
        randomizedElectionTimeout = configuration.electionTimeout
            + Int(rng.next() % UInt64(max(1, configuration.electionTimeout)))
        votes = [:]
        progress = [:]
        leadTransferee = .none
        incomingSnapshot = nil
        abandonReads()
        heartbeatRound = 0
        confirmedRound = 0
        roundSentAt = [:]
        leaseStart = nil
    }

    mutating func becomeFollower(term newTerm: Term, leader newLeader: NodeID) {
        reset(term: newTerm)
        role = .follower
        leader = newLeader
    }

    mutating func becomePreCandidate() {
        // A pre-candidate keeps its term and vote: a pre-vote changes nothing anywhere.
        votes = [:]
        leader = .none
        role = .preCandidate
        abandonReads()
    }

    mutating func becomeCandidate() {
        reset(term: term + 1)
        vote = id
        role = .candidate
    }

    mutating func becomeLeader() {
        reset(term: term)
        role = .leader
        leader = id
        for member in membership.members.union([id]) {
            var pr = Progress(next: log.lastIndex + 1, maxInflight: configuration.maxInflightAppends)
            pr.recentActive = true
            if member == id { pr.match = log.stable }
            progress[member] = pr
        }
        // Commit an entry of this term before anything else; no membership change until then.
        let index = log.lastIndex + 1
        pendingMembershipIndex = index
        appendAndReplicate([Entry(term: term, index: index, kind: .empty)])
    }

    mutating func abandonReads() {
        for read in pendingReads { droppedReads.append(contentsOf: read.ids) }
        droppedReads.append(contentsOf: readsAwaitingCommit)
        pendingReads.removeAll()
        readsAwaitingCommit.removeAll()
    }

    // MARK: - Sending

    mutating func send(_ message: Message, afterPersist: Bool = false) {
        guard message.to != id else { return }
        if afterPersist {
            outboxAfterPersist.append(message)
        } else {
            outbox.append(message)
        }
    }

    // MARK: - Membership

    func membership(at index: LogIndex) -> Membership {
        membershipHistory.last(where: { $0.index <= index })?.membership ?? membership
    }

    mutating func recordMembership(_ m: Membership, at index: LogIndex) {
        if let last = membershipHistory.last, last.index >= index { return }
        membershipHistory.append((index, m))
        membership = m
    }

    /// Committed, durable entries for the shell, with membership entries taking effect as they go.
    mutating func takeCommitted() -> [Entry] {
        let entries = log.takeCommitted(maxBytes: configuration.maxApplyBytes)
        for entry in entries where entry.kind == .membership {
            guard let m = Membership(decoding: entry.data) else {
                preconditionFailure("committed membership entry \(entry.index) does not decode")
            }
            applyMembership(m, at: entry.index)
        }
        return entries
    }

    mutating func applyMembership(_ m: Membership, at index: LogIndex) {
        let before = membershipHistory.last?.index ?? 0
        recordMembership(m, at: index)
        guard index > before, role == .leader else { return }
        for member in m.members where progress[member] == nil {
            var pr = Progress(next: log.lastIndex + 1, maxInflight: configuration.maxInflightAppends)
            pr.recentActive = true
            progress[member] = pr
            _ = sendAppend(to: member, allowEmpty: true)
        }
        for member in progress.keys where !m.contains(member) && member != id {
            progress[member] = nil
        }
        if !m.voters.contains(id) {
            // Removed (or no longer a voter): tell everyone the commit point, then step down.
            broadcastAppend()
            becomeFollower(term: term, leader: .none)
            return
        }
        if leadTransferee != .none && !m.voters.contains(leadTransferee) {
            leadTransferee = .none
        }
        if maybeCommit() { broadcastAppend() }
        advanceReadRounds()
    }
}
