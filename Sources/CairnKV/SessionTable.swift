import CairnWire

/// The sessions the KV store knows, and the keys each one holds.
///
/// Invariant (kept by ``KVStore``): a key is in `held[s]` exactly when the key exists and its
/// entry's `session` is `s`, and then `s` is a session of the table. The held sets are derived
/// from the entries, so they are not written into the snapshot but rebuilt on restore.
struct SessionTable: Sendable, Equatable {
    private(set) var sessions: [ExactString: Session] = [:]
    private var held: [ExactString: Set<ExactString>] = [:]

    init() {}

    /// The session with `id`.
    func session(_ id: String) -> Session? { sessions[ExactString(id)] }

    /// Whether a session with `id` exists.
    func contains(_ id: String) -> Bool { sessions[ExactString(id)] != nil }

    /// Every session, ordered by id bytes.
    func all() -> [Session] {
        sessions.keys.sorted().map { sessions[$0]! }
    }

    /// The number of sessions.
    var count: Int { sessions.count }

    /// The keys `id` holds, in byte order.
    func keysHeld(by id: String) -> [String] {
        (held[ExactString(id)] ?? []).sorted().map(\.string)
    }

    /// Adds `session`; its id must be new.
    mutating func add(_ session: Session) {
        sessions[ExactString(session.id)] = session
    }

    /// Removes session `id` and returns it with the keys it held, in byte order. The caller must
    /// then release or delete those keys.
    mutating func remove(_ id: String) -> (session: Session, keys: [String])? {
        let exact = ExactString(id)
        guard let session = sessions.removeValue(forKey: exact) else { return nil }
        let keys = (held.removeValue(forKey: exact) ?? []).sorted().map(\.string)
        return (session, keys)
    }

    /// Records that session `id` holds `key`.
    mutating func hold(_ key: String, by id: String) {
        held[ExactString(id), default: []].insert(ExactString(key))
    }

    /// Records that session `id` no longer holds `key`.
    mutating func unhold(_ key: String, by id: String) {
        let exact = ExactString(id)
        guard var keys = held.removeValue(forKey: exact) else { return }
        keys.remove(ExactString(key))
        if !keys.isEmpty { held[exact] = keys }
    }
}
