import Foundation
import Histogram

/// A run's results: what `cairn bench` prints, as text or as one JSON object.
///
/// `operations` counts every measured request that finished: `succeeded + notFound + casFailed +
/// errors.total`. `throughput` is answered requests (all but errors) per second of the measured
/// phase. Latencies are of answered requests, in milliseconds, from an HDR histogram at microsecond
/// resolution; failed requests are counted by kind, not timed.
///
/// For the `watch` workload the requests are the writes, and `latencyMs` is instead the delivery
/// delay — from a write's acknowledgement to a watcher receiving its event, one sample per
/// measured write and watcher — while ``Watch`` holds the writes' own latency and the event
/// counts.
public struct BenchmarkSummary: Sendable, Hashable, Codable {
    /// Percentiles of one latency distribution, in milliseconds; all 0 when it is empty.
    public struct Latency: Sendable, Hashable, Codable {
        /// The median.
        public var p50: Double
        /// The 90th percentile.
        public var p90: Double
        /// The 99th percentile.
        public var p99: Double
        /// The 99.9th percentile.
        public var p999: Double
        /// The largest sample.
        public var max: Double
        /// The mean.
        public var mean: Double

        /// The percentiles of `h` (microseconds) in milliseconds.
        init(_ h: Histogram<UInt64>) {
            let empty = h.totalCount == 0
            func ms(_ p: Double) -> Double { empty ? 0 : Double(h.valueAtPercentile(p)) / 1000 }
            p50 = ms(50)
            p90 = ms(90)
            p99 = ms(99)
            p999 = ms(99.9)
            max = empty ? 0 : Double(h.max) / 1000
            mean = empty ? 0 : h.mean / 1000
        }
    }

    /// Failed requests by kind; every kind is always present.
    public struct Errors: Sendable, Hashable, Codable {
        /// Every failed request.
        public var total: Int
        /// ``BenchmarkErrorKind/timeout``.
        public var timeout: Int
        /// ``BenchmarkErrorKind/leaderUnavailable``.
        public var leaderUnavailable: Int
        /// ``BenchmarkErrorKind/unreachable``.
        public var unreachable: Int
        /// ``BenchmarkErrorKind/outcomeUnknown``.
        public var outcomeUnknown: Int
        /// ``BenchmarkErrorKind/server``.
        public var server: Int
        /// ``BenchmarkErrorKind/other``.
        public var other: Int

        /// The count of one kind.
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
        /// Keys written.
        public var keys: Int
        /// Writes that failed.
        public var errors: Int
    }

    /// What the `watch` workload's watchers saw.
    ///
    /// `eventsExpected` is, summed over the watchers, the acknowledged writes (warmup included)
    /// after the watcher's snapshot. Of those a watcher did not receive, `missed` counts the ones
    /// it skipped — it received a later index — (non-zero is an error: a watch must deliver
    /// every change, in order) and `undelivered` the ones after the last index it received when
    /// the drain timeout ended the run (late, or lost at the tail; their delays are not in the
    /// histogram, so non-zero also means the percentiles understate). `eventsMatched` counts received
    /// events of acknowledged writes; `unacknowledgedEvents` counts received events of writes no
    /// writer saw acknowledged (a failed write that applied anyway, or another client writing
    /// under the prefix), which are neither timed nor an error.
    public struct Watch: Sendable, Hashable, Codable {
        /// Watches open during the run.
        public var watchers: Int
        /// How long it took until every watcher had received its snapshot.
        public var readySeconds: Double
        /// How long after the last write the run waited for the watchers to catch up.
        public var drainSeconds: Double
        /// Whether every watcher received the last acknowledged index within the drain timeout.
        public var caughtUp: Bool
        /// Change events received by all watchers (snapshots not included).
        public var eventsDelivered: Int
        /// Events the watchers should have received.
        public var eventsExpected: Int
        /// Received events of acknowledged writes.
        public var eventsMatched: Int
        /// Received events of measured writes: the samples behind `latencyMs`.
        public var delaySamples: Int
        /// Expected events a watcher skipped (a later one arrived); non-zero is an error.
        public var missed: Int
        /// Expected events that had not arrived when the drain timeout ended the run.
        public var undelivered: Int
        /// Received events of writes not acknowledged to any writer.
        public var unacknowledgedEvents: Int
        /// Watchers whose watch ended with an error.
        public var watcherErrors: Int
        /// Server streams reopened after one broke, over all watchers.
        public var resumes: Int
        /// Events the watches discarded as repeats (non-zero only if a server misbehaved).
        public var droppedEvents: Int
        /// Snapshots after a watcher's first (its history was compacted: changes were skipped).
        public var resnapshots: Int
        /// The writes' own latency (request to reply), in milliseconds.
        public var writeLatencyMs: Latency
    }

