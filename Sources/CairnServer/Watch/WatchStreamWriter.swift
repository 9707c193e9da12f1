import CairnWire
import NIOCore

/// Writes the watch events of one client connection to its channel, with bounded buffering: the
/// ``WatchSink`` of that connection.
///
/// ## Threading
/// ``deliver(_:)``, ``end(streamID:code:message:)`` and ``cancelled(streamID:)`` may be called
/// from any thread (the hub calls them from the consensus thread). Each call hops to the
/// channel's event loop once and returns at once, so a slow client never slows the caller; the
/// hops run in call order. ``forget(streamID:)`` and ``writabilityChanged()`` must be called on
/// the event loop. All mutable state lives in a `NIOLoopBoundBox` and is only touched there,
/// which is what makes the writer `Sendable`.
///
/// ## Flow control
/// While `channel.isWritable` is false (the channel holds more unsent bytes than its high water
/// mark), events wait in a per-stream queue instead of being written; once a stream has
/// `maxQueuedEvents` waiting, the next event cuts it: its queue is dropped, the stream ends with
/// ``ClientErrorCode/watchTooSlow`` naming the last index written on it (the client resumes
/// from there), the stream is forgotten, and `onCut` is called — once per cut — so that the
/// server cancels the watch in the hub. When the channel is writable again the owner of the
/// channel calls ``writabilityChanged()`` and the queues drain, each stream in order, streams
/// taking turns. Each call writes its events and flushes once.
///
/// ## Encoding
/// An event is written as a `response` frame around the ``SharedWatchEvent``'s payload, which is
/// encoded by the first writer that needs it and then shared: a change seen by many streams, on
/// this connection or others, is encoded once and each frame costs a header and a byte copy.
/// The frames of one call are written back to back into one buffer (a
/// ``WireMessage/responseFrames(_:)`` per 16 KiB), so that a batch for a thousand streams goes
/// out as a few TLS records rather than a thousand.
///
/// A forgotten stream (cut, or ``forget(streamID:)``) has its events and its end dropped until
/// the hub confirms it has finished with it (``cancelled(streamID:)`` or
/// ``end(streamID:code:message:)``); the stream id can then be used again.
public final class WatchStreamWriter: WatchSink {
    private let channel: any Channel
    private let onCut: @Sendable (UInt64) -> Void
    private let queues: NIOLoopBoundBox<WatchOutboundQueues>

    /// Creates the writer of `channel`, whose pipeline accepts outbound `WireMessage`s. A
    /// stream with `maxQueuedEvents` events waiting is cut by the next one; `onCut` is then
    /// called on the event loop with the stream id.
    public init(channel: any Channel, maxQueuedEvents: Int = 4096, onCut: @escaping @Sendable (UInt64) -> Void) {
        self.channel = channel
        self.onCut = onCut
        self.queues = .makeBoxSendingValue(WatchOutboundQueues(limit: maxQueuedEvents), eventLoop: channel.eventLoop)
    }

    /// Writes `batch` (queues it while the channel is not writable), in order, then flushes.
    public func deliver(_ batch: [(streamID: UInt64, event: SharedWatchEvent)]) {
        channel.eventLoop.execute {
            self.write(batch)
        }
    }

    /// Writes the stream's `error` response after whatever of the stream is still queued.
    /// Dropped when the stream was forgotten.
    public func end(streamID: UInt64, code: ClientErrorCode, message: String) {
        channel.eventLoop.execute {
            switch self.queues.value.admitEnd(streamID: streamID, code: code, message: message) {
            case .write:
                self.channel.writeAndFlush(WireMessage.response(streamID: streamID, .error(code, message: message)), promise: nil)
            case .queued, .drop:
                break
            }
        }
    }

    /// Drops whatever is queued for the stream and everything the writer knew about it.
    public func cancelled(streamID: UInt64) {
        channel.eventLoop.execute {
            self.queues.value.release(streamID: streamID)
        }
    }

    /// Stops writing the stream at once (the client cancelled it): drops its queue and its later
    /// events until the hub confirms with ``cancelled(streamID:)``. Call on the event loop.
    public func forget(streamID: UInt64) {
        queues.value.forget(streamID: streamID)
    }

    /// Drains the queues while the channel is writable. Call on the event loop whenever the
    /// channel's writability changed (`channelWritabilityChanged`).
    public func writabilityChanged() {
        if drain() {
            channel.flush()
        }
    }

    private func write(_ batch: [(streamID: UInt64, event: SharedWatchEvent)]) {
        var frames = ResponseFrames(channel: channel)
        for (streamID, event) in batch {
            switch queues.value.admit(event, streamID: streamID, writable: channel.isWritable) {
            case .write:
                frames.add(streamID: streamID, payload: event.responsePayload())
            case .queued, .drop:
                break
            case .cut(let lastIndex):
                let resume = lastIndex.map { "resume from index \($0)" } ?? "resume from the last index received"
                let message = "the client read the watch too slowly; \(resume)"
                frames.add(.response(streamID: streamID, .error(.watchTooSlow, message: message)))
                onCut(streamID)
            }
        }
        drain(into: &frames)
        if frames.finish() {
            channel.flush()
        }
    }

    /// Writes queued items while the channel is writable; returns whether it wrote any.
    private func drain() -> Bool {
        var frames = ResponseFrames(channel: channel)
        drain(into: &frames)
        return frames.finish()
    }

    private func drain(into frames: inout ResponseFrames) {
        while channel.isWritable, let (streamID, item) = queues.value.next() {
            switch item {
            case .event(let event):
                frames.add(streamID: streamID, payload: event.responsePayload())
            case .end(let code, let message):
                frames.add(.response(streamID: streamID, .error(code, message: message)))
            }
        }
    }
}

/// The frames one call of the writer produces, encoded back to back into one buffer and written
/// as a ``WireMessage/responseFrames(_:)`` whenever it reaches ``chunkBytes`` (and at the end):
/// the TLS layer then seals one record per chunk instead of one per event, which is most of what
/// a watch event costs the server and the client to decrypt when thousands of watchers share a
/// connection. An event payload larger than a chunk is written alone, as an
/// ``WireMessage/encodedResponse(streamID:payload:)``, after the frames before it.
private struct ResponseFrames {
    /// About one TLS record's worth of plaintext.
    static let chunkBytes = 16 * 1024

    let channel: any Channel
    private var buffer: ByteBuffer?
    private var wrote = false

    init(channel: any Channel) {
        self.channel = channel
    }

    /// Adds the `response` frame of an encoded payload on `streamID`.
    mutating func add(streamID: UInt64, payload: ByteBuffer) {
        if payload.readableBytes > Self.chunkBytes {
            emit()
            channel.write(WireMessage.encodedResponse(streamID: streamID, payload: payload), promise: nil)
            wrote = true
            return
        }
        add(.encodedResponse(streamID: streamID, payload: payload))
    }

    /// Adds the frame of `message`, a `response` on a non-zero stream.
    mutating func add(_ message: WireMessage) {
        if buffer == nil {
            buffer = channel.allocator.buffer(capacity: Self.chunkBytes + 512)
        }
        buffer!.writeWireMessage(message)
        if buffer!.readableBytes >= Self.chunkBytes {
            emit()
        }
    }

    /// Writes what is buffered; returns whether anything was written since the start.
    mutating func finish() -> Bool {
        emit()
        return wrote
    }

    private mutating func emit() {
        guard let frames = buffer, frames.readableBytes > 0 else { return }
        buffer = nil
        channel.write(WireMessage.responseFrames(frames), promise: nil)
        wrote = true
    }
}
