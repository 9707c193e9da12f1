import CairnWire
import NIOCore

/// The recent key changes a ``WatchHub`` keeps so that a watch can resume from an index: a ring
/// of batches, one per Raft index that changed at least one key, oldest first.
///
/// Invariants: the batches' indexes strictly increase and are all greater than ``floor``; the
/// ring holds every key change with an index in `floor + 1 ... lastIndex` (nothing in that range
/// is missing); ``changeCount`` is the total number of changes held and ``byteCount`` their
/// approximate size; after each ``record`` they are at most ``limit`` and ``byteLimit`` — eviction
/// drops whole batches from the front and raises ``floor`` to the last dropped index, never part
/// of a batch.
struct WatchHistory {
    /// The key changes of one Raft index, in the order they were applied.
    struct Batch {
        var index: UInt64
        var changes: [KVChange]
    }

    /// Changes with an index above the floor are all held; those at or below it are not.
    private(set) var floor: UInt64
    /// The most changes held.
    let limit: Int
    /// The most bytes (keys and values, plus a fixed cost per change) held.
    let byteLimit: Int
    /// The number of changes held.
    private(set) var changeCount = 0
    /// The approximate size of the changes held (``size(of:)``).
    private(set) var byteCount = 0
    private var batches = CircularBuffer<Batch>()

    /// An empty history covering the indexes after `floor`.
    init(floor: UInt64, limit: Int, byteLimit: Int) {
        self.floor = floor
        self.limit = max(0, limit)
        self.byteLimit = max(0, byteLimit)
    }

    /// What a change counts against ``byteLimit``: its key and value bytes plus 64 for the rest.
    static func size(of change: KVChange) -> Int {
        64 + change.key.utf8.count + (change.entry.map { $0.value.count + $0.session.utf8.count } ?? 0)
    }

    /// The index of the newest change held, or the floor when none is.
    var lastIndex: UInt64 { batches.last?.index ?? floor }

    /// Appends the changes of Raft index `index` and evicts the oldest batches past the limit.
    /// Changes at an index not above ``lastIndex`` are ignored, except that more changes for
    /// the newest index join its batch.
    mutating func record(index: UInt64, changes: [KVChange]) {
        guard !changes.isEmpty else { return }
        if let last = batches.last, last.index == index {
            batches[batches.index(before: batches.endIndex)].changes.append(contentsOf: changes)
        } else if index > lastIndex {
            batches.append(Batch(index: index, changes: changes))
        } else {
            return
        }
        changeCount += changes.count
        byteCount += changes.reduce(0) { $0 + Self.size(of: $1) }
        while changeCount > limit || byteCount > byteLimit, let oldest = batches.popFirst() {
            changeCount -= oldest.changes.count
            byteCount -= oldest.changes.reduce(0) { $0 + Self.size(of: $1) }
            floor = oldest.index
        }
    }

    /// Calls `body` with every batch whose index is greater than `index`, oldest first.
    /// The caller checks `index >= floor` first if it needs the changes to be complete.
    func forEachBatch(after index: UInt64, _ body: (Batch) -> Void) {
        // Binary search for the first batch above `index`.
        var low = 0
        var high = batches.count
        while low < high {
            let mid = (low + high) / 2
            if batches[batches.index(batches.startIndex, offsetBy: mid)].index <= index {
                low = mid + 1
            } else {
                high = mid
            }
        }
        var position = batches.index(batches.startIndex, offsetBy: low)
        while position != batches.endIndex {
            body(batches[position])
            position = batches.index(after: position)
        }
    }

    /// Drops everything; the history starts again after `floor`.
    mutating func reset(floor: UInt64) {
        self.floor = floor
        batches.removeAll()
        changeCount = 0
        byteCount = 0
    }
}
