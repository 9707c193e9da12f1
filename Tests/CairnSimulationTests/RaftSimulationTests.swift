import CairnSimulation
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

    @Test("three-node clusters keep every safety property and converge", arguments: 0..<shards)
    func threeNodeClusters(shard: Int) {
        sweep(nodes: 3, shard: shard, defaultCount: 1_400)
    }

    @Test("five-node clusters keep every safety property and converge", arguments: 0..<shards)
    func fiveNodeClusters(shard: Int) {
        sweep(nodes: 5, shard: shard, defaultCount: 800)
    }

    func sweep(nodes: Int, shard: Int, defaultCount: Int) {
        let seeds = SeedSweep.seedsFromEnvironment(defaultCount: defaultCount)
        var ran = 0
        for seed in seeds where Int(seed % UInt64(Self.shards)) == shard {
            let report = SeedSweep.run(SimulationOptions(seed: seed, nodeCount: nodes))
            ran += 1
            #expect(report.passed, "seed \(seed), \(nodes) nodes:\n\(report.violations.joined(separator: "\n"))\nreplay: \(report.replayCommand)")
            #expect(report.acknowledged > 0 || seeds.count == 1, "seed \(seed) acknowledged no write at all")
        }
        #expect(ran > 0 || seeds.count < Self.shards)
    }
}
