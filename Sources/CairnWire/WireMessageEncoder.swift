import NIOCore

/// Encodes ``WireMessage``s for `MessageToByteHandler`, each as one frame written in a single pass
/// into the outbound buffer (no intermediate payload buffer): the encoder for the hot path.
///
/// Refuses a message that breaks its kind's stream id rule or whose frame would exceed
/// ``maximumFrameLength``.
///
/// `MessageToByteHandler` treats an encoding error as fatal to the connection (every later write
/// fails with it), so keep messages within bounds before writing them — for instance refuse an
/// oversized value with a ``ClientResponse/error(_:message:)`` (`valueTooLarge`) instead of
/// echoing it.
public struct WireMessageEncoder: MessageToByteEncoder, Sendable {
    /// Messages, encoded into frames here.
    public typealias OutboundIn = WireMessage

    /// The largest length field sent; match the receivers' ``FrameDecoder/maximumFrameLength``.
    public let maximumFrameLength: Int

    /// Creates an encoder.
    public init(maximumFrameLength: Int = Frame.defaultMaximumLength) {
        self.maximumFrameLength = maximumFrameLength
    }

    /// Writes `data` as one frame to `out`.
    public func encode(data: WireMessage, out: inout ByteBuffer) throws {
        try encode(data, into: &out)
    }

    /// `message` encoded as one frame in a buffer of its own; a ``WireMessage/responseFrames(_:)``
    /// is checked and returned as it is, without a copy. For handlers that do their own framing
    /// (``WireFraming``).
    /// - Throws: the ``WireError`` of ``encode(data:out:)`` (stream id rule, frame size).
    public func encoded(_ message: WireMessage, allocator: ByteBufferAllocator) throws(WireError) -> ByteBuffer {
        if case .responseFrames(let frames) = message {
            try checkResponseFrames(frames)
            return frames
        }
        var buffer = allocator.buffer(capacity: 256)
        try encode(message, into: &buffer)
        return buffer
    }

    /// Writes `message` as one frame to the end of `out` (which may hold frames already, to go
    /// out in one write); on failure `out` is as it was.
    /// - Throws: the ``WireError`` of ``encode(data:out:)`` (stream id rule, frame size).
    public func encode(_ message: WireMessage, into out: inout ByteBuffer) throws(WireError) {
        if case .responseFrames(let frames) = message {
            try checkResponseFrames(frames)
            out.writeImmutableBuffer(frames)
            return
        }
        try message.kind.checkStreamID(message.streamID)
        if case .encodedResponse(_, let payload) = message {
            // Known before writing: refuse without copying the payload.
            let length = Frame.lengthCoveredHeaderSize + payload.readableBytes
            guard length <= maximumFrameLength else {
                throw WireError(
                    .frameTooLarge, "\(message.kind) frame length \(length) exceeds the limit of \(maximumFrameLength) bytes")
            }
            out.reserveCapacity(minimumWritableBytes: Frame.headerSize + payload.readableBytes)
        }
        let start = out.writerIndex
        let written = out.writeWireMessage(message)
        let length = written - 4
        guard length <= maximumFrameLength else {
            out.moveWriterIndex(to: start)
            throw WireError(
                .frameTooLarge, "\(message.kind) frame length \(length) exceeds the limit of \(maximumFrameLength) bytes")
        }
    }

    /// Checks that `frames` holds only whole `response` frames, each on a non-zero stream and
    /// within ``maximumFrameLength``: the promise ``WireMessage/responseFrames(_:)`` makes.
    func checkResponseFrames(_ frames: ByteBuffer) throws(WireError) {
        var offset = frames.readerIndex
        let end = frames.writerIndex
        while offset < end {
            guard end - offset >= Frame.headerSize,
                  let length = frames.getInteger(at: offset, as: UInt32.self),
                  let kindByte = frames.getInteger(at: offset + 4, as: UInt8.self),
                  let streamID = frames.getInteger(at: offset + 6, as: UInt64.self) else {
                throw WireError(.malformedFrame, "response frames: \(end - offset) bytes at offset \(offset - frames.readerIndex) are not a whole frame header")
            }
            guard kindByte == FrameKind.response.rawValue else {
                throw WireError(.malformedFrame, "response frames: the frame at offset \(offset - frames.readerIndex) has kind \(kindByte), not response")
            }
            try FrameKind.response.checkStreamID(streamID)
            let covered = Int(length)
            guard covered <= maximumFrameLength else {
                throw WireError(.frameTooLarge, "response frame length \(covered) exceeds the limit of \(maximumFrameLength) bytes")
            }
            guard covered >= Frame.lengthCoveredHeaderSize, covered <= end - offset - 4 else {
                throw WireError(.malformedFrame, "response frames: the frame at offset \(offset - frames.readerIndex) has length \(covered), which does not fit the \(end - offset) bytes left")
            }
            offset += 4 + covered
        }
    }
}
