import Foundation

/// One watcher's unmerged results: the arrival instants of its events since the last drain, its
/// start index, and how its watch ended. The watcher appends; the runner drains once a second
/// into the ``WatchDelayLedger``, so memory stays bounded by a second of events. The lock is held
/// for an append or a swap only, and is uncontended except at a drain or a poll.
final class WatchRecorder: @unchecked Sendable {
    /// How the watch ended: still running, ended without an error (cancelled), or failed.
    enum State: Sendable, Equatable {
        case running
        case ended
        case failed(String)
    }

    private let lock = NSLock()
    private var arrivals: [(index: UInt64, instant: ContinuousClock.Instant)] = []
    private var _startIndex: UInt64?
    private var _lastIndex: UInt64 = 0
    private var _events = 0
    private var _resnapshots = 0
    private var _state = State.running
    private var _resumes = 0
    private var _dropped = 0

    /// Records a snapshot event; returns true for the watcher's first one (it is now ready).
    func snapshot(at index: UInt64) -> Bool {
        lock.lock()
        defer { lock.unlock() }
        _lastIndex = max(_lastIndex, index)
        if _startIndex == nil {
            _startIndex = index
            return true
        }
        // A later snapshot: the watch restarted (history compacted); changes in between are lost.
        _resnapshots += 1
        return false
    }

    /// Records a change event received at `instant`.
    func arrived(index: UInt64, at instant: ContinuousClock.Instant) {
        lock.lock()
        arrivals.append((index, instant))
        _events += 1
        if index > _lastIndex { _lastIndex = index }
        lock.unlock()
    }

    /// Records how the watch ended and its final counters.
    func finish(_ state: State, resumes: Int, dropped: Int) {
        lock.withLock {
            _state = state
            _resumes = resumes
            _dropped = dropped
        }
    }

    /// Takes the arrivals recorded since the last drain.
    func drain() -> [(index: UInt64, instant: ContinuousClock.Instant)] {
        lock.lock()
        defer { lock.unlock() }
        let taken = arrivals
        arrivals = []
        arrivals.reserveCapacity(taken.count)
        return taken
    }

    /// The index of the first snapshot (nil until it arrived).
    var startIndex: UInt64? { lock.withLock { _startIndex } }
    /// The highest index received.
    var lastIndex: UInt64 { lock.withLock { _lastIndex } }
    /// How the watch stands.
    var state: State { lock.withLock { _state } }
    /// Change events received (snapshots not included).
    var events: Int { lock.withLock { _events } }
    /// Snapshots after the first.
    var resnapshots: Int { lock.withLock { _resnapshots } }
    /// The watch's resume count, once it ended.
    var resumes: Int { lock.withLock { _resumes } }
    /// The watch's dropped-event count, once it ended.
    var dropped: Int { lock.withLock { _dropped } }
}
