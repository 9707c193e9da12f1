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
public struct WireMessageEncoder: MessageToByteEncoder {
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
        try data.kind.checkStreamID(data.streamID)
        if case .encodedResponse(_, let payload) = data {
            // Known before writing: refuse without copying the payload.
            let length = Frame.lengthCoveredHeaderSize + payload.readableBytes
            guard length <= maximumFrameLength else {
                throw WireError(
                    .frameTooLarge, "\(data.kind) frame length \(length) exceeds the limit of \(maximumFrameLength) bytes")
            }
            out.reserveCapacity(minimumWritableBytes: Frame.headerSize + payload.readableBytes)
        }
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
