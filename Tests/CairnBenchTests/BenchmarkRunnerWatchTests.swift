import CairnBench
import CairnWire
import Foundation
import Testing

@Suite struct BenchmarkRunnerWatchTests {
    func configuration(watchers: Int = 8, clients: Int = 2, requests: Int? = 40, duration: Duration? = nil,
                       warmup: Duration = .zero) -> BenchmarkConfiguration {
        var c = BenchmarkConfiguration()
        c.workload = .watch
        c.watchers = watchers
        c.clients = clients
        c.requests = requests
        c.duration = duration
        c.warmup = warmup
        c.keySpace = 100
        // Generous: these only stop a broken run from hanging, and the whole suite shares two
        // cores with these tasks. The tests of the timeouts themselves set short ones.
        c.watchReadyTimeout = .seconds(120)
        c.watchDrainTimeout = .seconds(120)
        return c
    }

    func run(_ config: BenchmarkConfiguration, hub: FakeWatchHub, executor: FakeExecutor) async throws -> BenchmarkResult {
        try await BenchmarkRunner(configuration: config, executors: [executor], watchSources: [hub]).run()
    }

    @Test func everyWatcherTimesEveryMeasuredWrite() async throws {
        let hub = FakeWatchHub()
        let result = try await run(configuration(watchers: 8, requests: 40), hub: hub, executor: FakeExecutor(hubs: [hub]))
        let s = result.summary
        let watch = try #require(s.watch)
        #expect(s.workload == .watch)
        #expect(s.operations == 40)
        #expect(s.succeeded == 40)
        #expect(result.histogram.totalCount == 8 * 40, "one delivery sample per write and watcher")
        #expect(watch.watchers == 8)
        #expect(watch.eventsDelivered == 320)
        #expect(watch.eventsExpected == 320)
        #expect(watch.eventsMatched == 320)
        #expect(watch.delaySamples == 320)
        #expect(watch.missed == 0)
        #expect(watch.unacknowledgedEvents == 0)
        #expect(watch.watcherErrors == 0)
        #expect(watch.caughtUp)
        #expect(hub.openedWatches == 8)
    }

    @Test func watchersAreSpreadOverEveryWatchSource() async throws {
        let hubs = [FakeWatchHub(), FakeWatchHub(), FakeWatchHub()]
        let executor = FakeExecutor(hubs: hubs)
        let result = try await BenchmarkRunner(configuration: configuration(watchers: 10, requests: 5), executors: [executor],
                                               watchSources: hubs).run()
        #expect(hubs.map(\.openedWatches) == [4, 3, 3])
        #expect(result.summary.watch?.missed == 0)
        #expect(result.histogram.totalCount == 50)
    }

    @Test func theDelayRunsFromTheWritesAcknowledgementToTheEventsArrival() async throws {
        // Each event reaches the watchers 400 ms after the write; the writer's reply is immediate.
        let hub = FakeWatchHub(.init(lag: .milliseconds(400)))
        let result = try await run(configuration(watchers: 4, clients: 2, requests: 10), hub: hub, executor: FakeExecutor(hubs: [hub]))
        #expect(result.histogram.totalCount == 40)
        #expect(result.histogram.min >= 395_000, "at least the lag, less a little: \(result.histogram.min) µs")
        #expect(result.summary.latencyMs.p50 < 5_000, "scheduling adds some, not seconds: \(result.summary.latencyMs.p50) ms")
        #expect(result.summary.watch?.writeLatencyMs.p50 ?? 1_000 < 300, "the writes themselves are not slowed by the lag")
    }

    @Test func eventsThatArriveBeforeTheWriterSeesItsReplyAreStillSamplesNeverNegative() async throws {
        // The writer's reply comes 100 ms after the write was published to the watchers.
        let hub = FakeWatchHub()
        let executor = FakeExecutor(hubs: [hub], ackDelay: .milliseconds(100))
        let result = try await run(configuration(watchers: 6, clients: 4, requests: 8), hub: hub, executor: executor)
        let watch = try #require(result.summary.watch)
        #expect(result.histogram.totalCount == 48, "no sample lost to the race")
        #expect(watch.missed == 0)
        #expect(watch.unacknowledgedEvents == 0)
        #expect(result.histogram.count(within: 0...0) > 24, "most events beat the reply: a zero delay each")
    }

    @Test func warmupWritesAreDeliveredButNotTimed() async throws {
        let hub = FakeWatchHub()
        let executor = FakeExecutor(hubs: [hub]) { _ in try await Task.sleep(for: .milliseconds(2)) }
        // The warmup is a span of time from the start of the run: a long one, so that a machine busy
        // with the rest of the suite still starts the requester well inside it.
        let result = try await run(configuration(watchers: 3, clients: 1, requests: 20, warmup: .seconds(2)), hub: hub, executor: executor)
        let watch = try #require(result.summary.watch)
        let writes = executor.callCount
        #expect(writes > 20, "some writes during the warmup: \(writes)")
        #expect(result.summary.operations == 20)
        #expect(result.histogram.totalCount == 60, "only the 20 measured writes are timed, for each of 3 watchers")
        #expect(watch.eventsMatched == 3 * writes, "warmup writes are still delivered and checked")
        #expect(watch.missed == 0)
    }

