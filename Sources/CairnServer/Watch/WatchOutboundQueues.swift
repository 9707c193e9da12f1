import CairnWire
import NIOCore

/// The bookkeeping of a ``WatchStreamWriter``, with no IO: per stream, the events waiting for
/// the connection to become writable again, the last index written, and which streams were
/// forgotten. The writer asks it what to do with each event and writes accordingly.
///
/// Invariants: a stream's queue holds at most `limit` events (plus possibly a final end);
/// `ready` holds, once each, exactly the streams whose queue is not empty, in the order they got
/// their first queued item (a stream that had its turn goes to the back); a forgotten stream has
/// no state and its events are dropped until the hub says it has finished with it.
struct WatchOutboundQueues {
    /// Something waiting to be written on a stream.
    enum Item: Equatable {
        /// An event.
        case event(WatchEvent)
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

    private struct Stream {
        var queue = CircularBuffer<Item>()
        var queuedEvents = 0
        var lastWritten: UInt64?
    }

    /// The most events one stream may have queued; one more cuts the stream.
    let limit: Int
    private var streams: [UInt64: Stream] = [:]
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
    mutating func admit(_ event: WatchEvent, streamID: UInt64, writable: Bool) -> EventDecision {
        if forgotten.contains(streamID) { return .drop }
        let queuedEvents = streams[streamID]?.queuedEvents ?? 0
        let queueEmpty = streams[streamID]?.queue.isEmpty ?? true
        if writable && queueEmpty {
            streams[streamID, default: Stream()].lastWritten = event.index
            return .write
        }
        if queuedEvents >= limit {
            let lastWritten = streams.removeValue(forKey: streamID)?.lastWritten
            forgotten.insert(streamID)
            if !queueEmpty { ready.removeAll { $0 == streamID } }
            return .cut(lastIndex: lastWritten)
        }
        if queueEmpty { ready.append(streamID) }
        streams[streamID, default: Stream()].queue.append(.event(event))
        streams[streamID, default: Stream()].queuedEvents += 1
        return .queued
    }

    /// Decides about the end of `streamID`. After `.write` or `.drop` the stream is no longer
    /// known (nor forgotten); after `.queued` it is once the end is taken by ``next()``.
    mutating func admitEnd(streamID: UInt64, code: ClientErrorCode, message: String) -> EndDecision {
        if forgotten.remove(streamID) != nil { return .drop }
        guard var stream = streams.removeValue(forKey: streamID), !stream.queue.isEmpty else { return .write }
        stream.queue.append(.end(code, message))
        streams[streamID] = stream
        return .queued
    }

    /// Drops what is queued for `streamID` and drops its later events, until ``release(streamID:)``.
    mutating func forget(streamID: UInt64) {
        if let stream = streams.removeValue(forKey: streamID), !stream.queue.isEmpty {
            ready.removeAll { $0 == streamID }
        }
        forgotten.insert(streamID)
    }

    /// Drops everything about `streamID`, forgotten or not: nothing more will come for it.
    mutating func release(streamID: UInt64) {
        if let stream = streams.removeValue(forKey: streamID), !stream.queue.isEmpty {
            ready.removeAll { $0 == streamID }
        }
        forgotten.remove(streamID)
    }

    /// Takes the next queued item to write, taking turns between streams. Taking a stream's end
    /// drops the stream's state.
    mutating func next() -> (streamID: UInt64, item: Item)? {
        // Each turn takes one stream off `ready`, so this ends within `ready.count` turns.
        while let streamID = ready.popFirst() {
            guard let item = streams[streamID]?.queue.popFirst() else { continue }
            switch item {
            case .event(let event):
                streams[streamID]?.queuedEvents -= 1
                streams[streamID]?.lastWritten = event.index
                if streams[streamID]?.queue.isEmpty == false { ready.append(streamID) }
            case .end:
                streams[streamID] = nil
            }
            return (streamID, item)
        }
        return nil
    }
}
