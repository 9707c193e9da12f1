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
///
/// The `watch` workload adds watchers and its own phases before and after; see `runWatch` in
/// `BenchmarkRunner+Watch.swift`.
public struct BenchmarkRunner: Sendable {
    /// What to run.
    public let configuration: BenchmarkConfiguration
    /// What the requesters send through; requester `i` uses `executors[i % executors.count]`.
    public let executors: [any BenchmarkExecutor]
    /// Where the `watch` workload's watchers come from; watcher `j` uses
    /// `watchSources[j % watchSources.count]`. Unused by the other workloads.
    public let watchSources: [any BenchmarkWatchSource]

    /// Creates a runner; `configuration` is validated when the run starts.
    /// - Precondition: `executors` is not empty.
    public init(configuration: BenchmarkConfiguration, executors: [any BenchmarkExecutor], watchSources: [any BenchmarkWatchSource] = []) {
        precondition(!executors.isEmpty, "a benchmark needs at least one executor")
        self.configuration = configuration
        self.executors = executors
        self.watchSources = watchSources
    }

    /// The key for index `i`.
    public static func key(_ i: Int) -> String { "\(BenchmarkConfiguration.keyPrefix)\(i)" }

    /// Runs the benchmark. `progress`, when given, is called about once a second from another task.
    public func run(progress: (@Sendable (BenchmarkProgress) -> Void)? = nil) async throws -> BenchmarkResult {
        try configuration.validate()
        if configuration.workload == .watch { return try await runWatch(progress: progress) }
        let config = configuration
        let load = Load(config)
        let preload = config.workload.needsPreload ? try await self.preload(keys: load.keys, value: load.value) : nil
        let phase = await measure(load, watch: nil, ledger: nil, progress: progress)
        var collector = phase.collector
        collector.drain(phase.recorders, watch: nil)
        let summary = BenchmarkSummary(configuration: config, connections: executors.count, elapsedSeconds: phase.measuredSeconds,
                                       histogram: collector.histogram, counts: collector.counts, preload: preload, watch: nil)
        return BenchmarkResult(summary: summary, histogram: collector.histogram)
    }

    /// What the requesters send: the keys, the one value, and how keys are drawn.
    struct Load: Sendable {
        let keys: [String]
        let value: [UInt8]
        let sampler: KeySampler

        init(_ config: BenchmarkConfiguration) {
            keys = (0..<config.keySpace).map(BenchmarkRunner.key)
            var valueGenerator = SeededGenerator(seed: config.seed ^ 0x5EED)
            value = (0..<config.valueSize).map { _ in UInt8(truncatingIfNeeded: valueGenerator.next()) }
            sampler = KeySampler(keySpace: config.keySpace, distribution: config.keyDistribution)
        }
    }

    /// The warmup and measured phase, as the requesters left them.
    struct MeasuredPhase: Sendable {
        /// What the collector merged while the phase ran.
        var collector: ResultCollector
        /// The requesters' recorders, with what was recorded after the last merge.
        var recorders: [LatencyRecorder]
        /// From the end of the warmup until the last requester finished (0 if it never ended).
        var measuredSeconds: Double
    }

