import CairnTLS
import CairnWire
import Logging
import NIOConcurrencyHelpers
import NIOCore
import NIOPosix

/// The client port: mutual TLS, then pipelined requests answered by the consensus loop.
public final class ClientListener: @unchecked Sendable {
    private let group: any EventLoopGroup
    private let tls: MutualTLSContext
    private let logger: Logger
    private let submit: @Sendable (ConsensusLoop.Input) -> Void
    private var channel: (any Channel)?

    /// Creates the listener; `submit` hands each request (`.client`) and each watch change
    /// (`.watch`, `.unwatch`, `.connectionClosed`) to the server, which must eventually call a
    /// request's reply closure exactly once.
    public init(group: any EventLoopGroup, tls: MutualTLSContext, logger: Logger,
                submit: @escaping @Sendable (ConsensusLoop.Input) -> Void) {
        self.group = group
        self.tls = tls
        self.logger = logger
        self.submit = submit
    }

    /// Starts listening; returns the bound address.
    public func listen(on address: HostPort) async throws -> SocketAddress {
        let tls = tls
        let logger = logger
        let submit = submit
        let channel = try await ServerBootstrap(group: group)
            .serverChannelOption(.socketOption(.so_reuseaddr), value: 1)
            .childChannelOption(.socketOption(.tcp_nodelay), value: 1)
            .childChannelInitializer { channel in
                channel.eventLoop.makeCompletedFuture {
                    let handler = ClientConnectionHandler(submit: submit, logger: logger)
                    _ = try WirePipeline.configure(channel, tls: tls, side: .acceptor(accepting: [.client, .peer]), logger: logger, application: handler)
                }
            }
            .bind(host: address.host, port: address.port).get()
        self.channel = channel
        return channel.localAddress!
    }

    /// Stops accepting connections.
    public func close() async {
        try? await channel?.close()
    }
}

/// One client connection: decodes requests and writes responses as the server answers them,
/// in whatever order they complete. Watches on the connection share one ``WatchStreamWriter``,
/// created with the first watch.
///
/// It sits right after TLS and the preface exchange and does the framing itself: it splits the
/// decrypted bytes into frames (``WireFraming``), and encodes every ``WireMessage`` written on the
/// channel into its frame (``WireMessageEncoder``). A bad frame is answered with an `error` frame,
/// and the connection closed; so is a response that cannot be encoded (too large for a frame).
final class ClientConnectionHandler: ChannelDuplexHandler {
    typealias InboundIn = ByteBuffer
    typealias OutboundIn = WireMessage
    typealias OutboundOut = ByteBuffer

    private let submit: @Sendable (ConsensusLoop.Input) -> Void
    private let logger: Logger
    private var watchWriter: WatchStreamWriter?
    private var responses: ResponseOutbox?
    private var framing = WireFraming()
    private let encoder = WireMessageEncoder()
    private var failed = false

    private func outbox(for channel: any Channel) -> ResponseOutbox {
        if let responses { return responses }
        let made = ResponseOutbox(channel: channel)
        responses = made
        return made
    }

    init(submit: @escaping @Sendable (ConsensusLoop.Input) -> Void, logger: Logger) {
        self.submit = submit
        self.logger = logger
    }

    private func writer(for channel: any Channel) -> WatchStreamWriter {
        if let watchWriter { return watchWriter }
        let submit = submit
        let box = WeakSinkBox()
        let writer = WatchStreamWriter(channel: channel) { streamID in
            if let sink = box.sink { submit(.unwatch(streamID: streamID, sink: sink)) }
        }
        box.sink = writer
        watchWriter = writer
        return writer
    }

    func channelRead(context: ChannelHandlerContext, data: NIOAny) {
        guard !failed else { return }
        framing.append(unwrapInboundIn(data))
        do {
            while !failed, let frame = try framing.next() {
                handle(frame, context: context)
            }
        } catch {
            fail(context, error)
        }
    }

