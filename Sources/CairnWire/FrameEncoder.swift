import NIOCore

/// Encodes ``Frame``s (payload already encoded) for `MessageToByteHandler`.
///
/// Refuses, by failing the write with a ``WireError``, a frame that breaks its kind's stream id
/// rule or whose length exceeds ``maximumFrameLength``: the peer would only close the connection.
public struct FrameEncoder: MessageToByteEncoder {
    public typealias OutboundIn = Frame

    /// The largest length field sent; match the receivers' ``FrameDecoder/maximumFrameLength``.
    public let maximumFrameLength: Int

    /// Creates an encoder.
    public init(maximumFrameLength: Int = Frame.defaultMaximumLength) {
        self.maximumFrameLength = maximumFrameLength
    }

    /// Writes `data`'s header and payload to `out`.
    public func encode(data: Frame, out: inout ByteBuffer) throws {
        try data.kind.checkStreamID(data.streamID)
        guard data.flags == 0 else {
            throw WireError(.malformedFrame, "flags must be 0 in protocol version 1, got \(data.flags)")
        }
        guard data.length <= maximumFrameLength else {
            throw WireError(
                .frameTooLarge, "\(data.kind) frame length \(data.length) exceeds the limit of \(maximumFrameLength) bytes")
        }
        out.writeFrame(data)
    }
}

/// Encodes ``WireMessage``s for `MessageToByteHandler`, each as one frame written in a single pass
/// into the outbound buffer (no intermediate payload buffer): the encoder for the hot path.
///
/// Refuses a message that breaks its kind's stream id rule or whose frame would exceed
/// ``maximumFrameLength``.
public struct WireMessageEncoder: MessageToByteEncoder {
    public typealias OutboundIn = WireMessage

    /// The largest length field sent; match the receivers' ``FrameDecoder/maximumFrameLength``.
    public let maximumFrameLength: Int

    /// Creates an encoder.
    public init(maximumFrameLength: Int = Frame.defaultMaximumLength) {
        self.maximumFrameLength = maximumFrameLength
    }

    /// Writes `data` as one frame to `out`.
    public func encode(data: WireMessage, out: inout ByteBuffer) throws {
        try data.kind.checkStreamID(data.streamID)
        let start = out.writerIndex
        let written = out.writeWireMessage(data)
        let length = written - 4
        guard length <= maximumFrameLength else {
            out.moveWriterIndex(to: start)
            throw WireError(
                .frameTooLarge, "\(data.kind) frame length \(length) exceeds the limit of \(maximumFrameLength) bytes")
        }
    }
}
