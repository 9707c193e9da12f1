import CairnWire

/// When the leader runs each HTTP and TCP check, when a TTL check has expired and when a failing
/// service must be deregistered: a pure value with time as an input (milliseconds from any
/// monotonic origin), in the "instance, shell, directives" shape. The leader feeds it the
/// catalog's checks and the passing of time; it answers with ``HealthDirective``s; the server
/// carries them out (probing, proposing) and reports back.
///
/// Usage on the leader:
/// - after gaining leadership: ``sync(_:now:)`` with ``CatalogStore/allChecks()``, then
///   ``resetAll(now:)`` (every TTL check gets a full fresh TTL, as sessions do, and every
///   critical check starts its "critical since" clock again: a new leader cannot know for how
///   long it has been critical);
/// - after each applied catalog change: ``sync(_:now:)`` (or ``observe(node:checkID:status:now:)``
///   for a single status change);
/// - when a TTL check is reported: ``ttlReported(node:checkID:now:)``;
/// - periodically (``nextDeadline`` says when): ``due(now:)``, carrying out what it returns;
/// - when a probe ends, whatever its outcome: ``probeFinished(node:checkID:now:)``.
///
/// Invariants:
/// - At most one probe per check is in flight: a check returned in a `.probe` directive is not
///   returned again until ``probeFinished(node:checkID:now:)``, after which it is due one interval
///   later. A new HTTP or TCP check is due at once.
/// - A TTL check expires when `now` reaches its last report (or its adoption, or ``resetAll(now:)``)
///   plus its TTL; each expiry gives exactly one `.setStatus(critical, "TTL expired")` until the
///   next report.
/// - A service check that has been critical (as last seen via ``sync(_:now:)`` or
///   ``observe(node:checkID:status:now:)``) for at least its non-zero "deregister after critical
///   for" gives one `.deregister` for its instance, once per critical spell. Node-level checks
///   never deregister anything.
///
/// ``due(now:)`` and ``nextDeadline`` look at every check: O(n) per call, fine for the thousands
/// of checks a catalog holds.
public struct HealthSchedule: Sendable {
    /// The output a TTL check gets when it expires.
    public static let ttlExpiredOutput = "TTL expired"

    private struct Entry {
        var serviceID: String
        var definition: CheckDefinition
        var status: CheckStatus
        /// HTTP/TCP: when the next probe is due (meaningless while probing).
        var nextProbeAt: UInt64 = 0
        /// HTTP/TCP: a probe was handed out and has not finished.
        var probing = false
        /// TTL: when the check expires unless reported.
        var ttlDeadline: UInt64 = 0
        /// TTL: the current expiry was already handed out.
        var ttlExpired = false
        /// Since when the check has been critical (nil: it is not).
        var criticalSince: UInt64?
        /// The deregistration for the current critical spell was already handed out.
        var deregisterIssued = false

        /// Starts the check's timers afresh as of `now` (keeping an in-flight probe in flight).
        mutating func schedule(now: UInt64) {
            nextProbeAt = now
            if case .ttl(let ttl) = definition.kind { ttlDeadline = HealthSchedule.adding(now, ttl) }
            ttlExpired = false
        }

        /// Records a status seen in the catalog.
        mutating func observe(_ status: CheckStatus, now: UInt64) {
            self.status = status
            if status == .critical {
                if criticalSince == nil { criticalSince = now }
            } else {
                criticalSince = nil
                deregisterIssued = false
            }
        }

        /// When the check's deregistration falls due, if it can.
        var deregisterAt: UInt64? {
            let after = definition.deregisterCriticalAfterMilliseconds
            guard !serviceID.isEmpty, after > 0, !deregisterIssued, let since = criticalSince else { return nil }
            return HealthSchedule.adding(since, after)
        }

        /// When the check's probe or expiry falls due, if it can.
        var timerAt: UInt64? {
            switch definition.kind {
            case .ttl: return ttlExpired ? nil : ttlDeadline
            case .http, .tcp: return probing ? nil : nextProbeAt
            }
        }
    }

    private var entries: [InstanceKey: Entry] = [:]

    /// Creates a schedule with no checks.
    public init() {}

    /// The number of checks scheduled.
    public var count: Int { entries.count }

    /// Adopts the catalog's current checks: new ones are scheduled (an HTTP or TCP check is due at
    /// once, a TTL check expires at `now` + TTL), ones whose definition changed are rescheduled
    /// the same way, ones no longer present are dropped, and every status is observed.
    public mutating func sync(_ checks: [HealthCheck], now: UInt64) {
        var adopted: [InstanceKey: Entry] = [:]
        adopted.reserveCapacity(checks.count)
        for check in checks {
            let key = InstanceKey(node: check.node, id: check.id)
            var entry: Entry
            if var existing = entries[key] {
                if existing.definition != check.definition {
                    existing.definition = check.definition
                    existing.deregisterIssued = false
                    existing.schedule(now: now)
                }
                entry = existing
                entry.serviceID = check.serviceID
            } else {
                entry = Entry(serviceID: check.serviceID, definition: check.definition, status: check.status)
                entry.schedule(now: now)
            }
            if case .ttl = entry.definition.kind { entry.probing = false }
            entry.observe(check.status, now: now)
            adopted[key] = entry
        }
        entries = adopted
    }

