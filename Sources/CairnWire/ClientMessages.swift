import CairnRaft

/// How fresh a read must be.
public enum ReadConsistency: UInt8, Sendable, Hashable {
    /// Linearizable: the leader confirms its leadership (ReadIndex) before answering.
    case linearizable = 0
    /// Stale: any server answers from its own state at once.
    case stale = 1
}

/// One key of the KV store as clients see it.
public struct KVEntry: Sendable, Hashable {
    /// The key.
    public var key: String
    /// The value.
    public var value: [UInt8]
    /// Opaque 64-bit flags the client stores with the value.
    public var flags: UInt64
    /// The Raft index that created the key.
    public var createIndex: UInt64
    /// The Raft index that last modified the key.
    public var modifyIndex: UInt64
    /// How many times a session acquired the key's lock.
    public var lockIndex: UInt64
    /// The session holding the key's lock, empty when none.
    public var session: String

    /// Creates an entry.
    public init(key: String, value: [UInt8], flags: UInt64 = 0, createIndex: UInt64 = 0, modifyIndex: UInt64 = 0,
                lockIndex: UInt64 = 0, session: String = "") {
        self.key = key
        self.value = value
        self.flags = flags
        self.createIndex = createIndex
        self.modifyIndex = modifyIndex
        self.lockIndex = lockIndex
        self.session = session
    }
}

/// A server of the cluster as `cairn members` shows it.
public struct MemberInfo: Sendable, Hashable {
    /// The server's Raft id.
    public var id: NodeID
    /// The server's node name.
    public var name: String
    /// Where peers reach it.
    public var peerAddress: String
    /// Where clients reach it.
    public var clientAddress: String
    /// Whether it votes (false: a learner).
    public var voter: Bool
    /// "leader", "follower", "candidate", "learner" or "unknown".
    public var role: String
    /// The term it is in, as last known.
    public var term: UInt64
    /// Its last log index, as last known (the leader's view of its match index for followers).
    public var lastIndex: UInt64
    /// Whether the answering server currently has a connection to it.
    public var reachable: Bool

    /// Creates a member description.
    public init(id: NodeID, name: String, peerAddress: String, clientAddress: String, voter: Bool, role: String,
                term: UInt64, lastIndex: UInt64, reachable: Bool) {
        self.id = id
        self.name = name
        self.peerAddress = peerAddress
        self.clientAddress = clientAddress
        self.voter = voter
        self.role = role
        self.term = term
        self.lastIndex = lastIndex
        self.reachable = reachable
    }
}

/// A request from a client to a server. Each travels in one `request` frame whose stream id the
/// answer repeats; many may be in flight on one connection. A ``watch(_:fromIndex:)`` is answered
/// by a stream of ``ClientResponse/watchEvent(_:)`` responses on its stream id instead of one.
///
/// Writes (and linearizable reads) go to the leader; a follower answers
/// ``ClientResponse/notLeader(leaderID:leaderAddress:)``. Stale reads and watches are answered by
/// any server.
public enum ClientRequest: Sendable, Hashable {
    // MARK: KV (0x01xx)

    /// Read one key.
    case kvGet(key: String, consistency: ReadConsistency)
    /// Read every key under `prefix` (Consul's `?recurse`), in key order.
    case kvList(prefix: String, consistency: ReadConsistency)
    /// List the keys under `prefix`; with a non-empty `separator`, keys are cut after the first
    /// separator following the prefix and repeated ones folded (Consul's `?keys&separator=/`).
    case kvKeys(prefix: String, separator: String, consistency: ReadConsistency)
    /// Write one key. With `cas`, only if the key's modify index equals it (0: only if absent).
    case kvPut(key: String, value: [UInt8], flags: UInt64, cas: UInt64?)
    /// Delete one key. With `cas`, only if the key's modify index equals it.
    case kvDelete(key: String, cas: UInt64?)
    /// Delete every key under `prefix`.
    case kvDeleteTree(prefix: String)
    /// Write a key and acquire its lock for `session` (Consul's `?acquire=`): succeeds when the key
    /// is unlocked (its lock index then increments) or already held by `session`, and not within
    /// a lock-delay.
    case kvAcquire(key: String, value: [UInt8], flags: UInt64, session: String)
    /// Write a key and release its lock, if `session` holds it (Consul's `?release=`).
    case kvRelease(key: String, value: [UInt8], flags: UInt64, session: String)
    /// Apply up to ``KVTransaction/maxOperations`` operations atomically.
    case kvTransaction([KVTransactionOperation])

    // MARK: Operator (0x02xx)

