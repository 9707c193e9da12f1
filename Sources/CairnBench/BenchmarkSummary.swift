import Foundation
import Histogram

/// A run's results: what `cairn bench` prints, as text or as one JSON object.
///
/// `operations` counts every measured request that finished: `succeeded + notFound + casFailed +
/// errors.total`. `throughput` is answered requests (all but errors) per second of the measured
/// phase. Latencies are of answered requests, in milliseconds, from an HDR histogram at microsecond
/// resolution; failed requests are counted by kind, not timed.
public struct BenchmarkSummary: Sendable, Hashable, Codable {
    public struct Latency: Sendable, Hashable, Codable {
        public var p50: Double
        public var p90: Double
        public var p99: Double
        public var p999: Double
        public var max: Double
        public var mean: Double
    }

    /// Failed requests by kind; every kind is always present.
    public struct Errors: Sendable, Hashable, Codable {
        public var total: Int
        public var timeout: Int
        public var leaderUnavailable: Int
        public var unreachable: Int
        public var outcomeUnknown: Int
        public var server: Int
        public var other: Int

        public subscript(kind: BenchmarkErrorKind) -> Int {
            switch kind {
            case .timeout: timeout
            case .leaderUnavailable: leaderUnavailable
            case .unreachable: unreachable
            case .outcomeUnknown: outcomeUnknown
            case .server: server
            case .other: other
            }
        }
    }

    /// The keys written before the run (read workloads only).
    public struct Preload: Sendable, Hashable, Codable {
        public var keys: Int
        public var errors: Int
    }

    public var workload: BenchmarkWorkload
    /// `closed` or `open`.
    public var loop: String
    /// Requests per second scheduled in all (open loop only).
    public var rate: Double?
    public var clients: Int
    public var connections: Int
    public var keyDistribution: KeyDistribution
    public var keySpace: Int
    public var valueSize: Int
    public var warmupSeconds: Double
    /// The measured phase's length.
    public var elapsedSeconds: Double
    public var operations: Int
    public var succeeded: Int
    public var notFound: Int
    /// Check-and-set writes that lost their race: a normal outcome.
    public var casFailed: Int
    public var throughput: Double
    public var latencyMs: Latency
    public var errors: Errors
    public var preload: Preload?

    init(configuration c: BenchmarkConfiguration, connections: Int, elapsedSeconds: Double, histogram h: Histogram<UInt64>,
         counts: OutcomeCounts, preload: Preload?) {
        workload = c.workload
        loop = c.rate == nil ? "closed" : "open"
        rate = c.rate
        clients = c.clients
        self.connections = connections
        keyDistribution = c.keyDistribution
        keySpace = c.keySpace
        valueSize = c.valueSize
        warmupSeconds = BenchmarkRunner.seconds(c.warmup)
        self.elapsedSeconds = elapsedSeconds
        operations = counts.total
        succeeded = counts.succeeded
        notFound = counts.notFound
        casFailed = counts.casFailed
        let answered = counts.total - counts.failed
        throughput = elapsedSeconds > 0 ? Double(answered) / elapsedSeconds : 0
        let empty = h.totalCount == 0
        func ms(_ p: Double) -> Double { empty ? 0 : Double(h.valueAtPercentile(p)) / 1000 }
        latencyMs = Latency(p50: ms(50), p90: ms(90), p99: ms(99), p999: ms(99.9), max: empty ? 0 : Double(h.max) / 1000,
                            mean: empty ? 0 : h.mean / 1000)
        let e = counts.errors
        errors = Errors(total: counts.failed, timeout: e[.timeout] ?? 0, leaderUnavailable: e[.leaderUnavailable] ?? 0,
                        unreachable: e[.unreachable] ?? 0, outcomeUnknown: e[.outcomeUnknown] ?? 0, server: e[.server] ?? 0,
                        other: e[.other] ?? 0)
        self.preload = preload
    }

    /// One JSON object, keys sorted, on one line.
    public func json() -> String {
        let encoder = JSONEncoder()
        encoder.outputFormatting = [.sortedKeys, .withoutEscapingSlashes]
        // Encoding plain numbers, strings and nested structs cannot fail.
        return String(decoding: (try? encoder.encode(self)) ?? Data("{}".utf8), as: UTF8.self)
    }

    /// The human-readable summary, several aligned lines.
    public func text() -> String {
        func f(_ x: Double, _ digits: Int = 3) -> String { String(format: "%.\(digits)f", x) }
        let loopText = rate.map { "open loop at \(f($0, 1)) req/s" } ?? "closed loop"
        var lines = [
            "workload     \(workload.rawValue) (\(loopText), \(clients) clients, \(connections) connection\(connections == 1 ? "" : "s"), "
                + "\(keySpace) keys \(keyDistribution.rawValue), \(valueSize)-byte values)",
            "measured     \(f(elapsedSeconds, 2)) s after \(f(warmupSeconds, 2)) s warmup",
            "operations   \(operations) (succeeded \(succeeded), not found \(notFound), cas failed \(casFailed), errors \(errors.total))",
            "throughput   \(f(throughput, 1)) ops/s",
            "latency ms   p50 \(f(latencyMs.p50))  p90 \(f(latencyMs.p90))  p99 \(f(latencyMs.p99))  p99.9 \(f(latencyMs.p999))  max \(f(latencyMs.max))",
            "errors       " + BenchmarkErrorKind.allCases.map { "\($0.rawValue) \(errors[$0])" }.joined(separator: ", "),
        ]
        if let preload { lines.append("preload      \(preload.keys) keys written, \(preload.errors) errors") }
        return lines.joined(separator: "\n")
    }
}

/// A finished run: its summary and the full latency distribution.
public struct BenchmarkResult: Sendable {
    public var summary: BenchmarkSummary
    /// Latencies of answered measured requests, in microseconds.
    public var histogram: Histogram<UInt64>

    /// The full distribution as HdrHistogram's percentile table, values in milliseconds.
    public func percentileDistribution() -> String {
        var text = ""
        histogram.outputPercentileDistribution(to: &text, outputValueUnitScalingRatio: 1000)
        return text
    }
}
