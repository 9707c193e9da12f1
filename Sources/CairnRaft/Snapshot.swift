/// What a snapshot covers: the log up to and including `index`, and the configuration then.
public struct SnapshotMetadata: Sendable, Hashable {
    /// The last log index the snapshot includes.
    public var index: LogIndex
    /// The term of the entry at `index`.
    public var term: Term
    /// The membership in force at `index`.
    public var membership: Membership

    /// Creates snapshot metadata.
    public init(index: LogIndex, term: Term, membership: Membership) {
        self.index = index
        self.term = term
        self.membership = membership
    }
}

/// A point-in-time image of the replicated state machine, replacing the log up to `metadata.index`.
public struct Snapshot: Sendable, Hashable {
    /// What the snapshot covers.
    public var metadata: SnapshotMetadata
    /// The state machine's serialized state, opaque to Raft.
    public var data: [UInt8]

    /// Creates a snapshot.
    public init(metadata: SnapshotMetadata, data: [UInt8]) {
        self.metadata = metadata
        self.data = data
    }
}
