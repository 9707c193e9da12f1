import CairnSimulation
import CairnTestSupport
import Foundation
import Testing

/// Randomized deterministic simulation of whole clusters under loss, duplication, reordering,
/// delay, partitions, crashes that lose unsynced writes, snapshots, membership changes and
/// leadership transfers. Every seed must keep Raft's safety properties and, once healed,
/// converge with every acknowledged write applied exactly once, in the same order, everywhere.
///
/// `CAIRN_SIM_SEEDS=20000 swift test --filter RaftSimulationTests` runs more seeds;
/// `CAIRN_SIM_SEED=1234` replays one (see also `cairn-sim --seed 1234 --trace`).
@Suite("Randomized Raft simulation")
struct RaftSimulationTests {
    static let shards = 16
    /// At most two shards run at once (the machines have two cores) instead of 32 threads.
    static let cores = DispatchSemaphore(value: 2)

    @Test("three-node clusters keep every safety property and converge", arguments: 0..<shards)
    func threeNodeClusters(shard: Int) async {
        await sweep(nodes: 3, shard: shard, defaultCount: 1_400)
    }

    @Test("five-node clusters keep every safety property and converge", arguments: 0..<shards)
    func fiveNodeClusters(shard: Int) async {
        await sweep(nodes: 5, shard: shard, defaultCount: 800)
    }

    struct ShardResult: Sendable {
        var ran = 0
        var appliedBeforeDurable = 0
        var failures: [String] = []
        var silentSeeds: [UInt64] = []
    }

    func sweep(nodes: Int, shard: Int, defaultCount: Int) async {
        let seeds = SeedSweep.seedsFromEnvironment(defaultCount: defaultCount)
        let shards = Self.shards
        // The runs are long and CPU-bound: they run in the background, two shards at a time, so
        // that the other tests and their agents go first (see `inBackground`).
        let result: ShardResult = await inBackground(oneOf: Self.cores) {
            var result = ShardResult()
            for seed in seeds where Int(seed % UInt64(shards)) == shard {
                let report = SeedSweep.run(SimulationOptions(seed: seed, nodeCount: nodes))
                result.ran += 1
                result.appliedBeforeDurable += report.appliedBeforeDurable
                if !report.passed {
                    result.failures.append("seed \(seed), \(nodes) nodes:\n\(report.violations.joined(separator: "\n"))\nreplay: \(report.replayCommand)")
                }
                if report.acknowledged == 0 { result.silentSeeds.append(seed) }
            }
            return result
        }
        #expect(result.failures.isEmpty, "\(result.failures.joined(separator: "\n\n"))")
        #expect(result.silentSeeds.isEmpty || seeds.count == 1, "seeds that acknowledged no write at all: \(result.silentSeeds)")
        #expect(result.ran > 0 || seeds.count < shards)
        // The sweep covers nodes applying entries before their own write of them is durable.
        #expect(result.appliedBeforeDurable > 0 || result.ran < 20, "no seed applied an entry before it was durable on that node")
    }
}