    private func handle(_ frame: Frame, context: ChannelHandlerContext) {
        let channel = context.channel
        do {
            let message = try WireMessage(decoding: frame)
            switch message {
            case .request(let streamID, .watch(let target, let fromIndex)):
                submit(.watch(target, fromIndex: fromIndex, streamID: streamID, sink: writer(for: channel)))
            case .request(let streamID, .watchCancel(let watched)):
                if let watchWriter {
                    watchWriter.forget(streamID: watched)
                    submit(.unwatch(streamID: watched, sink: watchWriter))
                }
                channel.writeAndFlush(WireMessage.response(streamID: streamID, .applied(index: 0)), promise: nil)
            case .request(let streamID, let request):
                let outbox = outbox(for: channel)
                submit(.client(request, reply: { response in
                    outbox.send(.response(streamID: streamID, response))
                }))
            case .ping(let value):
                channel.writeAndFlush(WireMessage.pong(value), promise: nil)
            case .pong:
                break
            case .error(_, let payload):
                logger.debug("client reported \(payload.remoteError); closing")
                failed = true
                context.close(promise: nil)
            default:
                fail(context, WireError(.unexpectedFrame, "a \(frame.kind) frame on the client port"))
            }
        } catch where error.code == .unknownMessageKind && frame.kind == .request {
            // A newer client asking for an operation this server does not know: answer, keep going.
            channel.writeAndFlush(WireMessage.response(streamID: frame.streamID, .error(.unknownOperation, message: error.reason)), promise: nil)
        } catch {
            fail(context, error)
        }
    }

    /// Encodes each message written on the channel into its frame.
    func write(context: ChannelHandlerContext, data: NIOAny, promise: EventLoopPromise<Void>?) {
        let bytes: ByteBuffer
        do {
            bytes = try encoder.encoded(unwrapOutboundIn(data), allocator: context.channel.allocator)
        } catch {
            promise?.fail(error)
            logger.error("client \(context.channel.remoteAddress.map { "\($0)" } ?? "?"): a response could not be sent (\(error)); closing the connection")
            fail(context, error, log: false)
            return
        }
        context.write(wrapOutboundOut(bytes), promise: promise)
    }

    /// Reports `error` to the client in an `error` frame, then closes; reads stop here.
    private func fail(_ context: ChannelHandlerContext, _ error: WireError, log: Bool = true) {
        guard !failed else { return }
        failed = true
        let channel = context.channel
        if log { logger.warning("client \(channel.remoteAddress.map { "\($0)" } ?? "?") sent a bad frame: \(error)") }
        context.writeAndFlush(wrapOutboundOut(WireFraming.errorFrame(error, allocator: channel.allocator))).whenComplete { _ in
            channel.close(promise: nil)
        }
    }

    func errorCaught(context: ChannelHandlerContext, error: any Error) {
        logger.info("client \(context.channel.remoteAddress.map { "\($0)" } ?? "?"): closing the connection after an error: \(error)")
        context.close(promise: nil)
    }

    func channelWritabilityChanged(context: ChannelHandlerContext) {
        watchWriter?.writabilityChanged()
        context.fireChannelWritabilityChanged()
    }

    func channelInactive(context: ChannelHandlerContext) {
        if let watchWriter { submit(.connectionClosed(sink: watchWriter)) }
        context.fireChannelInactive()
    }
}

@available(*, unavailable)
extension ClientConnectionHandler: Sendable {}

/// The responses of one connection on their way from the consensus thread to the event loop.
///
/// The consensus loop answers a whole batch of requests at once; hopping to the event loop and
/// flushing once per answer would cost a task and a syscall (and a TLS record) each. Answers are
/// queued here instead, and one event-loop task writes everything queued and flushes once.
final class ResponseOutbox: @unchecked Sendable {
    private let channel: any Channel
    private let lock = NIOLock()
    private var queued: [WireMessage] = []
    private var scheduled = false

    init(channel: any Channel) { self.channel = channel }

    /// Queues `message`; schedules a drain unless one is already scheduled. Any thread.
    func send(_ message: WireMessage) {
        let schedule: Bool = lock.withLock {
            queued.append(message)
            if scheduled { return false }
            scheduled = true
            return true
        }
        if schedule { channel.eventLoop.execute { self.drain() } }
    }

    private func drain() {
        let batch: [WireMessage] = lock.withLock {
            scheduled = false
            defer { queued.removeAll(keepingCapacity: true) }
            return queued
        }
        for message in batch { channel.write(message, promise: nil) }
        channel.flush()
    }
}

/// Lets a writer's cut callback name the writer without a reference cycle.
private final class WeakSinkBox: @unchecked Sendable {
    weak var sink: WatchStreamWriter?
}
