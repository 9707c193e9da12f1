import CairnClient
import CairnWire

/// The `watch` workload: watchers on ``BenchmarkConfiguration/keyPrefix`` while the requesters
/// write.
///
/// 1. The prefix is cleared (one `deleteTree`), so that every watcher's first event — the
///    snapshot of the prefix — is small whatever earlier runs left there.
/// 2. `watchers` watches are opened, watcher `j` through `watchSources[j % count]`, and the run
///    waits until every one has received its snapshot, for at most
///    ``BenchmarkConfiguration/watchReadyTimeout``; a watcher that fails first, or the timeout,
///    ends the run with a ``BenchmarkError``. No write is sent before.
/// 3. The requesters write (warmup, then the measured phase, closed or open loop as for `put`).
///    Each successful write's Raft index and reply instant are recorded; each watcher records the
///    instant each event reaches it. A ``WatchDelayLedger`` joins the two once a second.
/// 4. After the last write the watchers get up to ``BenchmarkConfiguration/watchDrainTimeout``
///    to receive every acknowledged index; then they are cancelled. An acknowledged write a
///    watcher did not receive is *missed* when the watcher received a later index (it was
///    skipped), *undelivered* otherwise (still on its way when the wait ended).
extension BenchmarkRunner {
    func runWatch(progress: (@Sendable (BenchmarkProgress) -> Void)?) async throws -> BenchmarkResult {
        guard !watchSources.isEmpty else { throw BenchmarkError(reason: "the watch workload needs at least one watch source") }
        let config = configuration
        let prefix = BenchmarkConfiguration.keyPrefix
        do {
            try await executors[0].deleteTree(prefix: prefix)
        } catch {
            throw BenchmarkError(reason: "could not clear \(prefix) before the watchers start: \(error)")
        }

        let clock = ContinuousClock()
        let watchers = (0..<config.watchers).map { _ in WatchRecorder() }
        let readiness = WatchReadiness()
        let tracking = WatchTracking(watchers: watchers, acks: (0..<config.clients).map { _ in AckRecorder() })
        let sources = watchSources
        let outcome = await withTaskGroup(of: Void.self) { group -> Result<WatchPhases, BenchmarkError> in
            for j in 0..<config.watchers {
                let source = sources[j % sources.count]
                let recorder = watchers[j]
                group.addTask(executorPreference: source.watchTaskExecutor) {
                    let watch = source.watch(prefix: prefix)
                    if let cairnWatch = watch as? CairnWatch {
                        // The concrete type, so the loop over ten thousand watches' events is
                        // specialized code rather than generic code behind an existential.
                        await Self.watcher(index: j, watch: cairnWatch, recorder: recorder, readiness: readiness)
                    } else {
                        await Self.watcher(index: j, watch: watch, recorder: recorder, readiness: readiness)
                    }
                }
            }
            defer { group.cancelAll() }

            let readyStart = clock.now
            if let failure = await Self.waitUntilReady(readiness, watchers: config.watchers, timeout: config.watchReadyTimeout) {
                return .failure(failure)
            }
            let readySeconds = Self.seconds(readyStart.duration(to: clock.now))
            // Every watcher is ready, so every one has a start index.
            let ledger = WatchDelayLedger(startIndexes: watchers.map { $0.startIndex ?? 0 })
            let phase = await measure(Load(config), watch: tracking, ledger: ledger, progress: progress)

            let lastWrite = clock.now
            let highest = tracking.acks.map(\.highestIndex).max() ?? 0
            let caughtUp = await Self.waitUntilCaughtUp(watchers, highestIndex: highest, timeout: config.watchDrainTimeout)
            let drainSeconds = Self.seconds(lastWrite.duration(to: clock.now))
            group.cancelAll()
            await group.waitForAll()
            return .success(WatchPhases(phase: phase, readySeconds: readySeconds, drainSeconds: drainSeconds, caughtUp: caughtUp))
        }
        let phases = try outcome.get()

        var collector = phases.phase.collector
        collector.drain(phases.phase.recorders, watch: tracking)
        // Every watcher has ended, so the ledger holds everything they received.
        let ledger = collector.ledger ?? WatchDelayLedger(startIndexes: [])
        var watchErrors = 0
        for recorder in watchers { if case .failed = recorder.state { watchErrors += 1 } }
        let watch = BenchmarkSummary.Watch(
            watchers: config.watchers, readySeconds: phases.readySeconds, drainSeconds: phases.drainSeconds,
            caughtUp: phases.caughtUp,
            eventsDelivered: watchers.reduce(0) { $0 + $1.events }, eventsExpected: ledger.expectedEvents,
            eventsMatched: ledger.matchedEvents, delaySamples: Int(ledger.histogram.totalCount),
            missed: ledger.missedEvents, undelivered: ledger.undeliveredEvents, unacknowledgedEvents: ledger.unacknowledgedEvents,
            watcherErrors: watchErrors, resumes: watchers.reduce(0) { $0 + $1.resumes },
            droppedEvents: watchers.reduce(0) { $0 + $1.dropped }, resnapshots: watchers.reduce(0) { $0 + $1.resnapshots },
            writeLatencyMs: BenchmarkSummary.Latency(collector.histogram))
        let summary = BenchmarkSummary(configuration: config, connections: executors.count, elapsedSeconds: phases.phase.measuredSeconds,
                                       histogram: ledger.histogram, counts: collector.counts, preload: nil, watch: watch)
        return BenchmarkResult(summary: summary, histogram: ledger.histogram)
    }

