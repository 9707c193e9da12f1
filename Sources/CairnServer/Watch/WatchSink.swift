import CairnWire

/// Where a ``WatchHub`` sends the events of the watches of one client connection.
///
/// The hub calls a sink only from the consensus thread, and in order: every event of a stream in
/// a ``deliver(_:)`` call that precedes ``end(streamID:code:message:)`` or ``cancelled(streamID:)``
/// for it, and nothing for that stream afterwards (until the connection registers the stream id
/// again). An implementation must not block; ``WatchStreamWriter`` hands the work to the
/// connection's event loop and returns.
public protocol WatchSink: AnyObject, Sendable {
    /// Events for the sink's streams, in order. Within one stream the indexes strictly increase,
    /// across all calls. The hub makes at most one such call per sink per publish. The events are
    /// shared: one publish hands the same ``SharedWatchEvent`` to every stream (of any sink) whose
    /// watch has the same target, so that its payload is encoded once for all of them.
    func deliver(_ batch: [(streamID: UInt64, event: SharedWatchEvent)])
    /// The hub ended the watch on `streamID` (history compacted, shutting down): the client must
    /// be told with `ClientResponse.error(code, message:)` after the events already delivered.
    func end(streamID: UInt64, code: ClientErrorCode, message: String)
    /// The watch on `streamID` was cancelled (``WatchHub/cancel(streamID:sink:)``): nothing more
    /// will be delivered for it and no error is owed to the client. The hub says so even when it
    /// no longer knew the stream, so that a sink can forget what it kept about the stream.
    func cancelled(streamID: UInt64)
}
