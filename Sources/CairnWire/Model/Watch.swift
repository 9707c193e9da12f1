/// What a watch follows.
public enum WatchTarget: Sendable, Hashable {
    /// One key.
    case key(String)
    /// Every key starting with a prefix (the empty prefix: the whole store).
    case keyPrefix(String)
    /// The instances of one service with their health, optionally only those with `tag` and only
    /// those whose checks all pass.
    case service(name: String, tag: String, passingOnly: Bool)
    /// The list of services with their tags.
    case services
}

/// One event of a watch stream. Events arrive in increasing ``index`` order, at most one per
/// index; resuming a watch from the last event's index continues with the next change, with no
/// gap and no repeat.
public struct WatchEvent: Sendable, Hashable {
    /// The Raft index of the change (for the first event of a fresh watch, of the state shown).
    public var index: UInt64
    /// What changed.
    public var payload: Payload

    /// The content of a watch event.
    public enum Payload: Sendable, Hashable {
        /// Key changes at ``WatchEvent/index``. When `snapshot` is true this is instead the whole
        /// current state of the watched key or prefix (the first event of a fresh watch, or after
        /// the history was compacted): every present key, as a change to its current entry.
        case keys([KVChange], snapshot: Bool)
        /// The service's instances (filtered as the watch asked) as of ``WatchEvent/index``.
        case service([ServiceHealth])
        /// Every service with its tags as of ``WatchEvent/index``.
        case services([ServiceSummary])
    }

    /// Creates an event.
    public init(index: UInt64, payload: Payload) {
        self.index = index
        self.payload = payload
    }
}
