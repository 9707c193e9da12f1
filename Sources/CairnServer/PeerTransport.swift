import CairnRaft
import CairnTLS
import CairnWire
import Logging
import NIOConcurrencyHelpers
import NIOCore
import NIOPosix

/// The server-to-server network: a mutual-TLS listener and one long-lived connection per pair of
/// servers, carrying pipelined Raft messages.
///
/// Every server dials the addresses it knows (`--retry-join` and peers learned since) with
/// exponential backoff; both ends introduce themselves with a ``PeerHello``. When two servers dial
/// each other at the same time, both keep the connection dialed by the lower node id and close the
/// other, so each pair ends up with exactly one.
public final class PeerTransport: PeerMessageSink, @unchecked Sendable {
    struct Connection {
        var channel: any Channel
        var dialedByUs: Bool
        var hello: PeerHello
    }

    private let group: any EventLoopGroup
    private let listenerTLS: MutualTLSContext
    private let dialerTLS: MutualTLSContext
    private let logger: Logger
    private let lock = NIOLock()
    private var connections: [NodeID: Connection] = [:]
    private var addressOwners: [String: NodeID] = [:]
    private var dialing: Set<String> = []
    private var closed = false
    private var listener: (any Channel)?
    private var hello: PeerHello
    private var onMessage: (@Sendable (Message) -> Void)?
    private var onHello: (@Sendable (PeerHello) -> Void)?

    /// Creates the transport; nothing runs until ``listen(on:)`` and ``dial(_:)``. Give it the
    /// consensus loop's event loop as `group`, so that Raft messages never change threads.
    public init(group: any EventLoopGroup, listenerTLS: MutualTLSContext, dialerTLS: MutualTLSContext, hello: PeerHello, logger: Logger) {
        self.group = group
        self.listenerTLS = listenerTLS
        self.dialerTLS = dialerTLS
        self.hello = hello
        self.logger = logger
    }

    /// Where received Raft messages go (the consensus loop), and who hears of every peer hello.
    public func attach(onMessage: @escaping @Sendable (Message) -> Void, onHello: @escaping @Sendable (PeerHello) -> Void) {
        lock.withLock {
            self.onMessage = onMessage
            self.onHello = onHello
        }
    }

    /// Updates what this server says about itself to peers connecting from now on.
    public func updateHello(hasState: Bool) {
        lock.withLock { hello.hasState = hasState }
    }

    /// Starts the peer listener; returns the bound address.
    public func listen(on address: HostPort) async throws -> SocketAddress {
        let tls = listenerTLS
        let logger = logger
        let channel = try await ServerBootstrap(group: group)
            .serverChannelOption(.socketOption(.so_reuseaddr), value: 1)
            .childChannelOption(.socketOption(.tcp_nodelay), value: 1)
            .childChannelInitializer { [self] channel in
                channel.eventLoop.makeCompletedFuture {
                    let handler = PeerConnectionHandler(transport: self, dialedByUs: false, logger: logger)
                    let preface = try WirePipeline.configure(channel, tls: tls, side: .acceptor(accepting: [.peer]), logger: logger, application: handler)
                    handler.prefaceDone = preface.peerPreface
                }
            }
            .bind(host: address.host, port: address.port).get()
        lock.withLock { listener = channel }
        return channel.localAddress!
    }

    /// Keeps a connection to `address` up: dials with backoff until connected, and again whenever
    /// the connection drops, until the transport closes. Dialing an address already being dialed
    /// does nothing.
    public func dial(_ address: String) {
        let start: Bool = lock.withLock {
            guard !closed, !dialing.contains(address) else { return false }
            dialing.insert(address)
            return true
        }
        guard start, let target = try? HostPort.parse(address, flag: "peer") else { return }
        let eventLoop = group.next()
        scheduleDial(address: address, target: target, delay: .zero, backoff: .milliseconds(50), on: eventLoop)
    }

