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
    /// The client's gate: everything this connection schedules on its loop from another thread
    /// goes through it (see ``LoopGate``).
    private let gate: LoopGate

    private init(channel: any Channel, address: String, handler: ClientResponseHandler, gate: LoopGate) {
        self.channel = channel
        self.address = address
        self.handler = handler
        self.gate = gate
    }

    /// Connects, runs TLS and the preface exchange, all within `timeout`; fails if either does
    /// (`timeout` when the server accepted the connection but did not finish the handshake and
    /// the preface in time), and with `closed` if the client closes meanwhile.
    static func connect(to address: String, group: any EventLoopGroup, gate: LoopGate, tls: MutualTLSContext, logger: Logger,
                        timeout: TimeAmount) async throws -> ClientConnection {
        let target = try parse(address)
        let boxes = NIOLockedValueBox<(ClientResponseHandler, EventLoopFuture<Preface>)?>(nil)
        let loop = group.next()
        let started = NIODeadline.now()
        let bootstrap = ClientBootstrap(group: loop)
            .connectTimeout(timeout)
            .channelOption(.socketOption(.tcp_nodelay), value: 1)
            .channelInitializer { channel in
                channel.eventLoop.makeCompletedFuture {
                    let sync = channel.pipeline.syncOperations
                    try tls.addHandlers(to: sync, logger: logger)
                    // The handler does its own framing (``WireFraming``): one handler per message each way.
                    let preface = PrefaceHandler(side: .dialer(.client), eventLoop: channel.eventLoop)
                    try sync.addHandler(preface)
                    let handler = ClientResponseHandler(gate: gate)
                    try sync.addHandler(handler)
                    boxes.withLockedValue { $0 = (handler, preface.peerPreface) }
                }
            }
        var connecting: EventLoopFuture<any Channel>?
        gate.schedule(on: loop) { connecting = bootstrap.connect(host: target.host, port: target.port) }
        guard let connecting else { throw CairnClientError.clientClosed }
        let channel = try await gate.value(of: connecting)
        guard let (handler, preface) = boxes.withLockedValue({ $0 }) else {
            gate.schedule(on: loop) { channel.close(promise: nil) }
            throw CairnClientError(.unreachable, "\(address): the connection was not set up")
        }
        // The TLS handshake and the preface exchange share the dial's time with the TCP connect:
        // a server that accepts the connection and then says nothing must not hold the dial (and
        // every caller waiting for it) forever.
        let late = NIOLockedValueBox(false)
        var deadline: Scheduled<Void>?
        gate.schedule(on: loop) {
            deadline = loop.scheduleTask(deadline: started + timeout) {
                late.withLockedValue { $0 = true }
                channel.close(promise: nil)
            }
        }
        do {
            _ = try await gate.value(of: preface)
            if let deadline { gate.schedule(on: loop) { deadline.cancel() } }
        } catch {
            gate.schedule(on: loop) { channel.close(promise: nil) }
            if let closed = error as? CairnClientError, closed.code == .closed { throw closed }
            if late.withLockedValue({ $0 }) {
                throw CairnClientError(.timeout, "\(address): no TLS handshake and preface within \(timeout.nanoseconds / 1_000_000) ms of dialing")
            }
            throw handler.failure ?? CairnClientError(.unreachable, "\(address): \(error)")
        }
        return ClientConnection(channel: channel, address: address, handler: handler, gate: gate)
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

    /// Sends a request and returns the response; throws a ``CairnClientError``: `timeout`,
    /// `outcomeUnknown` when the connection drops, `closed` when the client is closed.
    func send(_ request: ClientRequest, timeout: TimeAmount) async throws -> ClientResponse {
        let loop = channel.eventLoop
        let handler = handler
        let channel = channel
        // A task running on the connection's own thread (``CairnClient/taskExecutor``) sends at once.
        if loop.inEventLoop {
            return try await withCheckedThrowingContinuation { continuation in
                handler.send(request, on: channel, timeout: timeout) { continuation.resume(with: $0) }
            }
        }
        // Otherwise one hop to the loop sends it and waits there for the answer.
        return try await withCheckedThrowingContinuation { continuation in
            let sent = gate.schedule(on: loop) {
                loop.execute {
                    handler.send(request, on: channel, timeout: timeout) { continuation.resume(with: $0) }
                }
            }
            if !sent { continuation.resume(throwing: CairnClientError.clientClosed) }
        }
    }

    /// Opens a server stream: sends `request` and routes every response the server sends on its
    /// stream id into the returned stream, buffering at most `capacity` of them. The stream
    /// finishes when the server ends it (any response other than a watch event), when the
    /// buffer overflows (the server stream is then cancelled), when ``ServerStream/cancel()`` is
    /// called, or when the connection closes; ``ServerStream/end`` then says which.
    func openStream(_ request: ClientRequest, capacity: Int) async throws -> ServerStream {
        let handler = handler
        let channel = channel
        return try await gate.run(on: channel.eventLoop) {
            handler.openStream(request, on: channel, capacity: capacity)
        }
    }

    /// Closes the connection (nothing to do once the client is closed: that closes them all).
    func close() {
        let channel = channel
        gate.schedule(on: channel.eventLoop) { channel.close(promise: nil) }
    }

    /// Closes the connection once the requests and streams already on it have finished (each
    /// gets its answer, or its own timeout), so that leaving a server that is not the leader
    /// never turns the other requests in flight on it into "outcome unknown".
    func retire() {
        let handler = handler
        let channel = channel
        let loop = channel.eventLoop
        gate.schedule(on: loop) { loop.execute { handler.retire(channel: channel) } }
    }
}

