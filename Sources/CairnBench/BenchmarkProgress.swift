/// What the runner reports about once a second while it runs.
public struct BenchmarkProgress: Sendable, Hashable {
    /// Since the start of the warmup.
    public var elapsed: Duration
    /// Whether the warmup is still going on (nothing is measured yet).
    public var warmingUp: Bool
    /// Requests answered per second over the last interval, warmup included.
    public var requestsPerSecond: Double
    /// Measured requests so far.
    public var operations: Int
    /// The median latency of the measured requests so far (for `watch`: of the delivery delay).
    public var p50Milliseconds: Double
    /// The 99th percentile latency of the measured requests so far (for `watch`: of the
    /// delivery delay).
    public var p99Milliseconds: Double
    /// Failed measured requests so far.
    public var errors: Int
}
