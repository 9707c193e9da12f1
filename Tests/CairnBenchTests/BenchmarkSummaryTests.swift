import CairnBench
import Foundation
import Testing

@Suite struct BenchmarkSummaryTests {
    @Test func theJSONSummaryIsOneObjectWithEveryField() async throws {
        var c = BenchmarkConfiguration()
        c.requests = 50
        c.duration = nil
        c.warmup = .zero
        c.clients = 2
        let executor = FakeExecutor { n in if n == 3 { throw BenchmarkRequestError(.timeout, "scripted") } }
        let result = try await BenchmarkRunner(configuration: c, executors: [executor]).run()
        let json = result.summary.json()
        #expect(!json.contains("\n"), "one line")
        let object = try #require(try JSONSerialization.jsonObject(with: Data(json.utf8)) as? [String: Any])
        for key in ["workload", "loop", "clients", "connections", "elapsedSeconds", "operations", "succeeded", "casFailed",
                    "notFound", "throughput", "latencyMs", "errors", "keyDistribution", "keySpace", "valueSize", "warmupSeconds"] {
            #expect(object[key] != nil, "missing \(key)")
        }
        #expect(object["workload"] as? String == "put")
        #expect(object["loop"] as? String == "closed")
        #expect(object["operations"] as? Int == 50)
        let latency = try #require(object["latencyMs"] as? [String: Double])
        #expect(Set(latency.keys) == ["p50", "p90", "p99", "p999", "max", "mean"])
        let errors = try #require(object["errors"] as? [String: Int])
        #expect(errors == ["total": 1, "timeout": 1, "leaderUnavailable": 0, "unreachable": 0, "outcomeUnknown": 0, "server": 0, "other": 0])
        // It decodes back to the same summary.
        #expect(try JSONDecoder().decode(BenchmarkSummary.self, from: Data(json.utf8)) == result.summary)
    }

    @Test func theTextSummaryNamesEveryErrorKindAndThePercentileTableIsFull() async throws {
        var c = BenchmarkConfiguration()
        c.requests = 20
        c.duration = nil  // exactly 20 requests, however slowly a loaded machine runs them
        c.warmup = .zero
        let result = try await BenchmarkRunner(configuration: c, executors: [FakeExecutor()]).run()
        let text = result.summary.text()
        for kind in BenchmarkErrorKind.allCases { #expect(text.contains("\(kind.rawValue) 0")) }
        #expect(text.contains("p99.9"))
        let table = result.percentileDistribution()
        #expect(table.contains("Percentile"))
        #expect(table.contains("Total count    =           20"))
    }
}
