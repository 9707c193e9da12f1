/// Tunables of one Raft node. Times are logical ticks: the shell calls ``RaftNode/tick()`` at a
/// fixed real interval, so `electionTimeout * tickInterval` is the real election timeout.
public struct RaftConfiguration: Sendable, Hashable {
    /// This node's id (never ``NodeID/none``).
    public var id: NodeID
    /// Ticks without hearing from a leader before a follower campaigns. Each node draws its actual
    /// timeout uniformly from `[electionTimeout, 2 * electionTimeout)` after every reset.
    public var electionTimeout: Int = 10
    /// Ticks between a leader's heartbeats. Must be well below `electionTimeout`.
    public var heartbeatInterval: Int = 1
    /// Campaign with a pre-vote round first, so a node that was partitioned away cannot force a
    /// healthy cluster to a new term when it comes back.
    public var preVote: Bool = true
    /// A leader that has not heard from a quorum for an election timeout steps down; followers
    /// that heard from a leader within an election timeout refuse to vote for anyone else.
    public var checkQuorum: Bool = true
    /// The most entry bytes packed into one append message (at least one entry is always sent).
    public var maxAppendBytes: Int = 1 << 20
    /// The most unacknowledged appends pipelined to one follower.
    public var maxInflightAppends: Int = 256
    /// The most committed entry bytes handed out for application in one ``Ready``.
    public var maxApplyBytes: Int = 64 << 20
    /// Snapshot bytes per InstallSnapshot chunk.
    public var snapshotChunkSize: Int = 1 << 20
    /// The leader promotes a learner to voter on its own once the learner's log has caught up.
    public var autoPromoteLearners: Bool = true
    /// Ticks of safety margin a leader lease keeps below the election timeout, covering clock
    /// drift between nodes (see ``RaftNode/leaseIsValid``).
    public var leaseSafetyMargin: Int = 2
    /// Seed for the randomized election timeouts.
    public var randomSeed: UInt64

    /// Creates a configuration with the defaults above.
    public init(id: NodeID, randomSeed: UInt64? = nil) {
        precondition(id != .none, "node id 0 is reserved")
        self.id = id
        self.randomSeed = randomSeed ?? id &* 0x2545_F491_4F6C_DD1D
    }
}
