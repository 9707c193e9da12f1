import CairnTLS
import CairnWire
import Logging
import NIOCore
import NIOPosix

/// The client port: mutual TLS, then pipelined requests answered by the consensus loop.
public final class ClientListener: @unchecked Sendable {
    private let group: any EventLoopGroup
    private let tls: MutualTLSContext
    private let logger: Logger
    private let submit: @Sendable (ClientRequest, @escaping @Sendable (ClientResponse) -> Void) -> Void
    private var channel: (any Channel)?

    /// Creates the listener; `submit` hands each request to the server and must eventually call
    /// the reply closure exactly once.
    public init(group: any EventLoopGroup, tls: MutualTLSContext, logger: Logger,
                submit: @escaping @Sendable (ClientRequest, @escaping @Sendable (ClientResponse) -> Void) -> Void) {
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
/// in whatever order they complete.
final class ClientConnectionHandler: ChannelInboundHandler {
    typealias InboundIn = Frame
    typealias OutboundOut = WireMessage

    private let submit: @Sendable (ClientRequest, @escaping @Sendable (ClientResponse) -> Void) -> Void
    private let logger: Logger

    init(submit: @escaping @Sendable (ClientRequest, @escaping @Sendable (ClientResponse) -> Void) -> Void, logger: Logger) {
        self.submit = submit
        self.logger = logger
    }

    func channelRead(context: ChannelHandlerContext, data: NIOAny) {
        let frame = unwrapInboundIn(data)
        let channel = context.channel
        do {
            let message = try WireMessage(decoding: frame)
            switch message {
            case .request(let streamID, let request):
                submit(request) { response in
                    channel.writeAndFlush(WireMessage.response(streamID: streamID, response), promise: nil)
                }
            case .ping(let value):
                context.writeAndFlush(wrapOutboundOut(.pong(value)), promise: nil)
            case .pong:
                break
            case .error(_, let payload):
                logger.debug("client reported \(payload.remoteError); closing")
                context.close(promise: nil)
            default:
                closeWithError(channel, WireError(.unexpectedFrame, "a \(frame.kind) frame on the client port"))
            }
        } catch where error.code == .unknownMessageKind && frame.kind == .request {
            // A newer client asking for an operation this server does not know: answer, keep going.
            channel.writeAndFlush(WireMessage.response(streamID: frame.streamID, .error(.unknownOperation, message: error.reason)), promise: nil)
        } catch {
            logger.warning("client \(channel.remoteAddress.map { "\($0)" } ?? "?") sent a bad frame: \(error)")
            closeWithError(channel, error)
        }
    }

    func errorCaught(context: ChannelHandlerContext, error: any Error) {
        context.close(promise: nil)
    }
}

@available(*, unavailable)
extension ClientConnectionHandler: Sendable {}
