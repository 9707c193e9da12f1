import NIOConcurrencyHelpers

/// Counters of what a ``CairnWatch``'s iterations did, for monitoring and tests. Safe to read
/// from any task while the watch runs.
public final class WatchStatistics: Sendable {
    private let counts = NIOLockedValueBox((delivered: 0, dropped: 0, resumes: 0))

    init() {}

    /// Events handed to the consumer.
    public var deliveredEvents: Int { counts.withLockedValue { $0.delivered } }
    /// Events discarded because their index was not above the last delivered one (see
    /// ``WatchResumer``); non-zero only if a server misbehaved.
    public var droppedEvents: Int { counts.withLockedValue { $0.dropped } }
    /// Server streams reopened after one broke (or could not be opened).
    public var resumes: Int { counts.withLockedValue { $0.resumes } }

    func record(delivered: Int = 0, dropped: Int = 0, resumes: Int = 0) {
        counts.withLockedValue {
            $0.delivered += delivered
            $0.dropped += dropped
            $0.resumes += resumes
        }
    }
}
