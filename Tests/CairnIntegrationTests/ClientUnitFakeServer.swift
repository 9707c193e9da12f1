import CairnClient
import CairnTLS
import CairnWire
import Foundation
import Logging
import NIOConcurrencyHelpers
import NIOCore
import NIOPosix

/// Test support: a scripted stand-in for a Cairn server on 127.0.0.1 — real mutual TLS and the
/// real wire codec, but every answer comes from the test's `script`. It records each request it
/// receives, so tests can check what the client library sent (resume indexes, cancels).
final class FakeCairnServer: @unchecked Sendable {
    /// One request as the server received it.
    struct Received: Sendable, Hashable {
        /// Which connection (1 for the first accepted, 2 for the next…).
        var connection: Int
        var streamID: UInt64
        var request: ClientRequest
    }

    /// The server end of one client connection, for the script to answer on.
    struct Connection: Sendable {
        let number: Int
        let channel: any Channel

        func send(_ streamID: UInt64, _ response: ClientResponse) {
            channel.writeAndFlush(WireMessage.response(streamID: streamID, response), promise: nil)
        }

        func close() {
            channel.close(promise: nil)
        }

        /// Writes `bytes` as they are, past the frame encoder (a broken server).
        func sendRaw(_ bytes: [UInt8]) {
            let channel = channel
            channel.eventLoop.execute {
                guard let encoder = try? channel.pipeline.syncOperations.context(handlerType: MessageToByteHandler<WireMessageEncoder>.self) else { return }
                var buffer = channel.allocator.buffer(capacity: bytes.count)
                buffer.writeBytes(bytes)
                encoder.writeAndFlush(NIOAny(buffer), promise: nil)
            }
        }
    }

    typealias Script = @Sendable (Connection, UInt64, ClientRequest) -> Void

    let root: String
    let address: String
    private let group = MultiThreadedEventLoopGroup(numberOfThreads: 1)
    private let channel: any Channel
    private let received = NIOLockedValueBox<[Received]>([])
    private let reports = NIOLockedValueBox<[ErrorPayload]>([])
    private let accepted = NIOLockedValueBox(0)
    private let configuration: ClientConfiguration

    /// Starts a server whose answers come from `script` (called on the server's event loop).
    init(script: @escaping Script) async throws {
        root = FileManager.default.temporaryDirectory.appendingPathComponent("cairn-fake-\(UUID().uuidString.prefix(8))").path
        try FileManager.default.createDirectory(atPath: root, withIntermediateDirectories: true)
        let cluster = try ClusterName(datacenter: "dc1")
        let dir = CertificateDirectory(root)
        let ca = try CertificateAuthority.create(validity: .days(1))
        try dir.saveCA(ca)
        let server = try ca.issue(LeafCertificateRequest(kind: .server, cluster: cluster, additionalIPAddresses: [try IPAddress("127.0.0.1")],
                                                         validity: .days(1)))
        try dir.saveLeaf(server, kind: .server, cluster: cluster)
        try dir.saveLeaf(try ca.issue(LeafCertificateRequest(kind: .cli, cluster: cluster, validity: .days(1))), kind: .cli, cluster: cluster)
        let tls = try MutualTLSContext.clientListener(identity: try TLSIdentity(authority: ca, issued: server))
        let logger = Logger(label: "fake-cairn")
        let received = received
        let reports = reports
        let connections = accepted
        channel = try await ServerBootstrap(group: group)
            .serverChannelOption(.socketOption(.so_reuseaddr), value: 1)
            .childChannelInitializer { channel in
                channel.eventLoop.makeCompletedFuture {
                    let number = connections.withLockedValue { $0 += 1; return $0 }
                    let sync = channel.pipeline.syncOperations
                    try tls.addHandlers(to: sync, logger: logger)
                    _ = try sync.addCairnWireHandlers(side: .acceptor(accepting: [.client]), eventLoop: channel.eventLoop)
                    try sync.addHandler(ScriptHandler(connection: Connection(number: number, channel: channel), received: received, reports: reports, script: script))
                }
            }
            .bind(host: "127.0.0.1", port: 0).get()
        address = "127.0.0.1:\(channel.localAddress?.port ?? 0)"
        var configuration = ClientConfiguration(addresses: [address], caFile: root + "/cairn-agent-ca.pem",
                                                certificateFile: root + "/dc1-cli-cairn-0.pem", keyFile: root + "/dc1-cli-cairn-0-key.pem")
        configuration.requestTimeout = .seconds(5)
        self.configuration = configuration
    }