    /// Describe every server of the cluster.
    case members
    /// Remove a server from the Raft configuration.
    case removePeer(id: NodeID)
    /// Take a snapshot of the whole replicated state (every module) as a checksummed archive.
    case snapshotSave
    /// Replace the whole replicated state with an archive from ``snapshotSave`` (a Raft
    /// operation: every server applies it).
    case snapshotRestore(archive: [UInt8])

    // MARK: Catalog and health (0x03xx)

    /// Register (or update) a service instance, its node and its checks.
    case catalogRegister(ServiceRegistration)
    /// Deregister service instance `serviceID` (and its checks) from `node` (empty: whichever
    /// node has it).
    case catalogDeregister(node: String, serviceID: String)
    /// List every service with its tags.
    case catalogServices(consistency: ReadConsistency)
    /// List the instances of `name` with their health; only those tagged `tag` when not empty,
    /// only those whose checks all pass when `passingOnly`.
    case catalogService(name: String, tag: String, passingOnly: Bool, consistency: ReadConsistency)
    /// List every node.
    case catalogNodes(consistency: ReadConsistency)
    /// A node and the service instances registered on it.
    case catalogNodeServices(node: String, consistency: ReadConsistency)
    /// The health checks of service `serviceName` (empty: every check).
    case healthChecks(serviceName: String, consistency: ReadConsistency)
    /// Report a TTL check's status (`node` empty: whichever node has check `checkID`). Resets
    /// the TTL; goes through Raft only when the status or output changes.
    case checkUpdate(node: String, checkID: String, status: CheckStatus, output: String)

    // MARK: Sessions (0x04xx)

    /// Create a session.
    case sessionCreate(SessionRequest)
    /// Renew a session's TTL.
    case sessionRenew(id: String)
    /// Destroy a session, releasing or deleting what it holds.
    case sessionDestroy(id: String)
    /// Describe one session.
    case sessionInfo(id: String, consistency: ReadConsistency)
    /// List every session.
    case sessionList(consistency: ReadConsistency)

    // MARK: Watches (0x05xx)

    /// Stream the changes of `target` after Raft index `fromIndex` (0: first the current state).
    case watch(WatchTarget, fromIndex: UInt64)
    /// Stop the watch running on stream `streamID` of this connection.
    case watchCancel(streamID: UInt64)
}

/// A server's answer to a ``ClientRequest``.
public enum ClientResponse: Sendable, Hashable {
    /// The key, or nil when absent.
    case kvGet(KVEntry?, ReadMeta)
    /// The entries under the prefix, in key order.
    case kvList([KVEntry], ReadMeta)
    /// The keys (or key prefixes up to the separator) under the prefix, in order.
    case kvKeys([String], ReadMeta)
    /// Whether the put (or acquire, or release) applied — false: the check-and-set index did not
    /// match, or the lock is held by another session or within its lock-delay — and its Raft index.
    case kvPut(succeeded: Bool, index: UInt64)
    /// Whether the delete (or delete-tree) applied (false: the check-and-set index did not
    /// match), and its Raft index.
    case kvDelete(succeeded: Bool, index: UInt64)
    /// How the transaction ended.
    case kvTransaction(KVTransactionOutcome)
    /// Every server.
    case members([MemberInfo])
    /// The peer was removed at this Raft index.
    case peerRemoved(index: UInt64)
    /// A snapshot archive of the state as of Raft index `index`.
    case snapshotArchive(index: UInt64, archive: [UInt8])
    /// A write without another result (register, deregister, check update, session destroy,
    /// snapshot restore, watch cancel) took effect at Raft index `index`.
    case applied(index: UInt64)
    /// Every service with its tags, in name order.
    case catalogServices([ServiceSummary], ReadMeta)
    /// The instances of a service with their health, ordered by node then id.
    case catalogService([ServiceHealth], ReadMeta)
    /// Every node, in name order.
    case catalogNodes([CatalogNode], ReadMeta)
    /// A node (nil when unknown) and its service instances.
    case catalogNodeServices(CatalogNode?, [ServiceInstance], ReadMeta)
    /// Health checks, ordered by node then id.
    case healthChecks([HealthCheck], ReadMeta)
    /// The session created, and the Raft index that created it.
    case sessionCreated(id: String, index: UInt64)
    /// The session (nil when unknown: expired or destroyed).
    case session(Session?, ReadMeta)
    /// Every session, ordered by id.
    case sessions([Session], ReadMeta)
    /// One event of the watch on this stream id; more follow.
    case watchEvent(WatchEvent)
    /// This server cannot serve the request because it is not the leader; `leaderAddress` is the
    /// leader's client address, empty when no leader is known.
    case notLeader(leaderID: NodeID, leaderAddress: String)
    /// The request failed. On a watch's stream, the watch has ended.
    case error(ClientErrorCode, message: String)
}

