import CairnRaft
import CairnTLS
import CairnWire
import Dispatch
import Foundation
import Logging
import ServiceLifecycle
import NIOCore
import NIOPosix

/// A running `cairn agent`: listeners, the peer transport, the consensus loop and their lifecycle.
public final class Agent: @unchecked Sendable {
    public let configuration: AgentConfiguration
    public let nodeID: NodeID
    public private(set) var peerAddress: SocketAddress?
    public private(set) var clientAddress: SocketAddress?

    let logger: Logger
    /// Health probes, and client connections unless they share the consensus thread
    /// (``AgentConfiguration/effectiveClientThreads`` is 0).
    private let group: MultiThreadedEventLoopGroup
    /// One thread for the consensus loop and the peer connections (see ``ConsensusLoop``).
    private let consensusGroup: MultiThreadedEventLoopGroup
    private var transport: PeerTransport!
    private var clients: ClientListener!
    private let state = AgentState()
    private var tickTask: RepeatedTask?

    /// Loads the node id (creating it on first start) and the TLS identity; binds nothing yet.
    public init(configuration: AgentConfiguration, logger: Logger) throws {
        self.configuration = configuration
        self.logger = logger
        try FileManager.default.createDirectory(atPath: configuration.dataDirectory, withIntermediateDirectories: true)
        self.nodeID = try Self.loadNodeID(dataDirectory: configuration.dataDirectory)
        self.group = MultiThreadedEventLoopGroup(numberOfThreads: max(1, configuration.effectiveClientThreads))
        self.consensusGroup = MultiThreadedEventLoopGroup(numberOfThreads: 1)
    }

    /// Runs an agent until SIGINT or SIGTERM, then shuts it down cleanly: the agent is a
    /// `Service` in a `ServiceGroup` that turns either signal into a graceful shutdown.
    public static func run(configuration: AgentConfiguration) async throws {
        var logger = Logger(label: "cairn.\(configuration.nodeName)")
        logger.logLevel = Logger.Level(rawValue: configuration.logLevel) ?? .info
        let agent = try Agent(configuration: configuration, logger: logger)
        let group = ServiceGroup(configuration: .init(
            services: [.init(service: AgentService(agent: agent), successTerminationBehavior: .gracefullyShutdownGroup)],
            gracefulShutdownSignals: [.sigterm, .sigint], logger: logger))
        try await group.run()
        logger.info("stopped")
    }

    /// Binds the listeners, starts dialing peers and, once it knows whom to bootstrap with (or
    /// finds existing state), the consensus loop.
    public func start() async throws {
        let identity: TLSIdentity
        do {
            identity = try TLSIdentity(caFile: configuration.caFile, certificateFile: configuration.certFile, keyFile: configuration.keyFile)
        } catch let error as CairnTLSError {
            throw AgentConfiguration.Problem(error.reason)
        }
        let dc = configuration.datacenter
        let peerListenerTLS: MutualTLSContext, peerDialerTLS: MutualTLSContext, clientTLS: MutualTLSContext
        do {
            peerListenerTLS = try MutualTLSContext.peerListener(identity: identity, datacenter: dc)
            peerDialerTLS = try MutualTLSContext.peerDialer(identity: identity, datacenter: dc)
            clientTLS = try MutualTLSContext.clientListener(identity: identity)
        } catch let error as CairnTLSError {
            throw AgentConfiguration.Problem(error.reason)
        }
        let bind = try HostPort.parse(configuration.bindAddress, flag: "--bind")
        let clientBind = try HostPort.parse(configuration.clientAddress, flag: "--client-addr")
        let hasState = ConsensusLoop.hasState(dataDirectory: configuration.dataDirectory)
        let hello = PeerHello(id: nodeID, name: configuration.nodeName, datacenter: dc, peerAddress: configuration.bindAddress,
                              clientAddress: configuration.clientAddress, bootstrapExpect: UInt32(configuration.bootstrapExpect),
                              hasState: hasState)
        transport = PeerTransport(group: consensusGroup, listenerTLS: peerListenerTLS, dialerTLS: peerDialerTLS, hello: hello, logger: logger)
        clients = ClientListener(group: configuration.effectiveClientThreads == 0 ? consensusGroup : group, tls: clientTLS, logger: logger) { [state] input in
            if let loop = state.loop { return loop.submit(input) }
            let message = "this server has not joined a cluster yet"
            switch input {
            case .client(_, let reply): reply(.error(.noLeader, message: message))
            case .watch(_, _, let streamID, let sink): sink.end(streamID: streamID, code: .noLeader, message: message)
            default: break
            }
        }
        transport.attach(
            onMessage: { [state] message in state.loop?.submit(.peerMessage(message)) },
            onHello: { [weak self] hello in self?.heard(hello) })
        do {
            peerAddress = try await transport.listen(on: bind)
            clientAddress = try await clients.listen(on: clientBind)
        } catch {
            await transport.close()
            throw AgentConfiguration.Problem("cannot listen: \(error)")
        }
        logger.info("node \(configuration.nodeName) (id \(nodeID)) listening: peers on \(configuration.bindAddress), clients on \(configuration.clientAddress)")
        if hasState || configuration.bootstrapExpect <= 1 {
            state.withLock { $0.deciding = true }
            if hasState {
                try startLoop(bootstrapVoters: nil)
            } else if configuration.bootstrapExpect == 1 {
                try startLoop(bootstrapVoters: [nodeID])
            } else {
                try startLoop(bootstrapVoters: nil)
                logger.info("no bootstrap: waiting for a cluster's leader to add this server")
            }
        } else {
            logger.info("waiting for \(configuration.bootstrapExpect) servers to bootstrap the cluster")
        }
        for peer in configuration.retryJoin { transport.dial(peer) }
        for (_, address) in AddressBook.load(dataDirectory: configuration.dataDirectory) where address.peerAddress != configuration.bindAddress {
            transport.dial(address.peerAddress)
        }
    }

