import CairnWire

/// When to renew a session and when to call it lost, as a value that does no IO (the clock is
/// an input). ``SessionKeeper`` is the shell that runs it.
///
/// Invariants:
/// - After a successful renewal the next one is due at half the TTL the server reported.
/// - A failed renewal (no answer, a lost connection) is retried every ``retryInterval`` — but
///   only while the session certainly still lives: once a whole TTL has passed since the last
///   renewal that succeeded (counted from when it was *sent*), the servers may already have
///   invalidated it, and the session is reported lost
///   (``SessionLoss/unrenewable(_:)``) rather than risk a lock holder acting on a lock it lost.
/// - A renewal answered "no such session" is a loss at once (``SessionLoss/invalidated``).
/// - Once lost, always lost.
public struct SessionRenewal: Sendable, Hashable {
    /// What the shell does next.
    public enum Step: Sendable, Hashable {
        /// Send a renewal after waiting this long.
        case renew(after: Duration)
        /// Stop: the session is lost.
        case lost(SessionLoss)
    }

    /// The TTL, as last reported by the server.
    public private(set) var ttl: Duration
    /// When the last successful renewal (or the creation) was sent.
    public private(set) var lastRenewed: ContinuousClock.Instant
    /// Set once the session is lost.
    public private(set) var loss: SessionLoss?

    /// Creates the schedule of a session with `ttl`, created (or last renewed) by a request sent
    /// at `created`.
    public init(ttl: Duration, created: ContinuousClock.Instant) {
        self.ttl = ttl
        self.lastRenewed = created
    }

    /// How long to wait before retrying a failed renewal: a sixth of the TTL, at most a second.
    public var retryInterval: Duration { min(.seconds(1), ttl / 6) }

    /// The first step after creation.
    public func start() -> Step {
        if let loss { return .lost(loss) }
        return .renew(after: ttl / 2)
    }

    /// A renewal sent at `sentAt` was answered with `session` (nil: the server no longer knows
    /// it).
    public mutating func renewed(sentAt: ContinuousClock.Instant, session: Session?) -> Step {
        if let loss { return .lost(loss) }
        guard let session else {
            loss = .invalidated
            return .lost(.invalidated)
        }
        if session.ttlMilliseconds > 0 { ttl = .milliseconds(session.ttlMilliseconds) }
        lastRenewed = max(lastRenewed, sentAt)
        return .renew(after: ttl / 2)
    }

    /// A renewal failed with `reason` at `now` (no answer: the session may or may not live).
    public mutating func failed(at now: ContinuousClock.Instant, reason: String) -> Step {
        if let loss { return .lost(loss) }
        let deadline = lastRenewed + ttl
        if now + retryInterval >= deadline {
            let lost = SessionLoss.unrenewable(reason)
            loss = lost
            return .lost(lost)
        }
        return .renew(after: retryInterval)
    }
}
