import NIOCore

/// Encodes ``Frame``s (payload already encoded) for `MessageToByteHandler`.
///
/// Refuses, by failing the write with a ``WireError``, a frame that breaks its kind's stream id
/// rule or whose length exceeds ``maximumFrameLength``: the peer would only close the connection.
///
/// `MessageToByteHandler` treats an encoding error as fatal to the connection (every later write
/// fails with it), so keep messages within bounds before writing them — for instance refuse an
/// oversized value with a ``ClientResponse/error(_:message:)`` (`valueTooLarge`) instead of
/// echoing it.
public struct FrameEncoder: MessageToByteEncoder {
    /// Frames whose payload is already encoded.
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
