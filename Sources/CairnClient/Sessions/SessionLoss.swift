/// Why a session (and with it every lock it held) was lost.
public enum SessionLoss: Sendable, Hashable, CustomStringConvertible {
    /// The servers no longer know the session: it expired, was destroyed, or one of its checks
    /// turned critical.
    case invalidated
    /// Renewals failed for a whole TTL (the reason of the last failure); the servers may have
    /// invalidated it.
    case unrenewable(String)

    /// The loss in words.
    public var description: String {
        switch self {
        case .invalidated: return "the session was invalidated"
        case .unrenewable(let reason): return "the session could not be renewed within its TTL (\(reason))"
        }
    }
}
