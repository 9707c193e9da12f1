/// The leader's view of one follower's replication.
///
/// - `probe`: the leader does not know where the follower's log matches; it sends one append at a
///   time and waits for the answer (or the next heartbeat) before sending another.
/// - `replicate`: the follower is keeping up; appends are pipelined, optimistically advancing
///   `next`, with at most `maxInflight` unacknowledged appends outstanding.
/// - `snapshot`: the follower needs a snapshot; chunks are sent one at a time until it has all of it.
struct Progress: Sendable {
    enum State: Sendable, Equatable { case probe, replicate, snapshot }

    var match: LogIndex = 0
    var next: LogIndex
    var state: State = .probe
    /// In `probe`: an append is outstanding, wait before sending another.
    var probeSent = false
    /// In `replicate`: last indexes of appends sent and not yet acknowledged, oldest first.
    var inflights: Inflights
    /// Whether the follower has been heard from during the current check-quorum period.
    var recentActive = false
    /// In `snapshot`: which snapshot is being sent and the offset the follower expects next.
    var pendingSnapshot: SnapshotMetadata? = nil
    var snapshotOffset: UInt64 = 0
    /// The highest heartbeat round (see ReadIndex) the follower has answered in this term.
    var ackedRound: UInt64 = 0
    /// `match` when the previous heartbeat answer came: no movement across two answers while
    /// appends are outstanding means one was lost.
    var matchAtLastHeartbeat: LogIndex = 0

    init(next: LogIndex, maxInflight: Int) {
        self.next = next
        self.inflights = Inflights(capacity: maxInflight)
    }

    var isPaused: Bool {
        switch state {
        case .probe: return probeSent
        case .replicate: return inflights.isFull
        case .snapshot: return true
        }
    }

    mutating func becomeProbe() {
        if state == .snapshot, let snap = pendingSnapshot {
            next = max(match + 1, snap.index + 1)
        } else {
            next = match + 1
        }
        state = .probe
        probeSent = false
        pendingSnapshot = nil
        snapshotOffset = 0
        inflights.reset()
    }

    mutating func becomeReplicate() {
        state = .replicate
        next = match + 1
        probeSent = false
        pendingSnapshot = nil
        snapshotOffset = 0
        inflights.reset()
    }

    mutating func becomeSnapshot(_ metadata: SnapshotMetadata) {
        state = .snapshot
        pendingSnapshot = metadata
        snapshotOffset = 0
        probeSent = false
        inflights.reset()
    }

    /// Records a successful append up to `index`; returns whether it was news.
    mutating func maybeUpdate(_ index: LogIndex) -> Bool {
        var updated = false
        if match < index {
            match = index
            updated = true
            probeSent = false
        }
        next = max(next, index + 1)
        return updated
    }

    /// Handles a rejection of the append after `rejected`, with `matchHint` the leader's best
    /// guess of the last matching index. Returns false when the rejection is stale.
    mutating func maybeDecrease(rejected: LogIndex, matchHint: LogIndex) -> Bool {
        if state == .replicate {
            if rejected <= match { return false }
            next = match + 1
            return true
        }
        if next == 0 || next - 1 != rejected { return false }
        next = max(min(rejected, matchHint + 1), match + 1)
        probeSent = false
        return true
    }
}

/// A bounded FIFO of the last indexes of appends in flight to one follower.
struct Inflights: Sendable {
    private var buffer: [LogIndex]
    private var start = 0
    private(set) var count = 0

    init(capacity: Int) {
        buffer = Array(repeating: 0, count: max(1, capacity))
    }

    var isFull: Bool { count == buffer.count }

    mutating func add(_ last: LogIndex) {
        precondition(!isFull, "inflight window overflow")
        buffer[(start + count) % buffer.count] = last
        count += 1
    }

    /// Frees every append whose last index is `<= index`.
    mutating func free(through index: LogIndex) {
        while count > 0 && buffer[start] <= index {
            start = (start + 1) % buffer.count
            count -= 1
        }
    }

    mutating func freeFirst() {
        guard count > 0 else { return }
        start = (start + 1) % buffer.count
        count -= 1
    }

    mutating func reset() {
        start = 0
        count = 0
    }
}