/// Why a request failed.
///
/// Carried by ``ClientResponse/error(_:message:)`` as a `u16` (Protocol/README.md §8.2). The set is
/// open: a code a newer server defines decodes with its value kept, and a client treats it as a
/// generic failure. Distinct from ``WireError/Code``, which the `error` frame carries and which
/// ends the connection.
public struct ClientErrorCode: RawRepresentable, Sendable, Hashable, CustomStringConvertible {
    /// The code's value on the wire.
    public var rawValue: UInt16
    /// The code with this wire value (any value).
    public init(rawValue: UInt16) { self.rawValue = rawValue }

    /// The request's bytes do not decode.
    public static let malformedRequest = ClientErrorCode(rawValue: 1)
    /// The request's operation code is unknown to this server.
    public static let unknownOperation = ClientErrorCode(rawValue: 2)
    /// A value exceeds the size limit.
    public static let valueTooLarge = ClientErrorCode(rawValue: 3)
    /// A key is empty, too long or not valid UTF-8.
    public static let invalidKey = ClientErrorCode(rawValue: 4)
    /// No leader is known; retry later.
    public static let noLeader = ClientErrorCode(rawValue: 5)
    /// The request did not complete in time; it may or may not have been applied.
    public static let timeout = ClientErrorCode(rawValue: 6)
    /// The server failed internally.
    public static let internalError = ClientErrorCode(rawValue: 7)
    /// The operation was refused (for instance removing the last voter).
    public static let refused = ClientErrorCode(rawValue: 8)
    /// The server is shutting down.
    public static let shuttingDown = ClientErrorCode(rawValue: 9)
    /// A watch asked to resume from an index older than the server's history: re-read the
    /// current state (watch again from index 0).
    public static let historyCompacted = ClientErrorCode(rawValue: 10)
    /// A watch's client read its events too slowly; the server cut the stream (resume it from
    /// the last index received).
    public static let watchTooSlow = ClientErrorCode(rawValue: 11)
    /// The named thing (session, check, service) does not exist.
    public static let notFound = ClientErrorCode(rawValue: 12)
    /// An argument is out of range or inconsistent (a TTL outside 10 s–24 h, too many transaction
    /// operations, an empty service name).
    public static let invalidArgument = ClientErrorCode(rawValue: 13)
    /// A snapshot archive is damaged (bad magic, version or checksum).
    public static let invalidSnapshot = ClientErrorCode(rawValue: 14)

    /// The code's name in words, or `error N` for a code this version does not define.
    public var description: String {
        switch self {
        case .malformedRequest: return "malformed request"
        case .unknownOperation: return "unknown operation"
        case .valueTooLarge: return "value too large"
        case .invalidKey: return "invalid key"
        case .noLeader: return "no leader"
        case .timeout: return "timeout"
        case .internalError: return "internal error"
        case .refused: return "refused"
        case .shuttingDown: return "shutting down"
        case .historyCompacted: return "history compacted"
        case .watchTooSlow: return "watch too slow"
        case .notFound: return "not found"
        case .invalidArgument: return "invalid argument"
        case .invalidSnapshot: return "invalid snapshot"
        default: return "error \(rawValue)"
        }
    }
}

/// What a server says about itself when a peer connection opens (both directions), so that
/// servers learn each other's ids and addresses (`--retry-join`, `--bootstrap-expect`).
public struct PeerHello: Sendable, Hashable {
    /// The server's Raft id.
    public var id: NodeID
    /// The server's node name.
    public var name: String
    /// The datacenter it belongs to.
    public var datacenter: String
    /// Where peers reach it.
    public var peerAddress: String
    /// Where clients reach it.
    public var clientAddress: String
    /// Its `--bootstrap-expect` (0 when not bootstrapping).
    public var bootstrapExpect: UInt32
    /// Whether it already belongs to a cluster (has Raft state).
    public var hasState: Bool

    /// Creates a hello.
    public init(id: NodeID, name: String, datacenter: String, peerAddress: String, clientAddress: String,
                bootstrapExpect: UInt32, hasState: Bool) {
        self.id = id
        self.name = name
        self.datacenter = datacenter
        self.peerAddress = peerAddress
        self.clientAddress = clientAddress
        self.bootstrapExpect = bootstrapExpect
        self.hasState = hasState
    }
}