    /// Records a check's new status (as applied to the catalog) without a full ``sync(_:now:)``.
    /// Unknown checks are ignored.
    public mutating func observe(node: String, checkID: String, status: CheckStatus, now: UInt64) {
        entries[InstanceKey(node: node, id: checkID)]?.observe(status, now: now)
    }

    /// What is due at `now`: `.probe` for every HTTP or TCP check whose time has come and that has
    /// no probe in flight (it is then in flight), `.setStatus(critical, "TTL expired")` for every
    /// TTL check that just expired, then `.deregister` for every instance with a check critical for
    /// its "deregister after critical for" (once per instance). Probes and expiries come in
    /// (node, check id) order, deregistrations in (node, service id) order.
    public mutating func due(now: UInt64) -> [HealthDirective] {
        var directives: [HealthDirective] = []
        var deregistrations = Set<InstanceKey>()
        for key in entries.keys.sorted() {
            var entry = entries[key]!
            if let at = entry.timerAt, at <= now {
                switch entry.definition.kind {
                case .ttl:
                    entry.ttlExpired = true
                    directives.append(.setStatus(node: key.node, checkID: key.id, status: .critical,
                                                 output: Self.ttlExpiredOutput))
                case .http, .tcp:
                    entry.probing = true
                    directives.append(.probe(node: key.node, checkID: key.id, kind: entry.definition.kind))
                }
            }
            if let at = entry.deregisterAt, at <= now {
                entry.deregisterIssued = true
                deregistrations.insert(InstanceKey(node: key.node, id: entry.serviceID))
            }
            entries[key] = entry
        }
        for key in deregistrations.sorted() {
            directives.append(.deregister(node: key.node, serviceID: key.id))
        }
        return directives
    }

    /// The earliest time at which ``due(now:)`` may have something to return; nil when nothing is
    /// pending (no checks, or only probes in flight and expiries already handed out).
    public var nextDeadline: UInt64? {
        entries.values.lazy.flatMap { [$0.timerAt, $0.deregisterAt].compactMap { $0 } }.min()
    }

    /// A TTL check was reported at `now`: it expires at `now` + TTL, and a later expiry will be
    /// handed out again. Ignored for unknown and non-TTL checks.
    public mutating func ttlReported(node: String, checkID: String, now: UInt64) {
        let key = InstanceKey(node: node, id: checkID)
        guard var entry = entries[key], case .ttl(let ttl) = entry.definition.kind else { return }
        entry.ttlDeadline = Self.adding(now, ttl)
        entry.ttlExpired = false
        entries[key] = entry
    }

    /// The probe of an HTTP or TCP check ended at `now` (with any outcome): the next one is due one
    /// interval later. Ignored when the check has no probe in flight.
    public mutating func probeFinished(node: String, checkID: String, now: UInt64) {
        let key = InstanceKey(node: node, id: checkID)
        guard var entry = entries[key], entry.probing else { return }
        entry.probing = false
        switch entry.definition.kind {
        case .http(_, let interval, _), .tcp(_, let interval, _): entry.nextProbeAt = Self.adding(now, interval)
        case .ttl: break
        }
        entries[key] = entry
    }

    /// Whether check `checkID` of `node` has a probe in flight.
    public func isProbing(node: String, checkID: String) -> Bool {
        entries[InstanceKey(node: node, id: checkID)]?.probing ?? false
    }

    /// Starts over as of `now`, after gaining leadership: every TTL check expires at `now` + TTL,
    /// every HTTP and TCP check is due at once with no probe in flight (probes of an earlier term
    /// are forgotten: their late `probeFinished` is ignored), and every critical check is
    /// critical since `now` with no deregistration handed out.
    public mutating func resetAll(now: UInt64) {
        for key in entries.keys {
            entries[key]!.probing = false
            entries[key]!.schedule(now: now)
            entries[key]!.deregisterIssued = false
            if entries[key]!.criticalSince != nil { entries[key]!.criticalSince = now }
        }
    }

    /// `a + b`, saturating at `UInt64.max`.
    static func adding(_ a: UInt64, _ b: UInt64) -> UInt64 {
        let (sum, overflow) = a.addingReportingOverflow(b)
        return overflow ? .max : sum
    }
}