    /// What the watch run's phases left.
    struct WatchPhases: Sendable {
        var phase: MeasuredPhase
        var readySeconds: Double
        var drainSeconds: Double
        var caughtUp: Bool
    }

    /// Polls (every 10 ms, until `timeout`) until every watcher has its snapshot; returns why
    /// not, or nil when all have.
    static func waitUntilReady(_ readiness: WatchReadiness, watchers: Int, timeout: Duration) async -> BenchmarkError? {
        let clock = ContinuousClock()
        let deadline = clock.now + timeout
        while true {
            let counts = readiness.counts
            if let failure = counts.firstFailure {
                return BenchmarkError(reason: "\(counts.failed) of \(watchers) watchers failed before their first event (\(failure))")
            }
            if counts.ready >= watchers { return nil }
            if clock.now >= deadline {
                return BenchmarkError(reason: "only \(counts.ready) of \(watchers) watchers received their initial snapshot within \(timeout); "
                                      + "use fewer --watchers or more --connections")
            }
            if Task.isCancelled { return BenchmarkError(reason: "cancelled while the watchers started") }
            try? await Task.sleep(for: .milliseconds(10))
        }
    }

    /// Polls (every 10 ms, until `timeout`) until every running watcher has received an index at
    /// or above `highestIndex`; returns whether all did.
    static func waitUntilCaughtUp(_ watchers: [WatchRecorder], highestIndex: UInt64, timeout: Duration) async -> Bool {
        let clock = ContinuousClock()
        let deadline = clock.now + timeout
        var next = 0
        while next < watchers.count {
            let watcher = watchers[next]
            if watcher.lastIndex >= highestIndex || watcher.state != .running {
                next += 1
                continue
            }
            if clock.now >= deadline || Task.isCancelled { return false }
            try? await Task.sleep(for: .milliseconds(10))
        }
        return true
    }

    /// One watcher: records its snapshot, then the arrival instant of every change event, until
    /// its watch ends or the task is cancelled.
    static func watcher<W: BenchmarkWatch>(index: Int, watch: W, recorder: WatchRecorder, readiness: WatchReadiness) async {
        let clock = ContinuousClock()
        var ready = false
        do {
            for try await event in watch {
                let now = clock.now
                guard case .keys(_, let snapshot) = event.payload else { continue }
                if snapshot {
                    if recorder.snapshot(at: event.index) {
                        ready = true
                        readiness.markReady()
                    }
                } else if ready {
                    recorder.arrived(index: event.index, at: now)
                }
            }
            recorder.finish(.ended, resumes: watch.resumes, dropped: watch.droppedEvents)
            if !ready && !Task.isCancelled { readiness.markFailed(watcher: index, reason: "the watch ended before its snapshot") }
        } catch {
            if Task.isCancelled {
                // Stopped by the runner, as the sequence may say by throwing.
                recorder.finish(.ended, resumes: watch.resumes, dropped: watch.droppedEvents)
                return
            }
            recorder.finish(.failed("\(error)"), resumes: watch.resumes, dropped: watch.droppedEvents)
            if !ready { readiness.markFailed(watcher: index, reason: "\(error)") }
        }
    }
}

/// The `watch` workload's recorders: one per watcher, one per writer.
struct WatchTracking: Sendable {
    let watchers: [WatchRecorder]
    let acks: [AckRecorder]
}

extension WatchDelayLedger {
    /// Takes what the writers and watchers recorded since the last merge — acknowledgements
    /// first, so that fewer arrivals wait — and drops acknowledgements no watcher needs.
    mutating func merge(_ tracking: WatchTracking) {
        for recorder in tracking.acks {
            for ack in recorder.drain() { acknowledged(index: ack.index, at: ack.instant, measured: ack.measured) }
        }
        for (w, recorder) in tracking.watchers.enumerated() {
            for arrival in recorder.drain() { arrived(watcher: w, index: arrival.index, at: arrival.instant) }
        }
        prune()
    }
}
