import NIOCore

/// Reports a protocol violation to the peer and ends the connection.
///
/// Placed right after `ByteToMessageHandler(FrameDecoder())` (and before the encoder), it sees the
/// ``WireError`` the decoder raises, writes an `error` frame (stream 0) carrying its code and
/// reason straight to the transport, closes the channel once that is written, and passes the
/// error on. It reports only the first error. Frames pass through untouched.
public final class WireErrorHandler: ChannelInboundHandler {
    /// Frames from the decoder, passed through.
    public typealias InboundIn = Frame
    /// The same frames.
    public typealias InboundOut = Frame
    /// The encoded error frame, written past the encoder straight to TLS.
    public typealias OutboundOut = ByteBuffer

    private var reported = false

    /// Creates the handler.
    public init() {}

    /// Reports the first ``WireError`` in an `error` frame and closes; passes every error on.
    public func errorCaught(context: ChannelHandlerContext, error: any Error) {
        if !reported, let error = error as? WireError {
            reported = true
            var buffer = context.channel.allocator.buffer(capacity: 64)
            buffer.writeWireMessage(.error(streamID: 0, ErrorPayload(error)))
            let written = context.eventLoop.makePromise(of: Void.self)
            context.writeAndFlush(Self.wrapOutboundOut(buffer), promise: written)
            written.futureResult.whenComplete { [channel = context.channel] _ in channel.close(promise: nil) }
        }
        context.fireErrorCaught(error)
    }
}

@available(*, unavailable)
extension WireErrorHandler: Sendable {}
