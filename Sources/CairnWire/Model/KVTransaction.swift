/// One operation of a KV transaction (``ClientRequest/kvTransaction(_:)``). A transaction holds
/// at most ``KVTransaction/maxOperations`` operations; all apply, in order, at one Raft index, or
/// none does.
public enum KVTransactionOperation: Sendable, Hashable {
    /// Reads a key (its entry is in the results; a missing key fails the transaction).
    case get(key: String)
    /// Reads every key under a prefix (all entries are in the results, possibly none).
    case getTree(prefix: String)
    /// Writes a key.
    case set(key: String, value: [UInt8], flags: UInt64)
    /// Writes a key only if its modify index equals `index` (0: only if absent).
    case cas(key: String, value: [UInt8], flags: UInt64, index: UInt64)
    /// Writes a key and acquires its lock for `session`.
    case lock(key: String, value: [UInt8], flags: UInt64, session: String)
    /// Writes a key and releases its lock held by `session`.
    case unlock(key: String, value: [UInt8], flags: UInt64, session: String)
    /// Deletes a key (absent is fine).
    case delete(key: String)
    /// Deletes every key under a prefix.
    case deleteTree(prefix: String)
    /// Deletes a key only if its modify index equals `index`.
    case deleteCAS(key: String, index: UInt64)
    /// Fails the transaction unless the key's modify index equals `index`.
    case checkIndex(key: String, index: UInt64)
    /// Fails the transaction unless `session` holds the key's lock (empty: unless nobody does).
    case checkSession(key: String, session: String)
    /// Fails the transaction unless the key is absent.
    case checkNotExists(key: String)
}

/// Limits of KV transactions.
public enum KVTransaction {
    /// The most operations one transaction may hold.
    public static let maxOperations = 64
}

/// How a KV transaction ended.
public enum KVTransactionOutcome: Sendable, Hashable {
    /// Every operation applied at Raft index `index`. `results` holds, in operation order, the
    /// entries that the `get`, `getTree`, `set`, `cas`, `lock` and `unlock` operations read or wrote
    /// (for writes, the entry as written).
    case committed(index: UInt64, results: [KVEntry])
    /// Nothing applied: operation number `operation` (0-based) failed for `reason`.
    case failed(index: UInt64, operation: UInt32, reason: String)
}

/// One key's change, as a watch reports it.
public struct KVChange: Sendable, Hashable {
    /// The key.
    public var key: String
    /// The key's entry after the change; nil when the change deleted it.
    public var entry: KVEntry?

    /// Creates a change.
    public init(key: String, entry: KVEntry?) {
        self.key = key
        self.entry = entry
    }
}
