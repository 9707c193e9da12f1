/// What `cairn bench` sends.
public enum BenchmarkWorkload: String, Sendable, Hashable, CaseIterable, Codable {
    /// Unconditional writes.
    case put
    /// Linearizable reads of preloaded keys.
    case get
    /// Stale reads (any server answers) of preloaded keys.
    case staleGet = "stale-get"
    /// Read-then-check-and-set: a linearizable read for the key's modify index, then a write
    /// conditioned on it; one operation, timed as a whole. A lost race is a normal outcome (`casFailed`).
    case cas
    /// Linearizable reads with probability `readRatio`, unconditional writes otherwise.
    case mixed
    /// `watchers` watches on the prefix `bench/` while the clients write unconditionally; the
    /// latency measured is from each write's acknowledgement to each watcher receiving its event.
    case watch

    /// Whether the keys are written before the measured run starts.
    public var needsPreload: Bool { self == .get || self == .staleGet || self == .mixed }
}

/// How keys are drawn from the key space.
public enum KeyDistribution: String, Sendable, Hashable, CaseIterable, Codable {
    /// Every key equally likely.
    case uniform
    /// Zipf with exponent 0.99: key 0 is the hottest, key k has weight 1/(k+1)^0.99.
    case zipf
}

/// One benchmark run's parameters. Build it directly or from ``BenchmarkFlags``; ``validate()``
/// states the invariants the runner relies on.
public struct BenchmarkConfiguration: Sendable, Hashable {
    /// The longest a run limited only by `requests` may last.
    public static let requestsTimeLimit: Duration = .seconds(600)
    /// The longest the preload phase may last.
    public static let preloadTimeLimit: Duration = .seconds(120)
    /// The most watchers the `watch` workload may open.
    public static let maximumWatchers = 20_000
    /// The prefix of every benchmark key (`bench/0` …); the `watch` workload's watchers follow it.
    public static let keyPrefix = "bench/"

    /// What is sent.
    public var workload: BenchmarkWorkload = .put
    /// The fraction of reads in the `mixed` workload, 0...1.
    public var readRatio: Double = 0.9
    /// Concurrent requesters.
    public var clients: Int = 16
    /// Value size in bytes.
    public var valueSize: Int = 256
    /// How many distinct keys (`bench/0` … `bench/<keySpace-1>`).
    public var keySpace: Int = 10_000
    /// How keys are drawn from the key space.
    public var keyDistribution: KeyDistribution = .uniform
    /// How long the measured phase lasts; nil when only `requests` bounds it.
    public var duration: Duration? = .seconds(10)
    /// How many measured requests to send in all; when `duration` is also set, whichever comes first.
    public var requests: Int? = nil
    /// How long requests are sent before measuring starts; their latencies are not recorded.
    public var warmup: Duration = .seconds(1)
    /// Open loop at this many requests per second in all (spread evenly over the clients);
    /// nil for closed loop (each client sends its next request when the last one answered).
    public var rate: Double? = nil
    /// Seeds key choice, read/write choice and the value bytes.
    public var seed: UInt64 = 1
    /// How many watches the `watch` workload opens on ``keyPrefix`` (1 ... ``maximumWatchers``);
    /// ignored by the other workloads.
    public var watchers: Int = 1000
    /// `watch` only: how long every watcher may take to receive its first event (the snapshot of
    /// the prefix) before the run fails. No write is sent until all have.
    public var watchReadyTimeout: Duration = .seconds(60)
    /// `watch` only: how long after the last write the watchers may take to deliver the events
    /// still on their way; what has not arrived by then is counted as missed.
    public var watchDrainTimeout: Duration = .seconds(30)

    /// The default configuration.
    public init() {}

    /// Checks every field; throws the first problem found.
    public func validate() throws(BenchmarkConfigurationError) {
        func check(_ ok: Bool, _ flag: String, _ reason: String) throws(BenchmarkConfigurationError) {
            if !ok { throw BenchmarkConfigurationError(flag: flag, reason: reason) }
        }
        try check((0.0...1.0).contains(readRatio), "--read-ratio", "must be between 0 and 1")
        try check((1...4096).contains(clients), "--clients", "must be between 1 and 4096")
        try check((0...1_048_576).contains(valueSize), "--value-size", "must be between 0 and 1048576 bytes")
        try check((1...1_000_000).contains(keySpace), "--key-space", "must be between 1 and 1000000")
        try check(duration != nil || requests != nil, "--duration", "give --duration or --requests")
        if let duration {
            try check(duration > .zero && duration <= .seconds(86_400), "--duration", "must be more than 0 and at most 24h")
        }
        if let requests { try check(requests >= 1, "--requests", "must be at least 1") }
        try check(warmup >= .zero && warmup <= .seconds(3_600), "--warmup", "must be between 0 and 1h")
        if let rate { try check(rate.isFinite && rate > 0 && rate <= 10_000_000, "--rate", "must be more than 0 and at most 10000000") }
        try check((1...Self.maximumWatchers).contains(watchers), "--watchers", "must be between 1 and \(Self.maximumWatchers)")
        try check(watchReadyTimeout > .zero, "--watchers", "the watchers' ready timeout must be more than 0")
        try check(watchDrainTimeout >= .zero, "--watchers", "the watchers' drain timeout must not be negative")
    }
}

/// A configuration that cannot run. Compare by `flag`.
public struct BenchmarkConfigurationError: Error, Hashable, CustomStringConvertible {
    /// The flag at fault, as the user types it (`--clients`).
    public var flag: String
    /// What is wrong with it.
    public var reason: String

    /// Creates the error for `flag`.
    public init(flag: String, reason: String) {
        self.flag = flag
        self.reason = reason
    }

    /// `--flag: reason`, as `cairn bench` prints it.
    public var description: String { "\(flag): \(reason)" }

    /// Errors are equal when they name the same flag, whatever the reason.
    public static func == (lhs: Self, rhs: Self) -> Bool { lhs.flag == rhs.flag }
    /// Hashes the flag only, consistently with `==`.
    public func hash(into hasher: inout Hasher) { hasher.combine(flag) }
}
