import NIOCore

/// Runs the ``PrefaceExchange`` of a connection: the first handler after TLS.
///
/// It holds every inbound byte back until the peer's preface has been checked, then passes the
/// bytes that followed it on to the frame decoder, completes ``peerPreface`` and removes itself
/// from the pipeline. On failure it sends an `error` frame when the exchange says so, fails
/// ``peerPreface`` with the ``WireError`` and closes the channel.
///
/// Assemble a connection's pipeline in the channel initializer, before any byte is read:
///
///     NIOSSLHandler (client or server, mutual TLS)
///     PrefaceHandler(side: …, eventLoop: channel.eventLoop)
///     ByteToMessageHandler(FrameDecoder())
///     WireErrorHandler()
///     MessageToByteHandler(WireMessageEncoder())
///     …the application (for instance NIOAsyncChannel<Frame, WireMessage>)
///
/// and have the application wait for ``peerPreface`` before it reads or writes frames.
public final class PrefaceHandler: ChannelInboundHandler, RemovableChannelHandler {
    /// Bytes from TLS.
    public typealias InboundIn = ByteBuffer
    /// The bytes after the peer's preface, for the frame decoder.
    public typealias InboundOut = ByteBuffer
    /// Encoded bytes written straight to TLS (preface, error frame).
    public typealias OutboundOut = ByteBuffer

    private var exchange: PrefaceExchange
    private let promise: EventLoopPromise<Preface>
    private var promiseCompleted = false

    /// The peer's preface once the exchange succeeded; fails with a ``WireError`` otherwise.
    public var peerPreface: EventLoopFuture<Preface> { promise.futureResult }

    /// Creates the handler for one connection.
    public init(
        side: PrefaceExchange.Side, version: UInt8 = Preface.currentVersion,
        supportedVersions: ClosedRange<UInt8> = Preface.supportedVersions, eventLoop: any EventLoop
    ) {
        self.exchange = PrefaceExchange(side: side, version: version, supportedVersions: supportedVersions)
        self.promise = eventLoop.makePromise(of: Preface.self)
    }

    /// Sends a dialer's preface if the channel is already active.
    public func handlerAdded(context: ChannelHandlerContext) {
        if context.channel.isActive {
            run(exchange.activate(), context: context)
        }
    }

    /// Fails ``peerPreface`` if the exchange had not finished.
    public func handlerRemoved(context: ChannelHandlerContext) {
        if !promiseCompleted {
            promiseCompleted = true
            promise.fail(WireError(.truncated, "the preface handler was removed before the peer's preface arrived"))
        }
    }

    /// Sends a dialer's preface.
    public func channelActive(context: ChannelHandlerContext) {
        run(exchange.activate(), context: context)
        context.fireChannelActive()
    }

    /// Feeds the bytes to the exchange; passes nothing on until it completes.
    public func channelRead(context: ChannelHandlerContext, data: NIOAny) {
        run(exchange.received(Self.unwrapInboundIn(data)), context: context)
    }

    /// Swallowed: nothing was passed on.
    public func channelReadComplete(context: ChannelHandlerContext) {
        // Nothing was passed on while the exchange is pending; after it, this handler is gone.
    }

    /// Fails the exchange if the peer's preface never arrived.
    public func channelInactive(context: ChannelHandlerContext) {
        run(exchange.inputClosed(), context: context)
        context.fireChannelInactive()
    }

    private func run(_ action: PrefaceExchange.Action, context: ChannelHandlerContext) {
        switch action {
        case .nothing:
            break
        case .send(let preface):
            var buffer = context.channel.allocator.buffer(capacity: Preface.byteCount)
            buffer.writePreface(preface)
            context.writeAndFlush(Self.wrapOutboundOut(buffer), promise: nil)
        case .complete(let peer, let reply, let leftover):
            if let reply {
                var buffer = context.channel.allocator.buffer(capacity: Preface.byteCount)
                buffer.writePreface(reply)
                context.writeAndFlush(Self.wrapOutboundOut(buffer), promise: nil)
            }
            promiseCompleted = true
            promise.succeed(peer)
            if leftover.readableBytes > 0 {
                context.fireChannelRead(Self.wrapInboundOut(leftover))
                context.fireChannelReadComplete()
            }
            context.pipeline.syncOperations.removeHandler(context: context, promise: nil)
        case .fail(let error, let notifyPeer):
            promiseCompleted = true
            promise.fail(error)
            if notifyPeer {
                var buffer = context.channel.allocator.buffer(capacity: 64)
                buffer.writeWireMessage(.error(streamID: 0, ErrorPayload(error)))
                let written = context.eventLoop.makePromise(of: Void.self)
                context.writeAndFlush(Self.wrapOutboundOut(buffer), promise: written)
                written.futureResult.whenComplete { [channel = context.channel] _ in channel.close(promise: nil) }
            } else {
                context.close(promise: nil)
            }
        }
    }
}

@available(*, unavailable)
extension PrefaceHandler: Sendable {}