    /// A client of this server.
    func client() throws -> CairnClient {
        try CairnClient(configuration: configuration)
    }

    /// A client of this server whose requests time out after `requestTimeout`, tried once.
    func client(requestTimeout: Duration) throws -> CairnClient {
        var configured = configuration
        configured.requestTimeout = requestTimeout
        configured.maxAttempts = 1
        return try CairnClient(configuration: configured)
    }

    /// A client of this server that lists `before` first (addresses nothing listens on, say).
    func client(listing before: [String]) throws -> CairnClient {
        var listed = configuration
        listed.addresses = before + configuration.addresses
        return try CairnClient(configuration: listed)
    }

    /// How many client connections were accepted so far.
    var connectionsAccepted: Int { accepted.withLockedValue { $0 } }

    /// Every request received so far, in arrival order.
    var requests: [Received] { received.withLockedValue { $0 } }

    /// The `error` frames clients sent, in arrival order.
    var errorReports: [ErrorPayload] { reports.withLockedValue { $0 } }

    /// The `watch` requests received so far: their target and index.
    var watches: [(target: WatchTarget, fromIndex: UInt64)] {
        requests.compactMap { if case .watch(let target, let index) = $0.request { return (target, index) } else { return nil } }
    }

    /// Polls until `condition` holds for the received requests, or 10 s pass.
    func waitFor(_ what: String, _ condition: ([Received]) -> Bool) async throws {
        try await waitUntil(what, saw: { "\(self.requests.map(\.request))" }) { condition(self.requests) }
    }

    /// Polls until `condition` holds for the `error` frames clients sent, or 10 s pass.
    func waitForReports(_ what: String, _ condition: ([ErrorPayload]) -> Bool) async throws {
        try await waitUntil(what, saw: { "\(self.errorReports)" }) { condition(self.errorReports) }
    }

    private func waitUntil(_ what: String, saw: () -> String, _ condition: () -> Bool) async throws {
        let deadline = ContinuousClock.now + .seconds(10)
        while ContinuousClock.now < deadline {
            if condition() { return }
            try await Task.sleep(for: .milliseconds(10))
        }
        throw FixtureError("the fake server never saw \(what); it saw \(saw())")
    }

    func shutdown() async {
        try? await channel.close()
        try? await group.shutdownGracefully()
        try? FileManager.default.removeItem(atPath: root)
    }

    /// Records and scripts the requests of one connection.
    private final class ScriptHandler: ChannelInboundHandler {
        typealias InboundIn = Frame
        let connection: Connection
        let received: NIOLockedValueBox<[Received]>
        let reports: NIOLockedValueBox<[ErrorPayload]>
        let script: Script

        init(connection: Connection, received: NIOLockedValueBox<[Received]>, reports: NIOLockedValueBox<[ErrorPayload]>,
             script: @escaping Script) {
            self.connection = connection
            self.received = received
            self.reports = reports
            self.script = script
        }

        func channelRead(context: ChannelHandlerContext, data: NIOAny) {
            let message = try? WireMessage(decoding: unwrapInboundIn(data))
            if case .error(_, let payload)? = message { reports.withLockedValue { $0.append(payload) } }
            guard case .request(let stream, let request)? = message else { return }
            // Recorded before the script answers, so a client that got the answer finds it recorded.
            received.withLockedValue { $0.append(Received(connection: connection.number, streamID: stream, request: request)) }
            script(connection, stream, request)
        }
    }
}

/// A watch event on key `key` (nil session: the key is free).
func keyEvent(_ index: UInt64, key: String = "k", session: String? = "", snapshot: Bool = false, value: String = "") -> WatchEvent {
    let entry = session.map { KVEntry(key: key, value: Array(value.utf8), createIndex: 1, modifyIndex: index, lockIndex: 1, session: $0) }
    return WatchEvent(index: index, payload: .keys([KVChange(key: key, entry: entry)], snapshot: snapshot))
}

/// Read metadata at `index` from a leader.
func meta(_ index: UInt64) -> ReadMeta { ReadMeta(index: index, knownLeader: true, lastContactMilliseconds: 0) }
