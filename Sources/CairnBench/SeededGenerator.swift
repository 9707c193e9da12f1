import CairnRaft

/// The benchmark's seeded generator: Raft's SplitMix64 (`SeededRandom`), so that a run's key
/// sequence can be replayed from `--seed`.
public typealias SeededGenerator = SeededRandom

extension SeededRandom {
    /// A uniform draw from [0, 1).
    public mutating func unit() -> Double {
        Double(next() >> 11) * 0x1.0p-53
    }
}
