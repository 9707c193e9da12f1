import Foundation
import Histogram

/// What one measured request ended as.
enum RequestOutcome: Sendable {
    case succeeded
    /// A read found no key (after preload this means the preload missed it).
    case notFound
    /// A check-and-set lost its race: a normal outcome, counted.
    case casFailed
    case failed(BenchmarkErrorKind)
}

/// Counts of outcomes, by kind.
struct OutcomeCounts: Sendable {
    var succeeded = 0
    var notFound = 0
    var casFailed = 0
    var errors: [BenchmarkErrorKind: Int] = [:]

    var failed: Int { errors.values.reduce(0, +) }
    var total: Int { succeeded + notFound + casFailed + failed }

    mutating func add(_ other: OutcomeCounts) {
        succeeded += other.succeeded
        notFound += other.notFound
        casFailed += other.casFailed
        for (kind, n) in other.errors { errors[kind, default: 0] += n }
    }
}

/// One requester's unmerged results: latency samples (microseconds) and outcome counts since the
/// last drain. The requester appends; the runner's collector drains once a second into the one
/// histogram, so memory stays bounded by a second of samples. The lock is held for an append or
/// a swap only, and is uncontended except at the drain.
final class LatencyRecorder: @unchecked Sendable {
    private let lock = NSLock()
    private var samples: [UInt64] = []
    private var counts = OutcomeCounts()
    private var warmupRequests = 0

    func record(microseconds: UInt64, outcome: RequestOutcome) {
        lock.lock()
        defer { lock.unlock() }
        switch outcome {
        case .succeeded: counts.succeeded += 1
        case .notFound: counts.notFound += 1
        case .casFailed: counts.casFailed += 1
        case .failed(let kind): counts.errors[kind, default: 0] += 1
        }
        // Latency is recorded for every answered request; failures are counted, not timed.
        if case .failed = outcome { return }
        samples.append(microseconds)
    }

    func recordWarmup() {
        lock.lock()
        warmupRequests += 1
        lock.unlock()
    }

    /// Takes everything recorded since the last drain.
    func drain() -> (samples: [UInt64], counts: OutcomeCounts, warmupRequests: Int) {
        lock.lock()
        defer { lock.unlock() }
        let taken = (samples, counts, warmupRequests)
        samples = []
        samples.reserveCapacity(taken.0.count)
        counts = OutcomeCounts()
        warmupRequests = 0
        return taken
    }
}

/// The merged results: the run's one HDR histogram of request latencies (microseconds, 3
/// significant digits) and counts; for the `watch` workload also the ledger of delivery delays.
struct ResultCollector {
    /// Latencies above this (10 minutes) are recorded as this.
    static let highestTrackable: UInt64 = 600_000_000

    var histogram = Histogram<UInt64>(lowestDiscernibleValue: 1, highestTrackableValue: highestTrackable, numberOfSignificantValueDigits: .three)
    var counts = OutcomeCounts()
    var warmupRequests = 0
    /// The `watch` workload's delivery delays; nil for the other workloads.
    var ledger: WatchDelayLedger?

    /// Merges what the requesters (and, with `watch`, the writers' acknowledgements and the
    /// watchers' arrivals, in that order) recorded since the last drain.
    mutating func drain(_ recorders: [LatencyRecorder], watch: WatchTracking?) {
        for recorder in recorders {
            let (samples, counts, warmup) = recorder.drain()
            for sample in samples { histogram.record(Swift.min(sample, Self.highestTrackable)) }
            self.counts.add(counts)
            warmupRequests += warmup
        }
        if let watch { ledger?.merge(watch) }
    }
}
