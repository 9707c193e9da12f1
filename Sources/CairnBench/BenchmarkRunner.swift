import CairnWire
import Histogram

/// Runs one benchmark: an optional preload, a warmup, then the measured phase, against one or more
/// executors (requester `i` uses `executors[i % executors.count]`).
///
/// - Closed loop (no `rate`): each of `clients` requesters sends its next request when the last
///   one answered; latency is from send to answer.
/// - Open loop (`rate`): requester `i` has its own fixed schedule, one request every
///   `clients / rate` seconds, offset by `i / rate`. It sends each request at its scheduled time,
///   or at once when it is behind, and latency is measured from the *scheduled* time, so a stall
///   shows in every request that should have been sent during it (no coordinated omission).
///
/// Every phase is bounded in time: the preload by ``BenchmarkConfiguration/preloadTimeLimit``, the
/// measured phase by `duration` or, with `requests` alone, by
/// ``BenchmarkConfiguration/requestsTimeLimit``; a single request by the executor's own timeout.
/// With `requests`, exactly that many measured requests are sent (split evenly over the
/// requesters) unless the time bound comes first. Failed requests are counted by kind and never
/// retried here. Cancelling the calling task stops the run early.
public struct BenchmarkRunner: Sendable {
    public let configuration: BenchmarkConfiguration
    public let executors: [any BenchmarkExecutor]

    /// - Precondition: `configuration` is valid and `executors` is not empty.
    public init(configuration: BenchmarkConfiguration, executors: [any BenchmarkExecutor]) {
        precondition(!executors.isEmpty, "a benchmark needs at least one executor")
        self.configuration = configuration
        self.executors = executors
    }

    /// The key for index `i`.
    public static func key(_ i: Int) -> String { "bench/\(i)" }

    /// Runs the benchmark. `progress`, when given, is called about once a second from another task.
    public func run(progress: (@Sendable (BenchmarkProgress) -> Void)? = nil) async throws -> BenchmarkResult {
        try configuration.validate()
        let config = configuration
        let keys = (0..<config.keySpace).map(Self.key)
        var valueGenerator = SeededGenerator(seed: config.seed ^ 0x5EED)
        let value = (0..<config.valueSize).map { _ in UInt8(truncatingIfNeeded: valueGenerator.next()) }
        let sampler = KeySampler(keySpace: config.keySpace, distribution: config.keyDistribution)

        let preload = config.workload.needsPreload ? try await self.preload(keys: keys, value: value) : nil

        let clock = ContinuousClock()
        let start = clock.now
        let warmupEnd = start + config.warmup
        let end = warmupEnd + (config.duration ?? BenchmarkConfiguration.requestsTimeLimit)
        let recorders = (0..<config.clients).map { _ in LatencyRecorder() }
        var (finish, collector) = await withTaskGroup(of: Void.self) { group -> (ContinuousClock.Instant, ResultCollector) in
            for i in 0..<config.clients {
                let quota = config.requests.map { $0 / config.clients + (i < $0 % config.clients ? 1 : 0) }
                let executor = executors[i % executors.count]
                let recorder = recorders[i]
                group.addTask {
                    await Self.requester(index: i, config: config, executor: executor, recorder: recorder, keys: keys, value: value,
                                         sampler: sampler, start: start, warmupEnd: warmupEnd, end: end, quota: quota)
                }
            }
            // The collector: drains the requesters once a second and reports progress.
            let reporter = Task { [recorders] in
                var merged = ResultCollector()
                var lastTotal = 0
                var last = clock.now
                while !Task.isCancelled {
                    do { try await Task.sleep(for: .seconds(1)) } catch { break }
                    merged.drain(recorders)
                    let now = clock.now
                    let total = merged.counts.total + merged.warmupRequests
                    let seconds = Self.seconds(last.duration(to: now))
                    progress?(BenchmarkProgress(
                        elapsed: start.duration(to: now), warmingUp: now < warmupEnd,
                        requestsPerSecond: seconds > 0 ? Double(total - lastTotal) / seconds : 0,
                        operations: merged.counts.total,
                        p50Milliseconds: Double(merged.histogram.valueAtPercentile(50)) / 1000,
                        p99Milliseconds: Double(merged.histogram.valueAtPercentile(99)) / 1000,
                        errors: merged.counts.failed))
                    lastTotal = total
                    last = now
                }
                return merged
            }
            await group.waitForAll()
            let finish = clock.now
            reporter.cancel()
            return (finish, await reporter.value)
        }
        collector.drain(recorders)

        let measured = warmupEnd < finish ? Self.seconds(warmupEnd.duration(to: finish)) : 0
        let summary = BenchmarkSummary(configuration: config, connections: executors.count, elapsedSeconds: measured,
                                       histogram: collector.histogram, counts: collector.counts, preload: preload)
        return BenchmarkResult(summary: summary, histogram: collector.histogram)
    }

