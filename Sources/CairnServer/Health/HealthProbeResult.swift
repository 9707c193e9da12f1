import CairnWire

/// What one run of an HTTP or TCP health check found: the status to record and a line saying why
/// (`HTTP GET http://10.0.0.5:8080/health: 200 OK`, `TCP connect db:5432: connection refused`).
public struct HealthProbeResult: Sendable, Hashable {
    /// The check's status according to this run.
    public var status: CheckStatus
    /// A human explanation, recorded as the check's output.
    public var output: String

    /// Creates a result.
    public init(status: CheckStatus, output: String) {
        self.status = status
        self.output = output
    }
}