/// Why a server stream (``ClientConnection/openStream(_:capacity:)``) finished.
enum StreamEnd: Sendable, Hashable {
    /// The server ended it with this response (an error, or something other than an event).
    case server(ClientResponse)
    /// The consumer fell `capacity` events behind; the server stream was cancelled.
    case overflow
    /// The consumer cancelled it.
    case cancelled
    /// The connection closed.
    case connectionLost(CairnClientError)
}

/// One server stream of a connection, as its consumer sees it.
struct ServerStream: Sendable {
    /// The stream id on its connection.
    let streamID: UInt64
    /// The responses, in the order they arrived.
    let responses: ResponseStream.Consumer
    /// Set before ``responses`` finishes.
    let endBox: NIOLockedValueBox<StreamEnd?>
    /// Cancels the stream (sends `watchCancel` if the server still runs it).
    let cancelAction: @Sendable () -> Void

    /// Why ``responses`` finished; nil while it runs.
    var end: StreamEnd? { endBox.withLockedValue { $0 } }

    /// Stops the stream; safe to call more than once, and after it ended.
    func cancel() { cancelAction() }
}

/// The client end's application handler: keeps the pending requests of one connection. It sits
/// right after TLS and the preface exchange and does the framing itself: it splits the decrypted
/// bytes into frames (``WireFraming``), and encodes every ``WireMessage`` written on the channel
/// (``WireMessageEncoder``). A bad frame from the server is reported to it in an `error` frame,
/// and the connection closed.
final class ClientResponseHandler: ChannelDuplexHandler, @unchecked Sendable {
    typealias InboundIn = ByteBuffer
    typealias OutboundIn = WireMessage
    typealias OutboundOut = ByteBuffer

    /// A request waiting for its answer.
    private struct Pending {
        var deadline: NIODeadline
        var timeout: TimeAmount
        var completion: (Result<ClientResponse, any Error>) -> Void
    }

    private var pending: [UInt64: Pending] = [:]
    /// The one timer of the connection's requests, due at the earliest deadline among them when
    /// it was set (requests come and go far more often than any of them times out, so a timer of
    /// each would be set and cancelled for nothing).
    private var timeoutTimer: Scheduled<Void>?
    private var timerDeadline: NIODeadline?
    private var streams: [UInt64: StreamRoute] = [:]
    private var nextStream: UInt64 = 1
    private var framing = WireFraming()
    private let encoder = WireMessageEncoder()
    /// Why the connection failed, when it did (a TLS refusal, an error frame).
    private(set) var failure: CairnClientError?
    private var open = true
    /// Set by ``retire(channel:)``: close once nothing is pending.
    private var retiring = false
    private let gate: LoopGate

    init(gate: LoopGate) {
        self.gate = gate
    }

    /// The last watch event decoded, with its payload: a server sends one change to every watch
    /// of it with the same payload bytes (it encodes each event once), so the watches after the
    /// first on this connection reuse the decoded event instead of decoding it again.
    private var lastEvent: (payload: ByteBuffer, response: ClientResponse)?

    /// Must run on the channel's event loop. See ``ClientConnection/retire()``.
    func retire(channel: any Channel) {
        retiring = true
        closeIfRetiredAndIdle(channel)
    }

    private func closeIfRetiredAndIdle(_ channel: any Channel) {
        if retiring && open && pending.isEmpty && streams.isEmpty { channel.close(promise: nil) }
    }

