import CairnWire

/// The leader's session TTL deadlines: a pure value, with time an input.
///
/// The leader renews a session's deadline when the session is created or renewed, asks which
/// deadlines have passed on each tick, and proposes a ``KVCommand/sessionDestroy(id:now:)`` for
/// each. After a leader change the new leader calls ``resetAll(_:now:)``: every session gets a
/// full fresh TTL from that moment, as in Consul (a new leader cannot know when sessions were
/// last renewed). Times are milliseconds from any monotonic origin the caller picks; they never
/// enter the replicated state. Sessions without a TTL (0) are not tracked and never expire.
///
/// Consul waits twice the TTL before invalidating; a caller wanting that grace passes twice the
/// TTL to ``renew(_:ttlMilliseconds:now:)``.
///
/// Invariant: every tracked session has exactly one deadline, `now + ttl` of its last renewal
/// (saturating at `UInt64.max`).
public struct SessionTimers: Sendable, Hashable {
    private var deadlines: [ExactString: UInt64] = [:]

    /// Creates timers tracking no session.
    public init() {}

    /// The number of tracked sessions.
    public var count: Int { deadlines.count }

    /// Sets session `id`'s deadline to `now + ttlMilliseconds`; a TTL of 0 stops tracking it.
    public mutating func renew(_ id: String, ttlMilliseconds: UInt64, now: UInt64) {
        guard ttlMilliseconds > 0 else {
            deadlines[ExactString(id)] = nil
            return
        }
        let (sum, overflow) = now.addingReportingOverflow(ttlMilliseconds)
        deadlines[ExactString(id)] = overflow ? .max : sum
    }

    /// Stops tracking session `id` (it was destroyed).
    public mutating func remove(_ id: String) {
        deadlines[ExactString(id)] = nil
    }

    /// The sessions whose deadline is at or before `now`, ordered by id bytes. They stay tracked
    /// until removed (the leader removes them once their destroy is committed).
    public func expired(now: UInt64) -> [String] {
        deadlines.filter { $0.value <= now }.keys.sorted().map(\.string)
    }

    /// Tracks exactly `sessions`, each with a full TTL from `now` (after a leader change).
    public mutating func resetAll(_ sessions: [Session], now: UInt64) {
        deadlines = [:]
        for session in sessions { renew(session.id, ttlMilliseconds: session.ttlMilliseconds, now: now) }
    }

    /// Session `id`'s deadline; nil when it is not tracked (unknown, or no TTL).
    public func deadline(_ id: String) -> UInt64? { deadlines[ExactString(id)] }

    /// The earliest deadline of any tracked session (when the leader next needs to look), or nil.
    public var nextDeadline: UInt64? { deadlines.values.min() }
}
