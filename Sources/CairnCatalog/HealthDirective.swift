import CairnWire

/// Something ``HealthSchedule`` asks the leader's health runner to do.
public enum HealthDirective: Sendable, Hashable {
    /// Run the HTTP or TCP check `checkID` of `node` now (with ``kind``'s URL or address and
    /// timeout), propose its result as a status update when it differs from the catalog's, and
    /// call ``HealthSchedule/probeFinished(node:checkID:now:)`` when done, whatever the outcome.
    case probe(node: String, checkID: String, kind: CheckKind)
    /// Propose this status and output for the check (a TTL check that was not reported in time).
    case setStatus(node: String, checkID: String, status: CheckStatus, output: String)
    /// Propose deregistering service instance `serviceID` of `node`: one of its checks has been
    /// critical for longer than its "deregister after critical for".
    case deregister(node: String, serviceID: String)
}