    /// What was sent.
    public var workload: BenchmarkWorkload
    /// `closed` or `open`.
    public var loop: String
    /// Requests per second scheduled in all (open loop only).
    public var rate: Double?
    /// Concurrent requesters.
    public var clients: Int
    /// Client connections the requesters were spread over.
    public var connections: Int
    /// How keys were drawn.
    public var keyDistribution: KeyDistribution
    /// Distinct keys.
    public var keySpace: Int
    /// Value size in bytes.
    public var valueSize: Int
    /// The warmup's length.
    public var warmupSeconds: Double
    /// The measured phase's length.
    public var elapsedSeconds: Double
    /// Measured requests that finished, failed ones included.
    public var operations: Int
    /// Measured requests that succeeded.
    public var succeeded: Int
    /// Reads that found no key.
    public var notFound: Int
    /// Check-and-set writes that lost their race: a normal outcome.
    public var casFailed: Int
    /// Answered requests per second of the measured phase.
    public var throughput: Double
    /// The latency of answered requests or, for `watch`, the delivery delay.
    public var latencyMs: Latency
    /// Failed requests by kind.
    public var errors: Errors
    /// The preload (read workloads only).
    public var preload: Preload?
    /// What the watchers saw (`watch` only).
    public var watch: Watch?

    init(configuration c: BenchmarkConfiguration, connections: Int, elapsedSeconds: Double, histogram h: Histogram<UInt64>,
         counts: OutcomeCounts, preload: Preload?, watch: Watch?) {
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
        latencyMs = Latency(h)
        let e = counts.errors
        errors = Errors(total: counts.failed, timeout: e[.timeout] ?? 0, leaderUnavailable: e[.leaderUnavailable] ?? 0,
                        unreachable: e[.unreachable] ?? 0, outcomeUnknown: e[.outcomeUnknown] ?? 0, server: e[.server] ?? 0,
                        other: e[.other] ?? 0)
        self.preload = preload
        self.watch = watch
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
        func percentiles(_ l: Latency) -> String {
            "p50 \(f(l.p50))  p90 \(f(l.p90))  p99 \(f(l.p99))  p99.9 \(f(l.p999))  max \(f(l.max))"
        }
        let watchers = watch.map { "\($0.watchers) watchers, " } ?? ""
        var lines = [
            "workload     \(workload.rawValue) (\(loopText), \(clients) clients, \(watchers)\(connections) connection\(connections == 1 ? "" : "s"), "
                + "\(keySpace) keys \(keyDistribution.rawValue), \(valueSize)-byte values)",
            "measured     \(f(elapsedSeconds, 2)) s after \(f(warmupSeconds, 2)) s warmup",
            "operations   \(operations) (succeeded \(succeeded), not found \(notFound), cas failed \(casFailed), errors \(errors.total))",
            "throughput   \(f(throughput, 1)) ops/s",
        ]
        if let watch {
            lines += [
                watch.delaySamples == 0
                    ? "delivery ms  no samples: no event of a measured write arrived"
                    : "delivery ms  \(percentiles(latencyMs))  (write acknowledged → event received, \(watch.delaySamples) samples)",
                "write ms     \(percentiles(watch.writeLatencyMs))",
                "events       delivered \(watch.eventsDelivered), expected \(watch.eventsExpected), matched \(watch.eventsMatched), "
                    + "missed \(watch.missed)\(watch.missed > 0 ? " (ERROR)" : ""), "
                    + "undelivered \(watch.undelivered)\(watch.undelivered > 0 ? " (not caught up)" : ""), unacknowledged \(watch.unacknowledgedEvents)",
                "watchers     ready in \(f(watch.readySeconds, 2)) s, \(watch.caughtUp ? "caught up" : "NOT caught up") "
                    + "\(f(watch.drainSeconds, 2)) s after the last write; errors \(watch.watcherErrors), resumes \(watch.resumes), "
                    + "dropped \(watch.droppedEvents), re-snapshots \(watch.resnapshots)",
            ]
        } else {
            lines.append("latency ms   \(percentiles(latencyMs))")
        }
        lines.append("errors       " + BenchmarkErrorKind.allCases.map { "\($0.rawValue) \(errors[$0])" }.joined(separator: ", "))
        if let preload { lines.append("preload      \(preload.keys) keys written, \(preload.errors) errors") }
        return lines.joined(separator: "\n")
    }
}

/// A finished run: its summary and the full latency distribution.
public struct BenchmarkResult: Sendable {
    /// The summary.
    public var summary: BenchmarkSummary
    /// Latencies of answered measured requests, in microseconds; for `watch`, the delivery delays.
    public var histogram: Histogram<UInt64>

    /// The full distribution as HdrHistogram's percentile table, values in milliseconds.
    public func percentileDistribution() -> String {
        var text = ""
        histogram.outputPercentileDistribution(to: &text, outputValueUnitScalingRatio: 1000)
        return text
    }
}