    /// Sends `request`; `completion` gets its answer, or an error: `timeout` when none came within
    /// `timeout`, `outcomeUnknown` when the connection dropped meanwhile. Must run on the
    /// channel's event loop; `completion` is called there.
    func send(_ request: ClientRequest, on channel: any Channel, timeout: TimeAmount,
              completion: @escaping (Result<ClientResponse, any Error>) -> Void) {
        guard open else {
            completion(.failure(failure ?? CairnClientError(.unreachable, "the connection is closed")))
            return
        }
        let stream = nextStream
        nextStream += 1
        let deadline = NIODeadline.now() + timeout
        pending[stream] = Pending(deadline: deadline, timeout: timeout, completion: completion)
        if timerDeadline.map({ deadline < $0 }) ?? true { armTimeouts(at: deadline, channel: channel) }
        channel.write(WireMessage.request(streamID: stream, request), promise: nil)
        flushSoon(channel)
    }

    /// Sets the timer to `deadline` (replacing one due later).
    private func armTimeouts(at deadline: NIODeadline, channel: any Channel) {
        timeoutTimer?.cancel()
        timerDeadline = deadline
        timeoutTimer = channel.eventLoop.scheduleTask(deadline: deadline) { [self] in
            timeoutTimer = nil
            timerDeadline = nil
            expireRequests(channel: channel)
        }
    }

    /// Fails the requests whose deadline has passed, and sets the timer for the earliest left.
    private func expireRequests(channel: any Channel) {
        let now = NIODeadline.now()
        var next: NIODeadline?
        for (stream, entry) in pending {
            if entry.deadline <= now {
                pending.removeValue(forKey: stream)
                entry.completion(.failure(CairnClientError(.timeout, "no answer within \(entry.timeout.nanoseconds / 1_000_000) ms")))
            } else if next.map({ entry.deadline < $0 }) ?? true {
                next = entry.deadline
            }
        }
        if let next { armTimeouts(at: next, channel: channel) }
        closeIfRetiredAndIdle(channel)
    }

    private var flushScheduled = false

    /// Flushes once the event loop has run what is already queued: requests sent by many tasks
    /// at once leave in one flush (one TLS record batch, one syscall) instead of one each.
    private func flushSoon(_ channel: any Channel) {
        guard !flushScheduled else { return }
        flushScheduled = true
        channel.eventLoop.execute { [self] in
            flushScheduled = false
            channel.flush()
        }
    }

    /// Where the responses of one server stream go.
    private struct StreamRoute {
        let continuation: ResponseStream
        let end: NIOLockedValueBox<StreamEnd?>
    }

    /// Must run on the channel's event loop.
    func openStream(_ request: ClientRequest, on channel: any Channel, capacity: Int) -> ServerStream {
        let continuation = ResponseStream(capacity: capacity)
        let responses = ResponseStream.Consumer(continuation)
        let end = NIOLockedValueBox<StreamEnd?>(nil)
        guard open else {
            end.withLockedValue { $0 = .connectionLost(failure ?? CairnClientError(.unreachable, "the connection is closed")) }
            continuation.finish()
            return ServerStream(streamID: 0, responses: responses, endBox: end, cancelAction: {})
        }
        let stream = nextStream
        nextStream += 1
        streams[stream] = StreamRoute(continuation: continuation, end: end)
        let loop = channel.eventLoop
        let cancel: @Sendable () -> Void = { [self, gate] in
            gate.schedule(on: loop) { loop.execute { self.closeStream(stream, reason: .cancelled, on: channel) } }
        }
        continuation.setOnCancel(cancel)
        channel.writeAndFlush(WireMessage.request(streamID: stream, request), promise: nil)
        return ServerStream(streamID: stream, responses: responses, endBox: end, cancelAction: cancel)
    }

    /// Ends a stream the server still runs: finishes it for the consumer and asks the server to
    /// stop (its answer is not awaited). Must run on the event loop.
    private func closeStream(_ stream: UInt64, reason: StreamEnd, on channel: any Channel) {
        guard let route = streams.removeValue(forKey: stream) else { return }
        route.end.withLockedValue { if $0 == nil { $0 = reason } }
        route.continuation.finish()
        guard open else { return }
        let cancelStream = nextStream
        nextStream += 1
        channel.writeAndFlush(WireMessage.request(streamID: cancelStream, .watchCancel(streamID: stream)), promise: nil)
    }

