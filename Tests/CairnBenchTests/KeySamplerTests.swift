import CairnBench
import Testing

@Suite struct KeySamplerTests {
    @Test func uniformDrawsCoverTheWholeKeySpace() {
        let sampler = KeySampler(keySpace: 100, distribution: .uniform)
        var generator = SeededGenerator(seed: 7)
        var counts = [Int](repeating: 0, count: 100)
        for _ in 0..<20_000 { counts[sampler.next(using: &generator)] += 1 }
        #expect(counts.allSatisfy { $0 > 100 }, "every key drawn, none starved: min \(counts.min()!)")
        #expect(counts.max()! < 320, "no key much hotter than the mean of 200: max \(counts.max()!)")
    }

    @Test func zipfMakesKeyZeroMuchHotterThanTheMedianKey() {
        let sampler = KeySampler(keySpace: 1000, distribution: .zipf)
        var generator = SeededGenerator(seed: 7)
        var counts = [Int](repeating: 0, count: 1000)
        for _ in 0..<100_000 {
            let k = sampler.next(using: &generator)
            #expect((0..<1000).contains(k))
            counts[k] += 1
        }
        // Weights 1/(k+1)^0.99: key 0 about 490 times key 499.
        #expect(counts[0] > 50 * max(1, counts[499]), "key 0: \(counts[0]), key 499: \(counts[499])")
        #expect(counts[0] > counts[1] && counts[1] > counts[9])
        #expect(counts[0] > 10_000 && counts[0] < 16_000, "key 0 takes about 13% of draws: \(counts[0])")
    }

    @Test func theSameSeedReplaysTheSameKeys() {
        let sampler = KeySampler(keySpace: 500, distribution: .zipf)
        var a = SeededGenerator(seed: 42), b = SeededGenerator(seed: 42)
        let first = (0..<100).map { _ in sampler.next(using: &a) }
        let second = (0..<100).map { _ in sampler.next(using: &b) }
        #expect(first == second)
    }
}
