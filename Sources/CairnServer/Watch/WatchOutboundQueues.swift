import CairnWire
import NIOCore

/// The bookkeeping of a ``WatchStreamWriter``, with no IO: per stream, the events waiting for
/// the connection to become writable again, the last index written, and which streams were
/// forgotten. The writer asks it what to do with each event and writes accordingly.
///
/// Invariants: a stream's queue holds at most `limit` events (plus possibly a final end) and is
/// never empty — a stream with nothing queued has no queue; `ready` holds, once each, exactly the
/// streams that have a queue, in the order they got their first queued item (a stream that had
/// its turn goes to the back); `lastWritten` holds, for each stream with an event written and
/// not ended, the index of the last one; a forgotten stream has no state and its events are
/// dropped until the hub says it has finished with it.
///
/// The common case — the channel writable, nothing queued on the connection, nothing
/// forgotten — costs one dictionary update per event and allocates nothing.
struct WatchOutboundQueues {
    /// Something waiting to be written on a stream.
    enum Item {
        /// An event.
        case event(SharedWatchEvent)
        /// The stream's final error.
        case end(ClientErrorCode, String)
    }

    /// What to do with an event just delivered.
    enum EventDecision: Equatable {
        /// Write it now (the stream has nothing queued and the channel is writable).
        case write
        /// It was queued.
        case queued
        /// The stream is forgotten: drop it.
        case drop
        /// The queue overflowed: the stream is now forgotten and must be told so with
        /// ``ClientErrorCode/watchTooSlow``; `lastIndex` is the last index written on it, if any.
        case cut(lastIndex: UInt64?)
    }

    /// What to do with a stream's end.
    enum EndDecision: Equatable {
        /// Write the error now (nothing of the stream is queued).
        case write
        /// It was queued behind the stream's events.
        case queued
        /// The stream is forgotten: drop it.
        case drop
    }

    /// The items waiting on one stream (never empty) and how many of them are events.
    private struct Queue {
        var items: CircularBuffer<Item>
        var events: Int
    }

    /// The most events one stream may have queued; one more cuts the stream.
    let limit: Int
    private var lastWritten: [UInt64: UInt64] = [:]
    private var queues: [UInt64: Queue] = [:]
    private var ready = CircularBuffer<UInt64>()
    private var forgotten: Set<UInt64> = []

    /// Empty queues cutting a stream past `limit` queued events.
    init(limit: Int) {
        self.limit = max(0, limit)
    }

    /// Whether anything is waiting to be written.
    var hasQueued: Bool { !ready.isEmpty }

    /// Decides about an event for `streamID` when the channel is (or is not) `writable`. A
    /// `.write` decision counts the event as written.
    mutating func admit(_ event: SharedWatchEvent, streamID: UInt64, writable: Bool) -> EventDecision {
        if !forgotten.isEmpty, forgotten.contains(streamID) { return .drop }
        if writable, ready.isEmpty || queues[streamID] == nil {
            lastWritten[streamID] = event.index
            return .write
        }
        if let position = queues.index(forKey: streamID) {
            guard queues.values[position].events < limit else { return cut(streamID) }
            queues.values[position].items.append(.event(event))
            queues.values[position].events += 1
        } else {
            guard limit > 0 else { return cut(streamID) }
            var items = CircularBuffer<Item>(initialCapacity: 4)
            items.append(.event(event))
            queues[streamID] = Queue(items: items, events: 1)
            ready.append(streamID)
        }
        return .queued
    }

    /// Decides about the end of `streamID`. After `.write` or `.drop` the stream is no longer
    /// known (nor forgotten); after `.queued` it is once the end is taken by ``next()``.
    mutating func admitEnd(streamID: UInt64, code: ClientErrorCode, message: String) -> EndDecision {
        if forgotten.remove(streamID) != nil { return .drop }
        guard let position = queues.index(forKey: streamID) else {
            lastWritten[streamID] = nil
            return .write
        }
        queues.values[position].items.append(.end(code, message))
        return .queued
    }

    /// Drops what is queued for `streamID` and drops its later events, until ``release(streamID:)``.
    mutating func forget(streamID: UInt64) {
        drop(streamID)
        forgotten.insert(streamID)
    }

    /// Drops everything about `streamID`, forgotten or not: nothing more will come for it.
    mutating func release(streamID: UInt64) {
        drop(streamID)
        forgotten.remove(streamID)
    }

    /// Takes the next queued item to write, taking turns between streams. Taking a stream's end
    /// drops the stream's state.
    mutating func next() -> (streamID: UInt64, item: Item)? {
        // Each turn takes one stream off `ready`, so this ends within `ready.count` turns.
        while let streamID = ready.popFirst() {
            guard let position = queues.index(forKey: streamID),
                  let item = queues.values[position].items.popFirst() else { continue }
            switch item {
            case .event(let event):
                queues.values[position].events -= 1
                if queues.values[position].items.isEmpty {
                    queues.remove(at: position)
                } else {
                    ready.append(streamID)
                }
                lastWritten[streamID] = event.index
            case .end:
                queues.remove(at: position)
                lastWritten[streamID] = nil
            }
            return (streamID, item)
        }
        return nil
    }

    /// Forgets the stream's queue and last index, and makes it forgotten: it was cut.
    private mutating func cut(_ streamID: UInt64) -> EventDecision {
        let last = lastWritten[streamID]
        forget(streamID: streamID)
        return .cut(lastIndex: last)
    }

    /// Drops the stream's queue (taking it off `ready`) and its last index.
    private mutating func drop(_ streamID: UInt64) {
        lastWritten[streamID] = nil
        if queues.removeValue(forKey: streamID) != nil {
            ready.removeAll { $0 == streamID }
        }
    }
}
