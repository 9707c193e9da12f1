import CairnWire

/// Read access to the replicated state, as the ``WatchHub`` needs it to show a watcher the
/// current state: a fresh watch's first event, and the level-based service events.
///
/// The server implements it over its modules. The hub calls it only on the consensus thread,
/// between applies, so every answer describes the state as of ``appliedIndex`` and every change
/// up to that index has already been handed to ``WatchHub/publish(_:state:)``.
public protocol WatchStateSource {
    /// The Raft index of the last entry applied to the state.
    var appliedIndex: UInt64 { get }
    /// The entry of `key`, or nil when absent.
    func kvEntry(_ key: String) -> KVEntry?
    /// Every entry whose key starts with `prefix` (compared as UTF-8 bytes), in key order.
    func kvEntries(prefix: String) -> [KVEntry]
    /// The instances of service `name` with their node and checks, ordered by node then id
    /// (empty when the service is unknown).
    func serviceHealth(name: String) -> [ServiceHealth]
    /// Every service with its tags, in name order.
    func serviceSummaries() -> [ServiceSummary]
}
