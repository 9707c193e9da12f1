/// What a server says about the freshness of a read it answered.
///
/// A linearizable read is as fresh as it gets (the leader confirmed its leadership first); a
/// stale read is answered from the answering server's own state, which may lag the leader by up
/// to ``lastContactMilliseconds`` — the same trade Consul's `?stale` makes, reported the same way.
public struct ReadMeta: Sendable, Hashable {
    /// The Raft index the answering server had applied when it answered (Consul's
    /// `X-Consul-Index`). Pass it as a watch's `fromIndex` to be told of every change after it.
    public var index: UInt64
    /// Whether the answering server knows a leader.
    public var knownLeader: Bool
    /// Milliseconds since the answering server last heard from the leader; 0 on the leader.
    public var lastContactMilliseconds: UInt64

    /// Creates read metadata.
    public init(index: UInt64, knownLeader: Bool, lastContactMilliseconds: UInt64) {
        self.index = index
        self.knownLeader = knownLeader
        self.lastContactMilliseconds = lastContactMilliseconds
    }
}