    /// Runs the requesters through the warmup and the measured phase, merging their results once
    /// a second (and, for the `watch` workload, the watchers' and writers' records into `ledger`).
    func measure(_ load: Load, watch: WatchTracking?, ledger: WatchDelayLedger?,
                 progress: (@Sendable (BenchmarkProgress) -> Void)?) async -> MeasuredPhase {
        let config = configuration
        let clock = ContinuousClock()
        let start = clock.now
        let warmupEnd = start + config.warmup
        let end = warmupEnd + (config.duration ?? BenchmarkConfiguration.requestsTimeLimit)
        let recorders = (0..<config.clients).map { _ in LatencyRecorder() }
        let (finish, collector) = await withTaskGroup(of: Void.self) { group -> (ContinuousClock.Instant, ResultCollector) in
            for i in 0..<config.clients {
                let quota = config.requests.map { $0 / config.clients + (i < $0 % config.clients ? 1 : 0) }
                let executor = executors[i % executors.count]
                let recorder = recorders[i]
                let acks = watch?.acks[i]
                group.addTask(executorPreference: executor.taskExecutor) {
                    await Self.requester(index: i, config: config, executor: executor, recorder: recorder, acks: acks, load: load,
                                         start: start, warmupEnd: warmupEnd, end: end, quota: quota)
                }
            }
            // The collector: drains the requesters once a second and reports progress.
            let reporter = Task { [recorders] in
                var merged = ResultCollector()
                merged.ledger = ledger
                var lastTotal = 0
                var last = clock.now
                while !Task.isCancelled {
                    do { try await Task.sleep(for: .seconds(1)) } catch { break }
                    merged.drain(recorders, watch: watch)
                    let now = clock.now
                    let total = merged.counts.total + merged.warmupRequests
                    let seconds = Self.seconds(last.duration(to: now))
                    let shown = merged.ledger?.histogram ?? merged.histogram
                    progress?(BenchmarkProgress(
                        elapsed: start.duration(to: now), warmingUp: now < warmupEnd,
                        requestsPerSecond: seconds > 0 ? Double(total - lastTotal) / seconds : 0,
                        operations: merged.counts.total,
                        p50Milliseconds: Double(shown.valueAtPercentile(50)) / 1000,
                        p99Milliseconds: Double(shown.valueAtPercentile(99)) / 1000,
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
        let measured = warmupEnd < finish ? Self.seconds(warmupEnd.duration(to: finish)) : 0
        return MeasuredPhase(collector: collector, recorders: recorders, measuredSeconds: measured)
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

    /// One requester's loop. For the `watch` workload `acks` receives the index and reply
    /// instant of every successful write.
    static func requester(index: Int, config: BenchmarkConfiguration, executor: any BenchmarkExecutor, recorder: LatencyRecorder,
                          acks: AckRecorder?, load: Load,
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
            let (outcome, writeIndex) = await perform(config: config, executor: executor, key: load.keys[load.sampler.next(using: &generator)],
                                                      value: load.value, generator: &generator)
            let answered = clock.now
            if let acks, let writeIndex { acks.record(index: writeIndex, at: answered, measured: isMeasured) }
            if isMeasured {
                recorder.record(microseconds: microseconds(intended.duration(to: answered)), outcome: outcome)
            } else {
                recorder.recordWarmup()
            }
        }
    }

    /// Sends one request; returns its outcome and, for a successful `watch` write, its Raft index.
    static func perform(config: BenchmarkConfiguration, executor: any BenchmarkExecutor, key: String, value: [UInt8],
                        generator: inout SeededGenerator) async -> (RequestOutcome, UInt64?) {
        do {
            switch config.workload {
            case .put:
                try await executor.put(key: key, value: value)
                return (.succeeded, nil)
            case .watch:
                return (.succeeded, try await executor.put(key: key, value: value))
            case .get, .staleGet:
                let found = try await executor.get(key: key, consistency: config.workload == .get ? .linearizable : .stale)
                return (found == nil ? .notFound : .succeeded, nil)
            case .cas:
                let index = try await executor.get(key: key, consistency: .linearizable) ?? 0
                return (try await executor.cas(key: key, value: value, expectedIndex: index) ? .succeeded : .casFailed, nil)
            case .mixed:
                if generator.unit() < config.readRatio {
                    return (try await executor.get(key: key, consistency: .linearizable) == nil ? .notFound : .succeeded, nil)
                }
                try await executor.put(key: key, value: value)
                return (.succeeded, nil)
            }
        } catch let error as BenchmarkRequestError {
            return (.failed(error.kind), nil)
        } catch {
            return (.failed(.other), nil)
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