    private func heard(_ hello: PeerHello) {
        let address = ServerAddress(name: hello.name, peerAddress: hello.peerAddress, clientAddress: hello.clientAddress)
        if hello.peerAddress != configuration.bindAddress { transport.dial(hello.peerAddress) }
        let (loop, decision): (ConsensusLoop?, Set<NodeID>?) = state.withLock { s in
            s.fresh[hello.id] = hello
            guard s.loop == nil, !s.deciding, configuration.bootstrapExpect >= 2 else { return (s.loop, nil) }
            if s.fresh.values.contains(where: { $0.hasState }) {
                s.deciding = true
                return (nil, [])
            }
            let candidates = s.fresh.values.filter { $0.bootstrapExpect == UInt32(configuration.bootstrapExpect) }.map(\.id)
            guard candidates.count + 1 >= configuration.bootstrapExpect else { return (nil, nil) }
            s.deciding = true
            let voters = Set((candidates + [nodeID]).sorted().prefix(configuration.bootstrapExpect))
            return (nil, voters)
        }
        if let loop {
            loop.submit(.learnedAddress(hello.id, address))
            loop.submit(.peerHello(hello))
            return
        }
        guard let voters = decision else { return }
        do {
            if voters.isEmpty || !voters.contains(nodeID) {
                logger.info("a cluster already exists: waiting for its leader to add this server")
                try startLoop(bootstrapVoters: nil)
            } else {
                logger.info("bootstrapping with \(voters.count) servers")
                try startLoop(bootstrapVoters: voters)
            }
        } catch {
            logger.critical("cannot start the consensus loop: \(error)")
        }
    }

    private func startLoop(bootstrapVoters: Set<NodeID>?) throws {
        var raftConfig = RaftConfiguration(id: nodeID)
        raftConfig.electionTimeout = configuration.electionTicks
        raftConfig.heartbeatInterval = configuration.heartbeatTicks
        var options = ConsensusLoop.Options()
        options.snapshotEvery = configuration.snapshotEvery
        let own = ServerAddress(name: configuration.nodeName, peerAddress: configuration.bindAddress, clientAddress: configuration.clientAddress)
        let loop = try ConsensusLoop(configuration: raftConfig, dataDirectory: configuration.dataDirectory, bootstrapVoters: bootstrapVoters,
                                     self: own, peers: transport, eventLoop: consensusGroup.next(), prober: HealthProber(group: group), options: options, logger: logger)
        let started: Bool = state.withLock { s in
            guard s.loop == nil else { return false }
            s.loop = loop
            return true
        }
        guard started else { return }
        transport.updateHello(hasState: true)
        loop.start()
        // Servers heard from before the loop existed.
        for peer in state.withLock({ s in Array(s.fresh.values) }) {
            loop.submit(.learnedAddress(peer.id, ServerAddress(name: peer.name, peerAddress: peer.peerAddress, clientAddress: peer.clientAddress)))
            loop.submit(.peerHello(peer))
        }
        let tick = TimeAmount.milliseconds(Int64(configuration.tickMilliseconds))
        tickTask = loop.eventLoop.scheduleRepeatedTask(initialDelay: tick, delay: tick) { _ in loop.submit(.tick) }
    }

