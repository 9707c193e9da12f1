/// Something a committed entry changed, as a module reports it for watchers. The server turns
/// these into ``WatchEvent``s; they never travel on the wire themselves.
public enum StateChange: Sendable, Hashable {
    /// One key changed at Raft index `index` (its new entry, or nil when deleted).
    case key(KVChange, index: UInt64)
    /// The instances of service `name`, or their health, changed at Raft index `index`.
    case service(name: String, index: UInt64)
    /// The set of services, or their tags, changed at Raft index `index`.
    case serviceList(index: UInt64)

    /// The Raft index of the change.
    public var index: UInt64 {
        switch self {
        case .key(_, let index), .service(_, let index), .serviceList(let index): return index
        }
    }
}
