import Foundation

/// One writer's acknowledgements since the last drain, for the `watch` workload: the Raft index
/// of each successful write, the instant its reply reached the writer, and whether it was
/// measured (sent after the warmup). Drained once a second, like ``LatencyRecorder``.
final class AckRecorder: @unchecked Sendable {
    private let lock = NSLock()
    private var acks: [(index: UInt64, instant: ContinuousClock.Instant, measured: Bool)] = []
    private var _highestIndex: UInt64 = 0

    func record(index: UInt64, at instant: ContinuousClock.Instant, measured: Bool) {
        lock.lock()
        acks.append((index, instant, measured))
        if index > _highestIndex { _highestIndex = index }
        lock.unlock()
    }

    /// Takes the acknowledgements recorded since the last drain.
    func drain() -> [(index: UInt64, instant: ContinuousClock.Instant, measured: Bool)] {
        lock.lock()
        defer { lock.unlock() }
        let taken = acks
        acks = []
        acks.reserveCapacity(taken.count)
        return taken
    }

    /// The highest index acknowledged so far (0: none).
    var highestIndex: UInt64 { lock.withLock { _highestIndex } }
}