    /// Stops accepting connections, lets the consensus loop finish and sync, closes everything.
    public func stop() async {
        await clients?.close()
        // Ticks and peers keep going while the loop drains what is in flight.
        if let loop = state.loop {
            // `shutdown` blocks while the loop drains: keep it off the cooperative pool.
            await withCheckedContinuation { (done: CheckedContinuation<Void, Never>) in
                DispatchQueue.global().async {
                    loop.shutdown()
                    done.resume()
                }
            }
        }
        tickTask?.cancel()
        await transport?.close()
        try? await group.shutdownGracefully()
        try? await consensusGroup.shutdownGracefully()
    }

    /// The consensus loop, once started.
    public var consensus: ConsensusLoop? { state.loop }

    func printDevBanner() {
        guard let files = try? DevMode.makeCertificates(in: configuration.dataDirectory + "/certs", datacenter: configuration.datacenter) else { return }
        let text = """
            ==> Cairn dev agent running (single node, data in \(configuration.dataDirectory)).
                Point the CLI at it with:

            export CAIRN_ADDR=\(configuration.clientAddress)
            export CAIRN_CACERT=\(files.ca)
            export CAIRN_CLIENT_CERT=\(files.cliCert)
            export CAIRN_CLIENT_KEY=\(files.cliKey)

            """
        // Informative only: a standard output nobody reads (a closed pipe) must not stop the
        // agent, and the non-throwing `write(_:)` would.
        try? FileHandle.standardOutput.write(contentsOf: Data(text.utf8))
    }

    static func loadNodeID(dataDirectory: String) throws -> NodeID {
        let path = dataDirectory + "/node-id"
        if let data = FileManager.default.contents(atPath: path) {
            let text = String(decoding: data, as: UTF8.self).trimmingCharacters(in: .whitespacesAndNewlines)
            guard let id = NodeID(text), id != .none else {
                throw AgentConfiguration.Problem("\(path) does not hold a node id (a positive whole number)")
            }
            return id
        }
        var id: NodeID = 0
        while id == .none || id > UInt64(Int64.max) { id = NodeID.random(in: 1...UInt64(Int64.max)) }
        let tmp = path + ".tmp"
        guard FileManager.default.createFile(atPath: tmp, contents: Data("\(id)\n".utf8)) else {
            throw AgentConfiguration.Problem("cannot write \(path)")
        }
        try FileManager.default.moveItem(atPath: tmp, toPath: path)
        return id
    }

}

/// The agent's mutable state shared between event loops.
final class AgentState: @unchecked Sendable {
    struct Values {
        var loop: ConsensusLoop?
        var fresh: [NodeID: PeerHello] = [:]
        /// Set once, by whoever decides how the loop starts: the loop is created exactly once.
        var deciding = false
    }

    private let lock = NSLock()
    private var values = Values()

    var loop: ConsensusLoop? { withLock { $0.loop } }

    func withLock<T>(_ body: (inout Values) -> T) -> T {
        lock.lock()
        defer { lock.unlock() }
        return body(&values)
    }
}

/// The agent as a service-lifecycle `Service`: starts it, waits for the graceful-shutdown
/// signal, then stops accepting, lets the consensus loop finish and sync, and closes.
struct AgentService: Service {
    let agent: Agent

    func run() async throws {
        try await agent.start()
        if agent.configuration.dev { agent.printDevBanner() }
        try? await gracefulShutdown()
        agent.logger.info("shutting down")
        await agent.stop()
    }
}
