/// A Raft node's identity inside one cluster. Never zero: zero means "nobody".
public typealias NodeID = UInt64

/// A Raft term: a logical epoch in which at most one leader is elected.
public typealias Term = UInt64

/// A position in the replicated log. The first real entry has index 1; index 0 is the empty log.
public typealias LogIndex = UInt64

extension NodeID {
    /// The absent node: "no vote", "no known leader".
    public static let none: NodeID = 0
}
