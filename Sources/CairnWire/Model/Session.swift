/// What happens to the locks a session holds when it is invalidated (destroyed, expired, or one
/// of its checks turned critical).
public enum SessionBehavior: UInt8, Sendable, Hashable, CustomStringConvertible {
    /// The keys stay, unlocked.
    case release = 0
    /// The keys are deleted.
    case delete = 1

    /// `release` or `delete`.
    public var description: String { self == .release ? "release" : "delete" }
}

/// What a client asks for when it creates a session.
public struct SessionRequest: Sendable, Hashable {
    /// The shortest TTL accepted: 10 s.
    public static let minimumTTLMilliseconds: UInt64 = 10_000
    /// The longest TTL accepted: 24 h.
    public static let maximumTTLMilliseconds: UInt64 = 86_400_000
    /// The default lock-delay: 15 s.
    public static let defaultLockDelayMilliseconds: UInt64 = 15_000

    /// A human name.
    public var name: String
    /// The node the session belongs to; empty means the node of the server that creates it.
    public var node: String
    /// The TTL: the session is invalidated unless renewed within it (10 s to 24 h; 0: no TTL).
    public var ttlMilliseconds: UInt64
    /// How long after the session is invalidated its released locks cannot be acquired.
    public var lockDelayMilliseconds: UInt64
    /// What invalidation does to held keys.
    public var behavior: SessionBehavior
    /// Health checks (ids on the session's node) that invalidate the session when critical.
    public var checks: [String]

    /// Creates a session request with Consul's defaults.
    public init(name: String = "", node: String = "", ttlMilliseconds: UInt64 = 0,
                lockDelayMilliseconds: UInt64 = SessionRequest.defaultLockDelayMilliseconds,
                behavior: SessionBehavior = .release, checks: [String] = []) {
        self.name = name
        self.node = node
        self.ttlMilliseconds = ttlMilliseconds
        self.lockDelayMilliseconds = lockDelayMilliseconds
        self.behavior = behavior
        self.checks = checks
    }
}

/// A session as the servers hold it.
public struct Session: Sendable, Hashable {
    /// The session's id (a UUID chosen by the leader).
    public var id: String
    /// A human name.
    public var name: String
    /// The node it belongs to.
    public var node: String
    /// The TTL (0: none).
    public var ttlMilliseconds: UInt64
    /// The lock-delay.
    public var lockDelayMilliseconds: UInt64
    /// What invalidation does to held keys.
    public var behavior: SessionBehavior
    /// Health checks that invalidate the session when critical.
    public var checks: [String]
    /// The Raft index that created it.
    public var createIndex: UInt64

    /// Creates a session.
    public init(id: String, name: String, node: String, ttlMilliseconds: UInt64, lockDelayMilliseconds: UInt64,
                behavior: SessionBehavior, checks: [String], createIndex: UInt64) {
        self.id = id
        self.name = name
        self.node = node
        self.ttlMilliseconds = ttlMilliseconds
        self.lockDelayMilliseconds = lockDelayMilliseconds
        self.behavior = behavior
        self.checks = checks
        self.createIndex = createIndex
    }
}
