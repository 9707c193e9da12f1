/// What became of a proposal. Not being the leader is a normal outcome, not an error.
public enum ProposalOutcome: Sendable, Hashable {
    /// Appended at `firstIndex...lastIndex` in `term`. The proposal succeeded if and only if the
    /// entry the shell later applies at each index carries this term.
    case accepted(firstIndex: LogIndex, lastIndex: LogIndex, term: Term)
    /// This node is not the leader; `leader` is who is (``NodeID/none`` when unknown).
    case notLeader(leader: NodeID)
    /// A leadership transfer is under way; proposals resume once it ends.
    case transferInProgress
    /// The previous membership change has not been applied yet (one change at a time), or this
    /// leader has not yet committed an entry of its own term.
    case membershipChangePending
    /// The change does not apply to the current configuration (adding a member, promoting a
    /// non-learner, removing a non-member or the last voter).
    case invalidMembershipChange
    /// The learner's log is not caught up with the commit index yet.
    case learnerNotCaughtUp
    /// Nothing was proposed.
    case empty
}

/// What became of a linearizable read request.
public enum ReadOutcome: Sendable, Hashable {
    /// The read will appear in a later ``Ready/readStates`` (or in ``Ready/droppedReads`` if this
    /// node loses leadership first).
    case pending
    /// This node is not the leader; `leader` is who is (``NodeID/none`` when unknown).
    case notLeader(leader: NodeID)
}

/// What became of a leadership-transfer request.
public enum TransferOutcome: Sendable, Hashable {
    /// The target is being caught up and will be told to campaign.
    case started
    /// The target is this node, which already leads.
    case alreadyLeader
    /// This node is not the leader.
    case notLeader(leader: NodeID)
    /// The target is not a voter of the current configuration.
    case notAVoter
}

/// What became of a compaction request.
public enum CompactionOutcome: Sendable, Hashable {
    /// The log up to `metadata.index` was replaced by the snapshot.
    case compacted(SnapshotMetadata)
    /// The index is already compacted or not yet applied.
    case invalidIndex
}

/// The durable state a node starts from: what its storage recovered.
public struct RestoredState: Sendable, Hashable {
    /// The last persisted term, vote and commit.
    public var hardState: HardState
    /// The latest snapshot, if any. The shell restores its state machine from it.
    public var snapshot: Snapshot?
    /// The entries after the snapshot, contiguous.
    public var entries: [Entry]

    /// Creates a restored state.
    public init(hardState: HardState = .empty, snapshot: Snapshot? = nil, entries: [Entry] = []) {
        self.hardState = hardState
        self.snapshot = snapshot
        self.entries = entries
    }

    /// The state of a brand-new node that takes part in forming a cluster of `voters`: one
    /// membership entry at index 1, term 1, already committed. Every founding node must persist
    /// exactly this before starting; nodes that join later start from an empty state.
    public static func bootstrap(voters: Set<NodeID>) -> RestoredState {
        let membership = Membership(voters: voters)
        let entry = Entry(term: 1, index: 1, kind: .membership, data: membership.encoded())
        return RestoredState(hardState: HardState(term: 1, vote: .none, commit: 1), entries: [entry])
    }
}

/// A read-only picture of a node, for operators and tests.
public struct RaftStatus: Sendable, Hashable {
    /// A follower's replication state as the leader sees it.
    public struct Peer: Sendable, Hashable {
        /// The highest index known replicated on the peer.
        public var match: LogIndex
        /// The next index the leader will send.
        public var next: LogIndex
        /// "probe", "replicate" or "snapshot".
        public var state: String
        /// Whether the peer was heard from in the current check-quorum period.
        public var recentActive: Bool
    }

    public var id: NodeID
    public var role: Role
    public var term: Term
    public var vote: NodeID
    public var leader: NodeID
    public var commitIndex: LogIndex
    public var appliedIndex: LogIndex
    public var stableIndex: LogIndex
    public var firstIndex: LogIndex
    public var lastIndex: LogIndex
    public var lastTerm: Term
    public var membership: Membership
    /// Filled on the leader only.
    public var peers: [NodeID: Peer]
}
