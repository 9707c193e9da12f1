import CairnTLS
import Foundation
import Logging
import NIOCore
import NIOPosix
import NIOSSL

/// How one side of a test connection ended.
enum SideOutcome: Sendable, CustomStringConvertible {
    /// Mutual TLS established and confirmed: a listener verified its peer, or a dialer verified its
    /// peer *and* then received the listener's greeting (proof the listener accepted it too).
    case accepted(TLSPeerAuthenticated)
    /// The side failed with this error, as classified.
    case refused(CairnTLSError)
    /// The connection closed with neither.
    case closed

    var description: String {
        switch self {
        case .accepted(let event): "accepted \(event.peer.certificate.nameList) over \(event.tlsVersion.map { "\($0)" } ?? "?")"
        case .refused(let error): "refused: \(error.code): \(error.reason)"
        case .closed: "closed"
        }
    }

    var error: CairnTLSError? {
        if case .refused(let error) = self { return error }
        return nil
    }

    var authenticated: TLSPeerAuthenticated? {
        if case .accepted(let event) = self { return event }
        return nil
    }
}

/// The last handler of a test pipeline: records the side's outcome in `promise`.
/// A listener greets an authenticated peer with one line (and closes, if asked).
final class OutcomeHandler: ChannelInboundHandler {
    typealias InboundIn = ByteBuffer
    typealias OutboundOut = ByteBuffer

    static let greeting = "welcome to cairn\n"

    private let promise: EventLoopPromise<SideOutcome>
    private let isListener: Bool
    private let closeAfterGreeting: Bool
    private let role: MutualTLSContext.Role
    private var authenticated: TLSPeerAuthenticated?

    init(promise: EventLoopPromise<SideOutcome>, role: MutualTLSContext.Role, closeAfterGreeting: Bool = false) {
        self.promise = promise
        self.role = role
        self.isListener = role.isListener
        self.closeAfterGreeting = closeAfterGreeting
    }

    func handlerAdded(context: ChannelHandlerContext) {
        let promise = self.promise
        // A generous bound: the handshake itself takes milliseconds on the event loop.
        context.eventLoop.scheduleTask(in: .seconds(60)) {
            promise.fail(TimedOut(what: "a TLS outcome"))
        }
    }

    func userInboundEventTriggered(context: ChannelHandlerContext, event: Any) {
        if let event = event as? TLSPeerAuthenticated {
            self.authenticated = event
            if self.isListener {
                self.promise.succeed(.accepted(event))
                let done = context.writeAndFlush(NIOAny(context.channel.allocator.buffer(string: Self.greeting)))
                if self.closeAfterGreeting {
                    done.assumeIsolated().whenComplete { _ in context.close(promise: nil) }
                }
            }
        }
        context.fireUserInboundEventTriggered(event)
    }

    func channelRead(context: ChannelHandlerContext, data: NIOAny) {
        if let authenticated {
            self.promise.succeed(.accepted(authenticated))
        }
    }

    func errorCaught(context: ChannelHandlerContext, error: any Error) {
        self.promise.succeed(.refused(TLSHandshakeFailure.classify(error, role: self.role)))
        context.close(promise: nil)
    }

    func channelInactive(context: ChannelHandlerContext) {
        self.promise.succeed(.closed)
        context.fireChannelInactive()
    }
}

/// A listener on 127.0.0.1 (port 0) that records the outcome of the first connection it accepts.
struct TestListener {
    let channel: any Channel
    let promise: EventLoopPromise<SideOutcome>
    var outcome: EventLoopFuture<SideOutcome> { self.promise.futureResult }

    var port: Int { self.channel.localAddress!.port! }

    /// Listens with `context` (Cairn's handlers) and logs on `log`.
    static func start(_ context: MutualTLSContext, log: CapturedLog, closeAfterGreeting: Bool = false) async throws -> TestListener {
        let group = MultiThreadedEventLoopGroup.singleton
        let promise = group.next().makePromise(of: SideOutcome.self)
        let logger = log.logger
        let bound = ServerBootstrap(group: group)
            .serverChannelOption(.socketOption(.so_reuseaddr), value: 1)
            .childChannelInitializer { channel in
                channel.eventLoop.makeCompletedFuture {
                    try context.addHandlers(to: channel.pipeline.syncOperations, logger: logger)
                    try channel.pipeline.syncOperations.addHandler(
                        OutcomeHandler(promise: promise, role: context.role, closeAfterGreeting: closeAfterGreeting)
                    )
                }
            }
            .bind(host: "127.0.0.1", port: 0)
        let channel: any Channel
        do {
            channel = try await bound.get()
        } catch {
            promise.fail(error)
            throw error
        }
        // Whatever happens the promise completes (NIO insists on it in debug builds): at stop(),
        // or after a bound long enough for a test process whose other tests hog the CPU.
        group.next().scheduleTask(in: .seconds(120)) { promise.fail(TimedOut(what: "a connection")) }
        return TestListener(channel: channel, promise: promise)
    }

    func result() async throws -> SideOutcome {
        let outcome = self.outcome
        return try await withTimeout(90, "the listener's outcome") { try await outcome.get() }
    }

    func stop() async {
        try? await self.channel.close()
        self.promise.fail(TimedOut(what: "a connection before the listener stopped"))
    }
}

enum TestDialer {
    /// Dials `port` with Cairn's handlers for `context` and returns this side's outcome.
    static func dial(_ context: MutualTLSContext, port: Int, log: CapturedLog) async throws -> SideOutcome {
        let logger = log.logger
        return try await self.dial(port: port, role: context.role) { channel in
            try context.addHandlers(to: channel.pipeline.syncOperations, logger: logger)
        }
    }

    /// Dials `port` with a bare NIOSSL client built from `configuration` (for the misbehaving
    /// clients: no certificate, a certificate of another CA, an old TLS version).
    static func dialRaw(_ configuration: TLSConfiguration, serverHostname: String?, port: Int) async throws -> SideOutcome {
        let sslContext = try NIOSSLContext(configuration: configuration)
        return try await self.dial(port: port, role: .clientDialer) { channel in
            try channel.pipeline.syncOperations.addHandler(
                NIOSSLClientHandler(context: sslContext, serverHostname: serverHostname)
            )
        }
    }

    private static func dial(
        port: Int,
        role: MutualTLSContext.Role,
        install: @escaping @Sendable (any Channel) throws -> Void
    ) async throws -> SideOutcome {
        let group = MultiThreadedEventLoopGroup.singleton
        let promise = group.next().makePromise(of: SideOutcome.self)
        let connected = ClientBootstrap(group: group)
            .channelInitializer { channel in
                channel.eventLoop.makeCompletedFuture {
                    try install(channel)
                    try channel.pipeline.syncOperations.addHandler(OutcomeHandler(promise: promise, role: role))
                }
            }
            .connect(host: "127.0.0.1", port: port)
        let channel: any Channel
        do {
            channel = try await connected.get()
        } catch {
            promise.fail(error)
            throw error
        }
        defer { channel.close(promise: nil) }
        let outcome = promise.futureResult
        return try await withTimeout(90, "the dialer's outcome") { try await outcome.get() }
    }
}
