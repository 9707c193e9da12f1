import CairnWire

/// The KV store: keys, prefixes, check-and-set, locks and transactions (Consul's `/v1/kv` and
/// `/v1/txn`).
///
/// Reads are linearizable by default: the leader confirms its leadership before answering. With
/// `consistency: .stale` any server answers from its own state at once; the `…WithMeta`
/// variants return the ``ReadMeta`` that says how stale it may be.
extension CairnClient {
    /// The entry for `key`, or nil when it does not exist.
    public func get(_ key: String, consistency: ReadConsistency = .linearizable) async throws -> KVEntry? {
        try await getWithMeta(key, consistency: consistency).entry
    }

    /// The entry for `key` (nil when it does not exist) and how fresh the answer is: the index
    /// the answering server had applied, whether it knows a leader, and how long since it heard
    /// from it (Consul's `X-Consul-Index`, `X-Consul-KnownLeader`, `X-Consul-LastContact`).
    public func getWithMeta(_ key: String, consistency: ReadConsistency = .linearizable) async throws -> (entry: KVEntry?, meta: ReadMeta) {
        guard case .kvGet(let entry, let meta) = try await perform(.kvGet(key: key, consistency: consistency), idempotent: true) else {
            throw unexpected()
        }
        return (entry, meta)
    }

    /// Every entry whose key starts with `prefix`, in key order (Consul's `?recurse`). The empty
    /// prefix lists the whole store.
    public func list(prefix: String, consistency: ReadConsistency = .linearizable) async throws -> [KVEntry] {
        try await listWithMeta(prefix: prefix, consistency: consistency).entries
    }

    /// ``list(prefix:consistency:)`` with the read's ``ReadMeta``.
    public func listWithMeta(prefix: String, consistency: ReadConsistency = .linearizable) async throws -> (entries: [KVEntry], meta: ReadMeta) {
        guard case .kvList(let entries, let meta) = try await perform(.kvList(prefix: prefix, consistency: consistency), idempotent: true) else {
            throw unexpected()
        }
        return (entries, meta)
    }

    /// The keys starting with `prefix`, in order (Consul's `?keys`). With a non-empty
    /// `separator`, each key is cut just after the first separator that follows the prefix and
    /// repeats are folded, so `keys(prefix: "app/", separator: "/")` lists one level of a tree
    /// (`app/db/`, `app/name`).
    public func keys(prefix: String, separator: String = "", consistency: ReadConsistency = .linearizable) async throws -> [String] {
        try await keysWithMeta(prefix: prefix, separator: separator, consistency: consistency).keys
    }

    /// ``keys(prefix:separator:consistency:)`` with the read's ``ReadMeta``.
    public func keysWithMeta(prefix: String, separator: String = "", consistency: ReadConsistency = .linearizable) async throws -> (keys: [String], meta: ReadMeta) {
        let request = ClientRequest.kvKeys(prefix: prefix, separator: separator, consistency: consistency)
        guard case .kvKeys(let keys, let meta) = try await perform(request, idempotent: true) else { throw unexpected() }
        return (keys, meta)
    }

    /// Writes `key`. With `cas`, only if its modify index equals `cas` (0: only if absent).
    /// Returns whether it applied (false: the check-and-set index did not match) and the Raft
    /// index of the write.
    @discardableResult
    public func put(_ key: String, value: [UInt8], flags: UInt64 = 0, cas: UInt64? = nil) async throws -> (succeeded: Bool, index: UInt64) {
        guard case .kvPut(let ok, let index) = try await perform(.kvPut(key: key, value: value, flags: flags, cas: cas), idempotent: false) else {
            throw unexpected()
        }
        return (ok, index)
    }

    /// Deletes `key` (absent is fine). With `cas`, only if its modify index equals `cas`.
    /// Returns whether it applied and the Raft index of the decision.
    @discardableResult
    public func delete(_ key: String, cas: UInt64? = nil) async throws -> (succeeded: Bool, index: UInt64) {
        guard case .kvDelete(let ok, let index) = try await perform(.kvDelete(key: key, cas: cas), idempotent: false) else {
            throw unexpected()
        }
        return (ok, index)
    }

    /// Deletes every key starting with `prefix` (Consul's `DELETE ?recurse`); returns the Raft
    /// index of the deletion. Retried after a lost connection: deleting a tree twice leaves the
    /// same store as once.
    @discardableResult
    public func deleteTree(prefix: String) async throws -> UInt64 {
        guard case .kvDelete(_, let index) = try await perform(.kvDeleteTree(prefix: prefix), idempotent: true) else {
            throw unexpected()
        }
        return index
    }

    /// Writes `key` and acquires its lock for `session` (Consul's `?acquire=`). True when the
    /// lock is now held by `session`: it was free (the key's lock index then increments) or
    /// already held by `session`. False when another session holds it, or the key is within the
    /// lock-delay of a session that was invalidated while holding it.
    ///
    /// Retried after a lost connection: acquiring again for the same session is a no-op that
    /// answers true, so the retry tells the truth about the first attempt.
    public func acquire(key: String, value: [UInt8] = [], flags: UInt64 = 0, session: String) async throws -> Bool {
        let request = ClientRequest.kvAcquire(key: key, value: value, flags: flags, session: session)
        guard case .kvPut(let ok, _) = try await perform(request, idempotent: true) else { throw unexpected() }
        return ok
    }

    /// Writes `key` and releases its lock (Consul's `?release=`). True when `session` held the
    /// lock and released it; false when it did not hold it.
    public func release(key: String, value: [UInt8] = [], flags: UInt64 = 0, session: String) async throws -> Bool {
        let request = ClientRequest.kvRelease(key: key, value: value, flags: flags, session: session)
        guard case .kvPut(let ok, _) = try await perform(request, idempotent: false) else { throw unexpected() }
        return ok
    }

    /// Applies `operations` atomically at one Raft index, or none of them (Consul's `/v1/txn`).
    /// At most ``KVTransaction/maxOperations`` operations. A failed check is an outcome
    /// (``KVTransactionOutcome/failed(index:operation:reason:)``), not an error.
    public func transaction(_ operations: [KVTransactionOperation]) async throws -> KVTransactionOutcome {
        guard case .kvTransaction(let outcome) = try await perform(.kvTransaction(operations), idempotent: false) else {
            throw unexpected()
        }
        return outcome
    }
}