    private func scheduleDial(address: String, target: HostPort, delay: TimeAmount, backoff: TimeAmount, on eventLoop: any EventLoop) {
        eventLoop.scheduleTask(in: delay) { [self] in
            guard !lock.withLock({ closed }) else { return }
            // Already connected to whoever owns this address: look again later.
            let owner = lock.withLock { addressOwners[address].flatMap { connections[$0] } }
            if owner != nil {
                scheduleDial(address: address, target: target, delay: .milliseconds(500), backoff: .milliseconds(50), on: eventLoop)
                return
            }
            let tls = dialerTLS
            let logger = logger
            ClientBootstrap(group: eventLoop)
                .connectTimeout(.seconds(2))
                .channelOption(.socketOption(.tcp_nodelay), value: 1)
                .channelInitializer { channel in
                    channel.eventLoop.makeCompletedFuture {
                        let handler = PeerConnectionHandler(transport: self, dialedByUs: true, logger: logger)
                        let preface = try WirePipeline.configure(channel, tls: tls, side: .dialer(.peer), logger: logger, application: handler)
                        handler.prefaceDone = preface.peerPreface
                    }
                }
                .connect(host: target.host, port: target.port)
                .whenComplete { [self] result in
                    switch result {
                    case .success(let channel):
                        channel.closeFuture.whenComplete { [self] _ in
                            scheduleDial(address: address, target: target, delay: .milliseconds(100), backoff: .milliseconds(50), on: eventLoop)
                        }
                    case .failure:
                        let next = TimeAmount.nanoseconds(min(backoff.nanoseconds * 2, TimeAmount.seconds(2).nanoseconds))
                        let jitter = TimeAmount.nanoseconds(Int64.random(in: 0...max(1, backoff.nanoseconds / 2)))
                        scheduleDial(address: address, target: target, delay: backoff + jitter, backoff: next, on: eventLoop)
                    }
                }
        }
    }

    /// Called by a connection once the remote introduced itself. Returns false when the
    /// connection must be closed (a duplicate, or a server of another datacenter).
    func register(_ remote: PeerHello, channel: any Channel, dialedByUs: Bool) -> Bool {
        let (ours, keep, replaced, handler): (PeerHello, Bool, (any Channel)?, (@Sendable (PeerHello) -> Void)?) = lock.withLock {
            let ours = hello
            guard remote.datacenter == ours.datacenter, remote.id != ours.id, !closed else { return (ours, false, nil, nil) }
            addressOwners[remote.peerAddress] = remote.id
            if let existing = connections[remote.id], existing.channel !== channel, existing.channel.isActive {
                // Keep the connection dialed by the lower id.
                let preferOurs = ours.id < remote.id
                let existingPreferred = existing.dialedByUs == preferOurs
                if existingPreferred { return (ours, false, nil, onHello) }
                connections[remote.id] = Connection(channel: channel, dialedByUs: dialedByUs, hello: remote)
                return (ours, true, existing.channel, onHello)
            }
            connections[remote.id] = Connection(channel: channel, dialedByUs: dialedByUs, hello: remote)
            return (ours, true, nil, onHello)
        }
        if remote.datacenter != ours.datacenter {
            logger.warning("peer \(remote.name) at \(remote.peerAddress) is in datacenter \(remote.datacenter), not \(ours.datacenter): refused")
        }
        replaced?.close(promise: nil)
        handler?(remote)
        if keep { logger.info("connected to peer \(remote.name) (id \(remote.id)) at \(remote.peerAddress)") }
        return keep
    }

    func unregister(_ id: NodeID, channel: any Channel) {
        let removed: Bool = lock.withLock {
            guard let existing = connections[id], existing.channel === channel else { return false }
            connections[id] = nil
            return true
        }
        if removed { logger.info("lost the connection to peer \(id)") }
    }

    func deliver(_ message: Message) {
        lock.withLock { onMessage }?(message)
    }

    var ownHello: PeerHello { lock.withLock { hello } }

    /// Sends `messages`, each peer's in one buffer (one TLS record, one `write`), in order.
    /// A message the encoder refuses (a frame above the receiver's limit) is not sent and is
    /// logged (Raft keeps appends far below it; the follower asks again for what it misses).
    public func send(_ messages: [Message]) {
        var batches: [(peer: NodeID, bytes: ByteBuffer)] = []
        for m in messages {
            let k: Int
            if let found = batches.firstIndex(where: { $0.peer == m.to }) {
                k = found
            } else {
                batches.append((m.to, Self.allocator.buffer(capacity: 512)))
                k = batches.count - 1
            }
            do {
                try Self.encoder.encode(.raft(m), into: &batches[k].bytes)
            } catch {
                logger.error("a raft message to peer \(m.to) was not sent: \(error)")
            }
        }
        let channels = lock.withLock { batches.map { connections[$0.peer]?.channel } }
        for (batch, channel) in zip(batches, channels) {
            guard let channel, batch.bytes.readableBytes > 0 else { continue }
            // The consensus loop runs on the peer connections' event loop: write now, so an
            // append leaves before the leader's own write starts in the same turn.
            if channel.eventLoop.inEventLoop {
                channel.writeAndFlush(batch.bytes, promise: nil)
            } else {
                let bytes = batch.bytes
                channel.eventLoop.execute { channel.writeAndFlush(bytes, promise: nil) }
            }
        }
    }

    private static let allocator = ByteBufferAllocator()
    static let encoder = WireMessageEncoder()

    public func isReachable(_ id: NodeID) -> Bool {
        lock.withLock { connections[id]?.channel.isActive ?? false }
    }