    /// Routes a response that belongs to no pending request to its server stream, if any.
    private func route(_ response: ClientResponse, stream: UInt64, channel: any Channel) {
        guard let route = streams[stream] else { return }
        guard case .watchEvent = response else {
            streams.removeValue(forKey: stream)
            route.end.withLockedValue { if $0 == nil { $0 = .server(response) } }
            route.continuation.finish()
            return
        }
        switch route.continuation.yield(response) {
        case .enqueued:
            break
        case .dropped:
            closeStream(stream, reason: .overflow, on: channel)
        case .terminated:
            closeStream(stream, reason: .cancelled, on: channel)
        }
    }

    /// Decodes `frame`, reusing the last decoded watch event when the payload is the same.
    private func decode(_ frame: Frame) throws(WireError) -> WireMessage {
        if frame.kind == .response, let last = lastEvent, last.payload == frame.payload {
            // (The frame decoder already checked the stream id.)
            return .response(streamID: frame.streamID, last.response)
        }
        let message = try WireMessage(decoding: frame)
        if case .response(_, let response) = message, case .watchEvent = response {
            lastEvent = (frame.payload, response)
        }
        return message
    }

    func channelRead(context: ChannelHandlerContext, data: NIOAny) {
        guard failure == nil else { return }
        framing.append(unwrapInboundIn(data))
        do {
            while failure == nil, let frame = try framing.next() {
                handle(frame, context: context)
            }
        } catch {
            fail(context, CairnClientError(.protocolViolation, "the server sent a bad frame: \(error)"), report: error)
        }
    }

    private func handle(_ frame: Frame, context: ChannelHandlerContext) {
        do {
            switch try decode(frame) {
            case .response(let stream, let response):
                if let entry = pending.removeValue(forKey: stream) {
                    entry.completion(.success(response))
                } else {
                    route(response, stream: stream, channel: context.channel)
                }
                closeIfRetiredAndIdle(context.channel)
            case .error(_, let payload):
                failure = CairnClientError(.protocolViolation, "the server closed the connection: \(payload.remoteError)")
                context.close(promise: nil)
            case .ping(let value):
                context.channel.writeAndFlush(WireMessage.pong(value), promise: nil)
            default:
                break
            }
        } catch {
            fail(context, CairnClientError(.protocolViolation, "the server sent a bad frame: \(error)"), report: error)
        }
    }

    /// Encodes each message written on the channel into its frame. A request that cannot be
    /// encoded (too large for a frame) fails with ``CairnClientError/Code/requestTooLarge``; since
    /// none of its bytes were written, the connection goes on. Anything else that cannot be
    /// encoded fails the connection.
    func write(context: ChannelHandlerContext, data: NIOAny, promise: EventLoopPromise<Void>?) {
        let message = unwrapOutboundIn(data)
        do {
            let bytes = try encoder.encoded(message, allocator: context.channel.allocator)
            context.write(wrapOutboundOut(bytes), promise: promise)
        } catch {
            promise?.fail(error)
            if case .request(let stream, _) = message, let entry = pending.removeValue(forKey: stream) {
                entry.completion(.failure(CairnClientError(.requestTooLarge, "the request was not sent: \(error.reason)")))
                closeIfRetiredAndIdle(context.channel)
                return
            }
            fail(context, CairnClientError(.protocolViolation, "a request could not be encoded: \(error)"), report: nil)
        }
    }

    /// Records why the connection failed, tells the server what it did wrong in an `error` frame
    /// (`report`), and closes.
    private func fail(_ context: ChannelHandlerContext, _ reason: CairnClientError, report: WireError?) {
        guard failure == nil else { return }
        failure = reason
        let channel = context.channel
        guard let report else {
            context.close(promise: nil)
            return
        }
        context.writeAndFlush(wrapOutboundOut(WireFraming.errorFrame(report, allocator: channel.allocator))).whenComplete { _ in
            channel.close(promise: nil)
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
        timeoutTimer?.cancel()
        timeoutTimer = nil
        timerDeadline = nil
        for (_, entry) in waiting {
            entry.completion(.failure(CairnClientError(.outcomeUnknown, "the connection to the server was lost with the request in flight")))
        }
        let routes = streams
        streams.removeAll()
        let lost = failure ?? CairnClientError(.unreachable, "the connection to the server was lost")
        for (_, route) in routes {
            route.end.withLockedValue { if $0 == nil { $0 = .connectionLost(lost) } }
            route.continuation.finish()
        }
        context.fireChannelInactive()
    }
}
