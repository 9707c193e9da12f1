import CairnWire
import NIOConcurrencyHelpers
import NIOCore

/// One watch event as the ``WatchHub`` hands it to every stream that receives it: built once per
/// publish for all the watches with the same target, and encoded once, however many streams
/// (and connections) write it.
///
/// The event is immutable. Its encoded `response` payload (``ClientResponse/watchEvent(_:)``) is
/// made by the first ``responsePayload()`` call, on whichever thread asks first, under a lock;
/// every later call, from any thread, returns the same bytes (the buffer's storage is shared, not
/// copied). That is what makes the class safe to share across event loops.
public final class SharedWatchEvent: @unchecked Sendable {
    /// The event.
    public let event: WatchEvent
    private let lock = NIOLock()
    /// The encoded payload once made; only read or written under `lock`.
    private var payload: ByteBuffer?
    /// How many times the payload was encoded; only read or written under `lock`.
    private var encodings = 0

    /// Wraps `event`; nothing is encoded yet.
    public init(_ event: WatchEvent) {
        self.event = event
    }

    /// The event's Raft index.
    public var index: UInt64 { event.index }

    /// The payload of the `response` frame carrying this event, encoded on the first call and
    /// shared by every later one. Any thread.
    public func responsePayload() -> ByteBuffer {
        lock.withLock {
            if let payload { return payload }
            let made = ClientResponse.watchEvent(event).encodedPayload()
            payload = made
            encodings += 1
            return made
        }
    }

    /// How many times the payload was encoded: 0 until a stream wrote the event, then 1, never
    /// more (the guarantee tests check through this).
    public var encodingCount: Int {
        lock.withLock { encodings }
    }
}