    /// The peers currently connected.
    public var connectedPeers: [PeerHello] {
        lock.withLock { connections.values.map(\.hello) }
    }

    /// Stops dialing, closes the listener and every connection.
    public func close() async {
        let (listener, channels): ((any Channel)?, [any Channel]) = lock.withLock {
            closed = true
            return (self.listener, connections.values.map(\.channel))
        }
        try? await listener?.close()
        for channel in channels { try? await channel.close() }
    }
}

/// One peer connection's application handler: hello exchange, then Raft messages. It sits right
/// after TLS (and the preface exchange), splits the decrypted bytes into frames itself, and writes
/// encoded frames: one handler of ours per message each way. A protocol violation is answered
/// with an `error` frame, and the connection closed.
final class PeerConnectionHandler: ChannelInboundHandler {
    typealias InboundIn = ByteBuffer
    typealias OutboundOut = ByteBuffer

    private let transport: PeerTransport
    private let dialedByUs: Bool
    private let logger: Logger
    private var remote: PeerHello?
    private var framing = WireFraming()
    private var failed = false
    var prefaceDone: EventLoopFuture<Preface>?

    init(transport: PeerTransport, dialedByUs: Bool, logger: Logger) {
        self.transport = transport
        self.dialedByUs = dialedByUs
        self.logger = logger
    }

    func handlerAdded(context: ChannelHandlerContext) {}

    func channelActive(context: ChannelHandlerContext) {
        let channel = context.channel
        let hello = transport.ownHello
        let logger = logger
        prefaceDone?.whenSuccess { _ in
            Self.writeAndFlush(.peerHello(hello), to: channel, logger: logger)
        }
        context.fireChannelActive()
    }

    func channelRead(context: ChannelHandlerContext, data: NIOAny) {
        guard !failed else { return }
        framing.append(unwrapInboundIn(data))
        do {
            while !failed, let frame = try framing.next() {
                handle(try WireMessage(decoding: frame), context: context)
            }
        } catch {
            fail(context, error)
        }
    }

    private func handle(_ message: WireMessage, context: ChannelHandlerContext) {
        switch message {
        case .peerHello(let hello):
            guard remote == nil else {
                fail(context, WireError(.unexpectedFrame, "a second peerHello on one connection"))
                return
            }
            remote = hello
            if !transport.register(hello, channel: context.channel, dialedByUs: dialedByUs) {
                failed = true
                context.close(promise: nil)
            }
        case .raft(let m):
            guard let remote, m.from == remote.id else {
                fail(context, WireError(.unexpectedFrame, "a raft message before the peerHello, or from another node"))
                return
            }
            transport.deliver(m)
        case .ping(let value):
            Self.writeAndFlush(.pong(value), to: context.channel, logger: logger)
        case .pong:
            break
        case .error(_, let payload):
            logger.warning("peer \(remote?.name ?? "?") reported: \(payload.remoteError)")
            failed = true
            context.close(promise: nil)
        case .request, .response, .encodedResponse, .responseFrames:
            fail(context, WireError(.unexpectedFrame, "client frames are not allowed on the peer port"))
        }
    }

    /// Reports `error` to the other side in an `error` frame, then closes; reads stop here.
    private func fail(_ context: ChannelHandlerContext, _ error: WireError) {
        guard !failed else { return }
        failed = true
        logger.warning("peer \(remote?.name ?? "?") broke the protocol: \(error)")
        let channel = context.channel
        context.writeAndFlush(wrapOutboundOut(WireFraming.errorFrame(error, allocator: context.channel.allocator))).whenComplete { _ in
            channel.close(promise: nil)
        }
    }


    /// Encodes a connection-level message (a hello, a pong) and sends it; one the encoder refuses
    /// is logged and closes the connection.
    private static func writeAndFlush(_ message: WireMessage, to channel: any Channel, logger: Logger) {
        do {
            channel.writeAndFlush(try PeerTransport.encoder.encoded(message, allocator: channel.allocator), promise: nil)
        } catch {
            logger.error("a \(message.kind) frame to a peer could not be encoded (\(error)); closing the connection")
            channel.close(promise: nil)
        }
    }

    func channelInactive(context: ChannelHandlerContext) {
        if let remote { transport.unregister(remote.id, channel: context.channel) }
        if framing.bufferedBytes > 0, !failed {
            logger.debug("peer \(remote?.name ?? "?") closed the connection inside a frame (\(framing.bufferedBytes) bytes)")
        }
        context.fireChannelInactive()
    }

    func errorCaught(context: ChannelHandlerContext, error: any Error) {
        // TLS failures were logged by the TLS reporter.
        context.close(promise: nil)
    }
}

@available(*, unavailable)
extension PeerConnectionHandler: Sendable {}
