/// The `cairn bench` flags as typed, before parsing. The command line hands its strings here, so
/// that every bad value gets the same one-line error whichever front end reads it.
///
/// Each field holds the text given after its flag (`clients` for `--clients`), nil when the flag
/// was not given.
public struct BenchmarkFlags: Sendable, Hashable {
    /// `--workload`.
    public var workload: String?
    /// `--read-ratio`.
    public var readRatio: String?
    /// `--clients`.
    public var clients: String?
    /// `--value-size`.
    public var valueSize: String?
    /// `--key-space`.
    public var keySpace: String?
    /// `--key-distribution`.
    public var keyDistribution: String?
    /// `--duration`.
    public var duration: String?
    /// `--requests`.
    public var requests: String?
    /// `--warmup`.
    public var warmup: String?
    /// `--rate`.
    public var rate: String?
    /// `--seed`.
    public var seed: String?
    /// `--watchers`: only with `--workload watch`.
    public var watchers: String?

    /// No flag given.
    public init() {}

    /// The configuration these flags describe, validated. A flag left nil keeps its default;
    /// with `requests` and no `duration` the run is bounded by requests (and by
    /// ``BenchmarkConfiguration/requestsTimeLimit``) only.
    public func configuration() throws(BenchmarkConfigurationError) -> BenchmarkConfiguration {
        var c = BenchmarkConfiguration()
        if let workload {
            guard let w = BenchmarkWorkload(rawValue: workload) else {
                throw BenchmarkConfigurationError(flag: "--workload", reason: "'\(workload)' is not one of \(BenchmarkWorkload.allCases.map(\.rawValue).joined(separator: ", "))")
            }
            c.workload = w
        }
        if let keyDistribution {
            guard let d = KeyDistribution(rawValue: keyDistribution) else {
                throw BenchmarkConfigurationError(flag: "--key-distribution", reason: "'\(keyDistribution)' is not one of uniform, zipf")
            }
            c.keyDistribution = d
        }
        if let readRatio { c.readRatio = try Self.number(readRatio, "--read-ratio") }
        if let clients { c.clients = try Self.integer(clients, "--clients") }
        if let valueSize { c.valueSize = try Self.integer(valueSize, "--value-size") }
        if let keySpace { c.keySpace = try Self.integer(keySpace, "--key-space") }
        if let requests {
            c.requests = try Self.integer(requests, "--requests")
            c.duration = nil
        }
        if let duration { c.duration = try Self.duration(duration, "--duration") }
        if let warmup { c.warmup = try Self.duration(warmup, "--warmup") }
        if let rate { c.rate = try Self.number(rate, "--rate") }
        if let watchers {
            guard c.workload == .watch else {
                throw BenchmarkConfigurationError(flag: "--watchers", reason: "only with --workload watch")
            }
            c.watchers = try Self.integer(watchers, "--watchers")
        }
        if let seed {
            guard let s = UInt64(seed) else { throw BenchmarkConfigurationError(flag: "--seed", reason: "'\(seed)' is not a non-negative integer") }
            c.seed = s
        }
        try c.validate()
        return c
    }

    static func integer(_ text: String, _ flag: String) throws(BenchmarkConfigurationError) -> Int {
        guard let value = Int(text) else { throw BenchmarkConfigurationError(flag: flag, reason: "'\(text)' is not an integer") }
        return value
    }

    static func number(_ text: String, _ flag: String) throws(BenchmarkConfigurationError) -> Double {
        guard let value = Double(text), value.isFinite else { throw BenchmarkConfigurationError(flag: flag, reason: "'\(text)' is not a number") }
        return value
    }

    /// Parses `250ms`, `10s`, `1.5m`, `1h` or a bare number of seconds.
    public static func duration(_ text: String, _ flag: String) throws(BenchmarkConfigurationError) -> Duration {
        let units: [(String, Double)] = [("ms", 0.001), ("s", 1), ("m", 60), ("h", 3600)]
        var number = Substring(text)
        var scale = 1.0
        for (suffix, factor) in units where text.hasSuffix(suffix) {
            number = text.dropLast(suffix.count)
            scale = factor
            break
        }
        guard !number.isEmpty, number.allSatisfy({ $0.isNumber || $0 == "." }), let value = Double(number), value.isFinite,
              value * scale <= 1e9 else {
            throw BenchmarkConfigurationError(flag: flag, reason: "'\(text)' is not a duration like 500ms, 10s, 2m or 1h")
        }
        return .nanoseconds(Int64((value * scale * 1e9).rounded()))
    }
}
