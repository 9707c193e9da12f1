import Histogram

/// Joins the two halves of a watch measurement — when each write was acknowledged to its writer,
/// and when each watcher received the write's event — into delivery delays, and counts the
/// events that watchers should have received but did not. A value that does no IO: the `watch`
/// workload feeds it what its writers and watchers recorded, in whatever order it was drained.
///
/// Invariants:
/// - Every received event of an acknowledged write is settled exactly once, whichever of the two
///   was recorded first. An event recorded before its acknowledgement waits with its arrival
///   instant and is settled when the acknowledgement comes; no sample is lost to that race.
/// - A settled event of a measured write adds one sample, `max(0, arrival − acknowledgement)` in
///   microseconds, so no sample is negative (an event can reach a watcher before the reply
///   reaches the writer: they travel on different connections). Warmup writes add none.
/// - An event whose index is never acknowledged (a failed write that applied anyway, another
///   writer under the prefix) stays pending and is counted in ``unacknowledgedEvents``.
/// - Watcher `w` should receive every acknowledged write whose index is above
///   `startIndexes[w]` (its snapshot's index); ``expectedEvents`` sums that over the watchers. Of
///   those it did not receive, the ones above the highest index it received are
///   ``undeliveredEvents`` (still on their way, as far as anyone can tell), and the others are
///   ``missedEvents``: skipped, although a later event arrived — a broken watch guarantee.
/// - Memory: an acknowledgement is dropped once every watcher has received an index at or above
///   it (see ``prune()``); until then it is kept, also for a watcher that stopped.
public struct WatchDelayLedger: Sendable {
    /// Delays above this (10 minutes, in microseconds) are recorded as this.
    public static let highestTrackable: UInt64 = 600_000_000

    /// The delivery delays of measured writes, in microseconds (HDR, 3 significant digits).
    public private(set) var histogram = Histogram<UInt64>(lowestDiscernibleValue: 1, highestTrackableValue: highestTrackable,
                                                          numberOfSignificantValueDigits: .three)
    /// Received events matched with an acknowledged write, warmup writes included.
    public private(set) var matchedEvents = 0

    private struct Ack: Sendable {
        var instant: ContinuousClock.Instant
        var measured: Bool
    }

    private struct Arrival: Sendable {
        var watcher: Int
        var instant: ContinuousClock.Instant
    }

    /// Each watcher's start index, and its position in `distinctStarts`.
    private let startSlot: [Int]
    /// The watchers' start indexes, sorted, without repeats.
    private let distinctStarts: [UInt64]
    /// `acksAboveStarts[j]`: acknowledged writes whose index is above exactly `j` of `distinctStarts`.
    private var acksAboveStarts: [Int]
    /// Acknowledgements that some running watcher may still need.
    private var acks: [UInt64: Ack] = [:]
    /// Received events waiting for their write's acknowledgement, by index.
    private var pending: [UInt64: [Arrival]] = [:]
    private var pendingCount = 0
    /// Per watcher: events matched, and the highest index received (its start index before any).
    private var received: [Int]
    private var lastIndex: [UInt64]

    /// A ledger for `startIndexes.count` watchers; watcher `w` started after index
    /// `startIndexes[w]` (the index of its snapshot).
    public init(startIndexes: [UInt64]) {
        let distinct = Array(Set(startIndexes)).sorted()
        let slotOf = Dictionary(uniqueKeysWithValues: distinct.enumerated().map { ($1, $0) })
        distinctStarts = distinct
        startSlot = startIndexes.map { slotOf[$0]! }
        acksAboveStarts = Array(repeating: 0, count: distinct.count + 1)
        received = Array(repeating: 0, count: startIndexes.count)
        lastIndex = startIndexes
    }

    /// The write at `index` was acknowledged to its writer at `instant`; `measured` is false
    /// for a warmup write (its events are matched but not timed). Each index is acknowledged
    /// at most once.
    public mutating func acknowledged(index: UInt64, at instant: ContinuousClock.Instant, measured: Bool) {
        acksAboveStarts[Self.countBelow(index, in: distinctStarts)] += 1
        let ack = Ack(instant: instant, measured: measured)
        if let waiting = pending.removeValue(forKey: index) {
            pendingCount -= waiting.count
            for arrival in waiting { settle(arrival, ack) }
        }
        acks[index] = ack
    }

