import CairnWire

/// The decisions of Consul's lock recipe, as a value that does no IO: when to try to acquire,
/// when to wait for the holder to let go, and how to get past a lock-delay. ``CairnLock`` is the
/// shell that runs it (sends `kvAcquire`, watches the key, sleeps).
///
/// The recipe: try to acquire. If that fails, watch the key. While another session holds it,
/// keep waiting. Once it is free, try again — at once the first time; but when an attempt fails
/// although the key looked free, the key is within the lock-delay of a session that was
/// invalidated while holding it (or was taken in a race), and nothing in the key will change
/// when the delay ends: so the next attempt waits ``retryInterval`` instead of spinning.
/// Seeing the key held by the lock's own session means an earlier attempt did take it (its
/// answer was lost): try again, which for the same session is a no-op that answers true.
public struct LockAcquisition: Sendable, Hashable {
    /// What the shell does next.
    public enum Step: Sendable, Hashable {
        /// Send an acquire for the session after waiting this long.
        case attempt(after: Duration)
        /// Watch the key (from its current state) and report each observation.
        case waitForRelease
        /// The lock is held.
        case acquired
    }

    /// The session the lock is acquired for.
    public let session: String
    /// How long to wait between attempts that fail while the key looks free.
    public let retryInterval: Duration
    /// Acquire requests sent so far.
    public private(set) var attempts = 0
    /// Attempts in a row that failed while the key looked free.
    public private(set) var failuresWhileFree = 0
    private var lastSeenFree = false

    /// Creates the logic for acquiring a lock for `session`.
    public init(session: String, retryInterval: Duration = .seconds(1)) {
        self.session = session
        self.retryInterval = retryInterval
    }

    /// The first step: try at once.
    public func start() -> Step { .attempt(after: .zero) }

    /// An acquire was answered.
    public mutating func attempted(succeeded: Bool) -> Step {
        attempts += 1
        if succeeded { return .acquired }
        if lastSeenFree { failuresWhileFree += 1 }
        return .waitForRelease
    }

    /// The watched key is now `entry` (nil: absent). Returns the next step, or nil to keep
    /// waiting.
    public mutating func observed(_ entry: KVEntry?) -> Step? {
        if let entry, !entry.session.isEmpty {
            if entry.session == session { return .attempt(after: .zero) }
            lastSeenFree = false
            failuresWhileFree = 0
            return nil
        }
        lastSeenFree = true
        return .attempt(after: failuresWhileFree == 0 ? .zero : retryInterval)
    }
}