    /// Writes every key once, `clients` at a time; bounded by ``BenchmarkConfiguration/preloadTimeLimit``.
    func preload(keys: [String], value: [UInt8]) async throws -> BenchmarkSummary.Preload {
        let config = configuration
        let deadline = ContinuousClock.now + BenchmarkConfiguration.preloadTimeLimit
        let errors = await withTaskGroup(of: (Int, Int).self) { group in
            for i in 0..<min(config.clients, keys.count) {
                let executor = executors[i % executors.count]
                group.addTask {
                    var written = 0, failed = 0
                    for k in stride(from: i, to: keys.count, by: config.clients) {
                        if Task.isCancelled || ContinuousClock.now >= deadline { break }
                        do {
                            try await executor.put(key: keys[k], value: value)
                            written += 1
                        } catch {
                            failed += 1
                        }
                    }
                    return (written, failed)
                }
            }
            var written = 0, failed = 0
            for await (w, f) in group {
                written += w
                failed += f
            }
            return (written, failed)
        }
        if errors.0 + errors.1 < keys.count {
            throw BenchmarkError(reason: "the preload wrote only \(errors.0) of \(keys.count) keys within \(BenchmarkConfiguration.preloadTimeLimit); use a smaller --key-space")
        }
        return BenchmarkSummary.Preload(keys: errors.0, errors: errors.1)
    }

    /// One requester's loop.
    static func requester(index: Int, config: BenchmarkConfiguration, executor: any BenchmarkExecutor, recorder: LatencyRecorder,
                          keys: [String], value: [UInt8], sampler: KeySampler,
                          start: ContinuousClock.Instant, warmupEnd: ContinuousClock.Instant, end: ContinuousClock.Instant,
                          quota: Int?) async {
        let clock = ContinuousClock()
        var generator = SeededGenerator(seed: config.seed &+ UInt64(index) &* 0x1_0000_0001)
        let interval: Duration? = config.rate.map { .seconds(Double(config.clients) / $0) }
        let offset: Duration = config.rate.map { .seconds(Double(index) / $0) } ?? .zero
        var scheduledCount = 0
        var measured = 0
        while !Task.isCancelled {
            if let quota, measured >= quota { break }
            let intended: ContinuousClock.Instant
            if let interval {
                intended = start + offset + interval * scheduledCount
                scheduledCount += 1
                guard intended < end else { break }
                if clock.now < intended {
                    do { try await Task.sleep(until: intended, clock: clock) } catch { break }
                }
            } else {
                intended = clock.now
                guard intended < end else { break }
            }
            let isMeasured = intended >= warmupEnd
            if isMeasured { measured += 1 }
            let outcome = await perform(config: config, executor: executor, key: keys[sampler.next(using: &generator)],
                                        value: value, generator: &generator)
            if isMeasured {
                let latency = intended.duration(to: clock.now)
                recorder.record(microseconds: microseconds(latency), outcome: outcome)
            } else {
                recorder.recordWarmup()
            }
        }
    }

    static func perform(config: BenchmarkConfiguration, executor: any BenchmarkExecutor, key: String, value: [UInt8],
                        generator: inout SeededGenerator) async -> RequestOutcome {
        do {
            switch config.workload {
            case .put:
                try await executor.put(key: key, value: value)
                return .succeeded
            case .get, .staleGet:
                let found = try await executor.get(key: key, consistency: config.workload == .get ? .linearizable : .stale)
                return found == nil ? .notFound : .succeeded
            case .cas:
                let index = try await executor.get(key: key, consistency: .linearizable) ?? 0
                return try await executor.cas(key: key, value: value, expectedIndex: index) ? .succeeded : .casFailed
            case .mixed:
                if generator.unit() < config.readRatio {
                    return try await executor.get(key: key, consistency: .linearizable) == nil ? .notFound : .succeeded
                }
                try await executor.put(key: key, value: value)
                return .succeeded
            }
        } catch let error as BenchmarkRequestError {
            return .failed(error.kind)
        } catch {
            return .failed(.other)
        }
    }

    static func microseconds(_ d: Duration) -> UInt64 {
        let c = d.components
        guard c.seconds >= 0 else { return 0 }
        return UInt64(c.seconds) * 1_000_000 + UInt64(max(0, c.attoseconds) / 1_000_000_000_000)
    }

    static func seconds(_ d: Duration) -> Double {
        let c = d.components
        return Double(c.seconds) + Double(c.attoseconds) / 1e18
    }
}
