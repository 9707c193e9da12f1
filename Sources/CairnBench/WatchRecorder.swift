import Synchronization

/// One watcher's unmerged results: the arrival instants of its events since the last drain, its
/// start index, and how its watch ended. The watcher appends; the runner drains once a second
/// into the ``WatchDelayLedger``, so memory stays bounded by a second of events. The lock is held
/// for an append or a swap only, and is uncontended except at a drain or a poll. It is a `Mutex`
/// stored in the object, so that recording an arrival touches one object, not two: with ten
/// thousand watchers each arrival is a cache miss or two, and those are what it costs.
final class WatchRecorder: Sendable {
    /// How the watch ended: still running, ended without an error (cancelled), or failed.
    enum State: Sendable, Equatable {
        case running
        case ended
        case failed(String)
    }

    private struct Record {
        var arrivals: [(index: UInt64, instant: ContinuousClock.Instant)] = []
        var startIndex: UInt64?
        var lastIndex: UInt64 = 0
        var events = 0
        var resnapshots = 0
        var state = State.running
        var resumes = 0
        var dropped = 0
    }

    private let record = Mutex(Record())

    /// Records a snapshot event; returns true for the watcher's first one (it is now ready).
    func snapshot(at index: UInt64) -> Bool {
        record.withLock { record in
            record.lastIndex = max(record.lastIndex, index)
            if record.startIndex == nil {
                record.startIndex = index
                return true
            }
            // A later snapshot: the watch restarted (history compacted); changes in between are lost.
            record.resnapshots += 1
            return false
        }
    }

    /// Records a change event received at `instant`.
    func arrived(index: UInt64, at instant: ContinuousClock.Instant) {
        record.withLock { record in
            record.arrivals.append((index, instant))
            record.events += 1
            if index > record.lastIndex { record.lastIndex = index }
        }
    }

    /// Records how the watch ended and its final counters.
    func finish(_ state: State, resumes: Int, dropped: Int) {
        record.withLock { record in
            record.state = state
            record.resumes = resumes
            record.dropped = dropped
        }
    }

    /// Takes the arrivals recorded since the last drain.
    func drain() -> [(index: UInt64, instant: ContinuousClock.Instant)] {
        record.withLock { record in
            let taken = record.arrivals
            record.arrivals = []
            record.arrivals.reserveCapacity(taken.count)
            return taken
        }
    }

    /// The index of the first snapshot (nil until it arrived).
    var startIndex: UInt64? { record.withLock { $0.startIndex } }
    /// The highest index received.
    var lastIndex: UInt64 { record.withLock { $0.lastIndex } }
    /// How the watch stands.
    var state: State { record.withLock { $0.state } }
    /// Change events received (snapshots not included).
    var events: Int { record.withLock { $0.events } }
    /// Snapshots after the first.
    var resnapshots: Int { record.withLock { $0.resnapshots } }
    /// The watch's resume count, once it ended.
    var resumes: Int { record.withLock { $0.resumes } }
    /// The watch's dropped-event count, once it ended.
    var dropped: Int { record.withLock { $0.dropped } }
}
