import CairnTLS
import CairnWire
import Logging
import NIOConcurrencyHelpers
import NIOCore
import NIOPosix

/// One mutual-TLS connection to a server, carrying many requests at once: each gets a stream id,
/// and responses are matched to requests by it, in whatever order they come back.
final class ClientConnection: @unchecked Sendable {
    let channel: any Channel
    let address: String
    private let handler: ClientResponseHandler

    private init(channel: any Channel, address: String, handler: ClientResponseHandler) {
        self.channel = channel
        self.address = address
        self.handler = handler
    }

    /// Connects, runs TLS and the preface exchange; fails if either does.
    static func connect(to address: String, group: any EventLoopGroup, tls: MutualTLSContext, logger: Logger,
                        timeout: TimeAmount) async throws -> ClientConnection {
        let target = try parse(address)
        let boxes = NIOLockedValueBox<(ClientResponseHandler, EventLoopFuture<Preface>)?>(nil)
        let channel = try await ClientBootstrap(group: group)
            .connectTimeout(timeout)
            .channelOption(.socketOption(.tcp_nodelay), value: 1)
            .channelInitializer { channel in
                channel.eventLoop.makeCompletedFuture {
                    let sync = channel.pipeline.syncOperations
                    try tls.addHandlers(to: sync, logger: logger)
                    let preface = try sync.addCairnWireHandlers(side: .dialer(.client), eventLoop: channel.eventLoop)
                    let handler = ClientResponseHandler()
                    try sync.addHandler(handler)
                    boxes.withLockedValue { $0 = (handler, preface.peerPreface) }
                }
            }
            .connect(host: target.host, port: target.port).get()
        guard let (handler, preface) = boxes.withLockedValue({ $0 }) else {
            channel.close(promise: nil)
            throw CairnClientError(.unreachable, "\(address): the connection was not set up")
        }
        do {
            _ = try await preface.get()
        } catch {
            channel.close(promise: nil)
            throw handler.failure ?? CairnClientError(.unreachable, "\(address): \(error)")
        }
        return ClientConnection(channel: channel, address: address, handler: handler)
    }

    private static func parse(_ address: String) throws -> (host: String, port: Int) {
        guard let colon = address.lastIndex(of: ":"), let port = Int(address[address.index(after: colon)...]),
              (1...65_535).contains(port) else {
            throw CairnClientError(.unreachable, "\"\(address)\" is not host:port")
        }
        var host = String(address[..<colon])
        if host.hasPrefix("[") && host.hasSuffix("]") { host = String(host.dropFirst().dropLast()) }
        return (host, port)
    }

    var isActive: Bool { channel.isActive }

    /// Sends a request; the future completes with the response, or fails with a
    /// ``CairnClientError`` (`timeout`, or `outcomeUnknown` when the connection drops).
    func send(_ request: ClientRequest, timeout: TimeAmount) -> EventLoopFuture<ClientResponse> {
        let loop = channel.eventLoop
        let handler = handler
        let channel = channel
        return loop.flatSubmit {
            handler.send(request, on: channel, timeout: timeout)
        }
    }

    func close() {
        channel.close(promise: nil)
    }
}

/// The client end's application handler: keeps the pending requests of one connection.
final class ClientResponseHandler: ChannelInboundHandler, @unchecked Sendable {
    typealias InboundIn = Frame
    typealias OutboundOut = WireMessage

    private var pending: [UInt64: (promise: EventLoopPromise<ClientResponse>, timeout: Scheduled<Void>)] = [:]
    private var nextStream: UInt64 = 1
    /// Why the connection failed, when it did (a TLS refusal, an error frame).
    private(set) var failure: CairnClientError?
    private var open = true

    /// Must run on the channel's event loop.
    func send(_ request: ClientRequest, on channel: any Channel, timeout: TimeAmount) -> EventLoopFuture<ClientResponse> {
        let promise = channel.eventLoop.makePromise(of: ClientResponse.self)
        guard open else {
            promise.fail(failure ?? CairnClientError(.unreachable, "the connection is closed"))
            return promise.futureResult
        }
        let stream = nextStream
        nextStream += 1
        let scheduled = channel.eventLoop.scheduleTask(in: timeout) { [self] in
            if let entry = pending.removeValue(forKey: stream) {
                entry.promise.fail(CairnClientError(.timeout, "no answer within \(timeout.nanoseconds / 1_000_000) ms"))
            }
        }
        pending[stream] = (promise, scheduled)
        channel.writeAndFlush(WireMessage.request(streamID: stream, request), promise: nil)
        return promise.futureResult
    }

    func channelRead(context: ChannelHandlerContext, data: NIOAny) {
        let frame = unwrapInboundIn(data)
        do {
            switch try WireMessage(decoding: frame) {
            case .response(let stream, let response):
                if let entry = pending.removeValue(forKey: stream) {
                    entry.timeout.cancel()
                    entry.promise.succeed(response)
                }
            case .error(_, let payload):
                failure = CairnClientError(.protocolViolation, "the server closed the connection: \(payload.remoteError)")
                context.close(promise: nil)
            case .ping(let value):
                context.writeAndFlush(wrapOutboundOut(.pong(value)), promise: nil)
            default:
                break
            }
        } catch {
            failure = CairnClientError(.protocolViolation, "the server sent a bad frame: \(error)")
            context.close(promise: nil)
        }
    }

    func errorCaught(context: ChannelHandlerContext, error: any Error) {
        if failure == nil {
            if let tls = error as? CairnTLSError {
                failure = CairnClientError(.tls, "TLS: \(tls.reason)")
            } else {
                failure = CairnClientError(.unreachable, "\(error)")
            }
        }
        context.close(promise: nil)
    }

    func channelInactive(context: ChannelHandlerContext) {
        open = false
        let waiting = pending
        pending.removeAll()
        for (_, entry) in waiting {
            entry.timeout.cancel()
            entry.promise.fail(CairnClientError(.outcomeUnknown, "the connection to the server was lost with the request in flight"))
        }
        context.fireChannelInactive()
    }
}
