import Foundation

/// Draws key indices in `0..<keySpace` from a ``KeyDistribution``. Immutable and shared by every
/// requester; each brings its own generator.
public struct KeySampler: Sendable {
    /// The Zipf exponent.
    public static let zipfExponent = 0.99

    public let keySpace: Int
    public let distribution: KeyDistribution
    /// For zipf: `cdf[k]` is the probability of drawing a key ≤ k; the last entry is 1.
    private let cdf: [Double]

    public init(keySpace: Int, distribution: KeyDistribution) {
        precondition(keySpace >= 1, "the key space holds at least one key")
        self.keySpace = keySpace
        self.distribution = distribution
        if distribution == .zipf {
            var sums = [Double]()
            sums.reserveCapacity(keySpace)
            var total = 0.0
            for k in 0..<keySpace {
                total += 1.0 / pow(Double(k + 1), Self.zipfExponent)
                sums.append(total)
            }
            cdf = sums.map { $0 / total }
        } else {
            cdf = []
        }
    }

    /// The next key index.
    public func next(using generator: inout SeededGenerator) -> Int {
        switch distribution {
        case .uniform:
            return Int(generator.next() % UInt64(keySpace))
        case .zipf:
            // The first index whose cumulative probability exceeds the draw.
            let u = generator.unit()
            var low = 0, high = keySpace - 1
            while low < high {
                let mid = (low + high) / 2
                if cdf[mid] > u { high = mid } else { low = mid + 1 }
            }
            return low
        }
    }
}
