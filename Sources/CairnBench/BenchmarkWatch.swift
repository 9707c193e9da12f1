import CairnWire

/// One watch as the `watch` workload consumes it: a sequence of ``WatchEvent``s with
/// ``CairnWatch``'s guarantees (strictly increasing indexes, nothing missed except across a
/// re-snapshot), plus the counters the summary reports.
///
/// The runner iterates it once. Cancelling the iterating task must end the iteration (return nil
/// or throw); a thrown error ends that watcher and is counted as a watcher error.
public protocol BenchmarkWatch: AsyncSequence, Sendable where Element == WatchEvent {
    /// How many times the watch's server stream was reopened after it broke. Read after the
    /// iteration ended.
    var resumes: Int { get }
    /// Events the watch discarded because their index was not above the last one delivered
    /// (non-zero only if a server misbehaved). Read after the iteration ended.
    var droppedEvents: Int { get }
}