    /// Watcher `watcher` received the (non-snapshot) event at `index` at `instant`.
    /// - Precondition: `0 <= watcher < watchers`.
    public mutating func arrived(watcher: Int, index: UInt64, at instant: ContinuousClock.Instant) {
        if index > lastIndex[watcher] { lastIndex[watcher] = index }
        let arrival = Arrival(watcher: watcher, instant: instant)
        if let ack = acks[index] {
            settle(arrival, ack)
        } else {
            pending[index, default: []].append(arrival)
            pendingCount += 1
        }
    }

    /// Drops the acknowledgements no watcher can still need: those at or below the lowest
    /// index every watcher has received. Call it now and then (the runner does once a second);
    /// it changes no count.
    public mutating func prune() {
        guard !acks.isEmpty, let floor = lastIndex.min() else { return }
        acks = acks.filter { $0.key > floor }
    }

    /// Events received but not matched with any acknowledged write (yet).
    public var unacknowledgedEvents: Int { pendingCount }

    /// The events the watchers should have received: for each watcher, the acknowledged writes
    /// above its start index.
    public var expectedEvents: Int {
        let above = expectedPerSlot()
        return startSlot.reduce(0) { $0 + above[$1] }
    }

    /// Expected events a watcher did not receive although it received a later index — events
    /// skipped, which a watch must never do — summed over watchers.
    public var missedEvents: Int {
        let above = expectedPerSlot()
        let pendingAcks = acks.keys.sorted()
        var missed = 0
        for w in 0..<startSlot.count {
            missed += max(0, above[startSlot[w]] - received[w] - Self.countAbove(lastIndex[w], in: pendingAcks))
        }
        return missed
    }

    /// Expected events above the highest index a watcher received: not delivered (yet), summed
    /// over watchers.
    public var undeliveredEvents: Int {
        let pendingAcks = acks.keys.sorted()
        return lastIndex.reduce(0) { $0 + Self.countAbove($1, in: pendingAcks) }
    }

    /// Watcher `watcher`'s share of ``missedEvents``.
    public func missedEvents(watcher: Int) -> Int {
        max(0, expectedPerSlot()[startSlot[watcher]] - received[watcher] - Self.countAbove(lastIndex[watcher], in: acks.keys.sorted()))
    }

    /// Watcher `watcher`'s share of ``undeliveredEvents``.
    public func undeliveredEvents(watcher: Int) -> Int {
        Self.countAbove(lastIndex[watcher], in: acks.keys.sorted())
    }

    /// Per distinct start slot `m`: the acknowledged writes above `distinctStarts[m]`, that is
    /// those above more than `m` of the distinct starts.
    private func expectedPerSlot() -> [Int] {
        var result = Array(repeating: 0, count: distinctStarts.count)
        var suffix = acksAboveStarts[distinctStarts.count]
        for m in stride(from: distinctStarts.count - 1, through: 0, by: -1) {
            result[m] = suffix
            suffix += acksAboveStarts[m]
        }
        return result
    }

    private mutating func settle(_ arrival: Arrival, _ ack: Ack) {
        received[arrival.watcher] += 1
        matchedEvents += 1
        guard ack.measured else { return }
        let micros = arrival.instant > ack.instant ? BenchmarkRunner.microseconds(ack.instant.duration(to: arrival.instant)) : 0
        histogram.record(min(micros, Self.highestTrackable))
    }

    /// How many elements of the sorted `values` are above `index`. Every acknowledgement above a
    /// watcher's last index is still held (see ``prune()``), so this counts them all.
    private static func countAbove(_ index: UInt64, in values: [UInt64]) -> Int {
        values.count - countBelow(index + 1, in: values)
    }

    /// How many elements of the sorted `values` are below `index`.
    private static func countBelow(_ index: UInt64, in values: [UInt64]) -> Int {
        var low = 0, high = values.count
        while low < high {
            let mid = (low + high) / 2
            if values[mid] < index { low = mid + 1 } else { high = mid }
        }
        return low
    }
}
