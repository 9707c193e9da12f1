import NIOCore

/// The frame decoder of a connection, run inside its application handler.
///
/// The standard pipeline (``NIOCore/ChannelPipeline/SynchronousOperations/addCairnWireHandlers(side:eventLoop:maximumFrameLength:)``)
/// gives decoding, error reporting and encoding a handler each, so every message crosses four
/// handlers and is boxed and unboxed at each. A connection on the hot path instead puts its
/// application handler right after the ``PrefaceHandler``, reads the decrypted bytes, lets this
/// value split them into frames (the rules of ``FrameDecoder``), and encodes what it writes with
/// ``WireMessageEncoder/encoded(_:allocator:)`` — one handler per message each way.
///
/// A read error (``next()`` throws) means the stream can no longer be framed: send
/// ``errorFrame(_:allocator:)`` and close, as ``WireErrorHandler`` does.
public struct WireFraming {
    private var decoder: FrameDecoder
    /// Bytes received and not yet taken as frames.
    private var received: ByteBuffer?

    /// Creates the framing of one connection, reading frames up to `maximumFrameLength`.
    public init(maximumFrameLength: Int = Frame.defaultMaximumLength) {
        decoder = FrameDecoder(maximumFrameLength: maximumFrameLength)
    }

    /// The bytes held that no whole frame has taken yet (for a connection that closes inside a
    /// frame).
    public var bufferedBytes: Int { received?.readableBytes ?? 0 }

    /// The capacity of the buffer holding those bytes (for tests of its growth).
    var bufferCapacity: Int { received?.capacity ?? 0 }

    /// Adds bytes read from the connection; take the frames they complete with ``next()``.
    public mutating func append(_ bytes: ByteBuffer) {
        guard var held = received, held.readableBytes > 0 else {
            received = bytes
            return
        }
        received = nil
        // Drop the bytes already taken once they outweigh those kept, so that a connection that
        // always has a frame in progress does not grow its buffer forever (amortized: each byte
        // is moved at most once per doubling).
        if held.readerIndex >= held.readableBytes { held.discardReadBytes() }
        var bytes = bytes
        held.writeBuffer(&bytes)
        received = held
    }

    /// The next whole frame received, or nil until more bytes arrive. Its payload is a slice of
    /// the bytes received, not a copy.
    /// - Throws: the ``FrameDecoder``'s error for a bad header; the connection must be failed.
    public mutating func next() throws(WireError) -> Frame? {
        guard var input = received else { return nil }
        received = nil
        defer { if input.readableBytes > 0 { received = input } }
        return try decoder.decode(buffer: &input)
    }

    /// The `error` frame (stream 0) that reports `error` to the other side.
    public static func errorFrame(_ error: WireError, allocator: ByteBufferAllocator) -> ByteBuffer {
        var buffer = allocator.buffer(capacity: 64)
        buffer.writeWireMessage(.error(streamID: 0, ErrorPayload(error)))
        return buffer
    }
}