    @Test func anEventAWatcherNeverReceivesIsCountedAsMissed() async throws {
        // Watch 3 does not get index 10 (a measured write: index 1 is the clearing of bench/).
        let hub = FakeWatchHub(.init(skips: { watch, index in watch == 3 && index == 10 }))
        let result = try await run(configuration(watchers: 5, requests: 20), hub: hub, executor: FakeExecutor(hubs: [hub]))
        let watch = try #require(result.summary.watch)
        #expect(watch.missed == 1)
        #expect(watch.undelivered == 0)
        #expect(watch.eventsExpected == 100)
        #expect(watch.eventsMatched == 99)
        #expect(watch.caughtUp, "the watcher still reached the last index")
        #expect(result.summary.text().contains("missed 1 (ERROR)"))
    }

    @Test func aWatcherThatFallsSilentIsWaitedForOnlyUntilTheDrainTimeout() async throws {
        let hub = FakeWatchHub(.init(skips: { watch, index in watch == 0 && index > 5 }))
        var config = configuration(watchers: 2, clients: 1, requests: 10)
        config.watchDrainTimeout = .milliseconds(300)
        let started = ContinuousClock.now
        let result = try await run(config, hub: hub, executor: FakeExecutor(hubs: [hub]))
        let watch = try #require(result.summary.watch)
        #expect(!watch.caughtUp)
        #expect(watch.drainSeconds >= 0.3)
        #expect(started.duration(to: .now) < .seconds(60), "it stops rather than hangs")
        #expect(watch.undelivered == 6, "indexes 6 … 11 never reached watcher 0")
        #expect(watch.missed == 0, "nothing was skipped: watcher 0 received no later index")
        #expect(result.summary.text().contains("undelivered 6 (not caught up)"))
    }

    @Test func aWatcherWithoutItsSnapshotFailsTheRunAfterTheReadyTimeoutWithoutWriting() async throws {
        let hub = FakeWatchHub(.init(silent: [2]))
        let executor = FakeExecutor(hubs: [hub])
        var config = configuration(watchers: 4)
        config.watchReadyTimeout = .milliseconds(200)
        let started = ContinuousClock.now
        let error = await #expect(throws: BenchmarkError.self) { try await run(config, hub: hub, executor: executor) }
        #expect(error?.reason.contains("only 3 of 4 watchers received their initial snapshot") == true, "\(error?.reason ?? "")")
        #expect(started.duration(to: .now) < .seconds(60), "it stops rather than hangs")
        #expect(executor.callCount == 0, "no write before every watcher is ready")
    }

    @Test func aWatcherThatFailsBeforeItsSnapshotFailsTheRunAtOnce() async throws {
        let hub = FakeWatchHub(.init(failing: [1]))
        let executor = FakeExecutor(hubs: [hub])
        let error = await #expect(throws: BenchmarkError.self) { try await run(configuration(watchers: 3), hub: hub, executor: executor) }
        #expect(error?.reason.contains("failed before their first event") == true, "\(error?.reason ?? "")")
        #expect(executor.callCount == 0)
    }

    @Test func theWatchWorkloadNeedsAWatchSource() async throws {
        await #expect(throws: BenchmarkError.self) {
            try await BenchmarkRunner(configuration: configuration(), executors: [FakeExecutor()]).run()
        }
    }

    @Test func theJSONSummaryCarriesTheWatchSection() async throws {
        let hub = FakeWatchHub()
        let result = try await run(configuration(watchers: 2, requests: 5), hub: hub, executor: FakeExecutor(hubs: [hub]))
        let object = try #require(try JSONSerialization.jsonObject(with: Data(result.summary.json().utf8)) as? [String: Any])
        let watch = try #require(object["watch"] as? [String: Any])
        for key in ["watchers", "readySeconds", "drainSeconds", "caughtUp", "eventsDelivered", "eventsExpected", "eventsMatched", "delaySamples", "missed", "undelivered",
                    "unacknowledgedEvents", "watcherErrors", "resumes", "droppedEvents", "resnapshots", "writeLatencyMs"] {
            #expect(watch[key] != nil, "missing \(key)")
        }
        #expect(object["workload"] as? String == "watch")
        #expect(try JSONDecoder().decode(BenchmarkSummary.self, from: Data(result.summary.json().utf8)) == result.summary)
        let text = result.summary.text()
        #expect(text.contains("delivery ms"))
        #expect(text.contains("missed 0,"))
    }
}
