import CairnBench
import CairnWire
import Foundation
import Testing

@Suite struct BenchmarkRunnerTests {
    func configuration(_ workload: BenchmarkWorkload = .put, clients: Int = 4, requests: Int? = nil,
                       duration: Duration? = nil, rate: Double? = nil) -> BenchmarkConfiguration {
        var c = BenchmarkConfiguration()
        c.workload = workload
        c.clients = clients
        c.requests = requests
        c.duration = duration
        c.warmup = .zero
        c.rate = rate
        c.keySpace = 100
        return c
    }

    @Test(arguments: [1, 7, 100, 1001])
    func aRequestsBoundSendsExactlyThatManyMeasuredRequests(requests: Int) async throws {
        let executor = FakeExecutor()
        let result = try await BenchmarkRunner(configuration: configuration(clients: 16, requests: requests), executors: [executor]).run()
        #expect(result.summary.operations == requests)
        #expect(result.summary.succeeded == requests)
        #expect(result.histogram.totalCount == UInt64(requests))
        #expect(executor.callCount == requests)
    }

    @Test func requestsAreSpreadOverEveryConnection() async throws {
        let executors = [FakeExecutor(), FakeExecutor(), FakeExecutor()]
        let result = try await BenchmarkRunner(configuration: configuration(clients: 6, requests: 600), executors: executors).run()
        #expect(result.summary.connections == 3)
        #expect(executors.map(\.callCount) == [200, 200, 200])
    }

    @Test func aDurationBoundStopsTheRun() async throws {
        let executor = FakeExecutor { _ in try await Task.sleep(for: .milliseconds(1)) }
        let started = ContinuousClock.now
        let result = try await BenchmarkRunner(configuration: configuration(duration: .milliseconds(500)), executors: [executor]).run()
        let took = started.duration(to: .now)
        // Only "it stops rather than hangs": CI runs this next to CPU-heavy tests and whole
        // clusters on two cores, where a task may wait seconds for a thread.
        #expect(took < .seconds(60))
        // Every call the executor saw was counted (how many fit in 500 ms depends on the machine's load).
        #expect(result.summary.operations == executor.callCount)
        #expect(result.summary.elapsedSeconds >= 0.5 && result.summary.elapsedSeconds < 60)
    }

    @Test func failuresAreCountedByKindAndNeverRetried() async throws {
        let kinds: [BenchmarkErrorKind] = [.timeout, .leaderUnavailable, .outcomeUnknown, .unreachable, .server]
        // Call n fails with kinds[n % 10] for n % 10 < 5, a foreign error at 5, succeeds otherwise.
        let executor = FakeExecutor { n in
            let slot = n % 10
            if slot < kinds.count { throw BenchmarkRequestError(kinds[slot], "scripted") }
            if slot == 5 { throw CocoaError(.fileNoSuchFile) }
        }
        let result = try await BenchmarkRunner(configuration: configuration(clients: 1, requests: 1000), executors: [executor]).run()
        let s = result.summary
        #expect(executor.callCount == 1000, "one call per request: nothing retried")
        #expect(s.operations == 1000)
        for kind in kinds { #expect(s.errors[kind] == 100, "\(kind)") }
        #expect(s.errors.other == 100)
        #expect(s.errors.total == 600)
        #expect(s.succeeded == 400)
        #expect(result.histogram.totalCount == 400, "failed requests are counted, not timed")
    }

    @Test func aLostCheckAndSetRaceIsAnOutcomeNotAnError() async throws {
        // Every other CAS write finds that someone else wrote the key in between.
        final class Racing: BenchmarkExecutor, @unchecked Sendable {
            let inner = FakeExecutor()
            let lock = NSLock()
            var n = 0
            func put(key: String, value: [UInt8]) async throws -> UInt64 { try await inner.put(key: key, value: value) }
            func get(key: String, consistency: ReadConsistency) async throws -> UInt64? { try await inner.get(key: key, consistency: consistency) }
            func cas(key: String, value: [UInt8], expectedIndex: UInt64) async throws -> Bool {
                let interfere = lock.withLock { n += 1; return n % 2 == 0 }
                if interfere { try await inner.put(key: key, value: value) }
                return try await inner.cas(key: key, value: value, expectedIndex: expectedIndex)
            }
            func deleteTree(prefix: String) async throws { try await inner.deleteTree(prefix: prefix) }
        }
        let result = try await BenchmarkRunner(configuration: configuration(.cas, clients: 1, requests: 100), executors: [Racing()]).run()
        #expect(result.summary.casFailed == 50)
        #expect(result.summary.succeeded == 50)
        #expect(result.summary.errors.total == 0)
    }

    @Test func readWorkloadsFindThePreloadedKeys() async throws {
        let executor = FakeExecutor()
        let result = try await BenchmarkRunner(configuration: configuration(.get, requests: 500), executors: [executor]).run()
        #expect(result.summary.preload?.keys == 100)
        #expect(result.summary.preload?.errors == 0)
        #expect(result.summary.succeeded == 500)
        #expect(result.summary.notFound == 0)
        #expect(executor.callCount == 600)
    }

    /// One request stalls for 600 ms in a run scheduled at 1000 requests/s on one requester.
    /// (The stall is long, and the thresholds below far from it, so that a loaded CI machine's
    /// scheduling hiccups cannot pass for it.)
    func stalledRun(rate: Double?) async throws -> BenchmarkResult {
        let executor = FakeExecutor { n in
            if n == 20 { try await Task.sleep(for: .milliseconds(600)) }
        }
        return try await BenchmarkRunner(configuration: configuration(clients: 1, requests: 400, rate: rate), executors: [executor]).run()
    }

    @Test func openLoopChargesAStallToEveryRequestScheduledDuringIt() async throws {
        let result = try await stalledRun(rate: 1000)
        // About 600 requests were due during the stall; each waited for it, from 600 ms down to 0.
        let slow = result.histogram.count(within: 300_000...100_000_000)
        #expect(slow >= 100, "requests with latency ≥ 300 ms: \(slow)")
        #expect(result.summary.latencyMs.max >= 590)
    }

    @Test func closedLoopShowsAStallInOneSampleOnly() async throws {
        let result = try await stalledRun(rate: nil)
        let slow = result.histogram.count(within: 500_000...100_000_000)
        #expect(slow == 1, "requests with latency ≥ 500 ms: \(slow)")
    }

    @Test func openLoopKeepsToItsRate() async throws {
        let started = ContinuousClock.now
        let result = try await BenchmarkRunner(configuration: configuration(clients: 2, requests: 100, rate: 200), executors: [FakeExecutor()]).run()
        let took = started.duration(to: .now)
        #expect(result.summary.operations == 100)
        #expect(took >= .milliseconds(450), "100 requests at 200/s take about 0.5 s: \(took)")
    }
}
