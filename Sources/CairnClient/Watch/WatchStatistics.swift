import Synchronization

/// Counters of what a ``CairnWatch``'s iterations did, for monitoring and tests. Safe to read
/// from any task while the watch runs.
///
/// The counters are atomics stored in the object itself: every delivered event bumps one, so it
/// must not cost a lock (and, with thousands of watches, a second cold object) per event.
public final class WatchStatistics: Sendable {
    private let delivered = Atomic<Int>(0)
    private let dropped = Atomic<Int>(0)
    private let resumed = Atomic<Int>(0)

    init() {}

    /// Events handed to the consumer.
    public var deliveredEvents: Int { delivered.load(ordering: .relaxed) }
    /// Events discarded because their index was not above the last delivered one (see
    /// ``WatchResumer``); non-zero only if a server misbehaved.
    public var droppedEvents: Int { dropped.load(ordering: .relaxed) }
    /// Server streams reopened after one broke (or could not be opened).
    public var resumes: Int { resumed.load(ordering: .relaxed) }

    func record(delivered: Int = 0, dropped: Int = 0, resumes: Int = 0) {
        if delivered != 0 { self.delivered.add(delivered, ordering: .relaxed) }
        if dropped != 0 { self.dropped.add(dropped, ordering: .relaxed) }
        if resumes != 0 { self.resumed.add(resumes, ordering: .relaxed) }
    }
}
