/// How a held lock was lost.
public enum LockLoss: Sendable, Hashable, CustomStringConvertible {
    /// The session behind it was lost.
    case session(SessionLoss)
    /// The key's lock no longer names the lease's session (someone released it or the session
    /// was invalidated, and perhaps another session took it).
    case released
    /// The key was deleted.
    case deleted

    /// The loss in words.
    public var description: String {
        switch self {
        case .session(let loss): return loss.description
        case .released: return "the lock was released by someone else"
        case .deleted: return "the lock's key was deleted"
        }
    }
}
