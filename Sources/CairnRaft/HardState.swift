/// The part of a node's Raft state that must be on stable storage before the node answers a
/// message that depends on it (a vote, an append acknowledgement).
public struct HardState: Sendable, Hashable {
    /// The latest term this node has seen.
    public var term: Term
    /// The candidate this node voted for in `term`, or ``NodeID/none``.
    public var vote: NodeID
    /// The highest log index known to be committed. Persisting it is an optimisation (it saves
    /// re-learning the commit point after a restart); a stale value is always safe.
    public var commit: LogIndex

    /// Creates a hard state.
    public init(term: Term = 0, vote: NodeID = .none, commit: LogIndex = 0) {
        self.term = term
        self.vote = vote
        self.commit = commit
    }

    /// The state of a node that has never run.
    public static let empty = HardState()
}
