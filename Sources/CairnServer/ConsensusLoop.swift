import CairnCatalog
import CairnKV
import CairnKernel
import CairnRaft
import CairnStorage
import CairnWire
import Foundation
import Logging

/// Where the consensus loop sends Raft messages. Implemented by the peer transport; `send` must
/// not block (it hands the messages to the network and returns).
public protocol PeerMessageSink: Sendable {
    /// Sends messages to their `to` nodes, in order per destination.
    func send(_ messages: [Message])
    /// Whether a connection to `id` is currently up.
    func isReachable(_ id: NodeID) -> Bool
}

/// How a server reaches another server, learned from peer hellos and kept in the data directory.
public struct ServerAddress: Sendable, Hashable, Codable {
    /// The server's node name.
    public var name: String
    /// Where peers reach it.
    public var peerAddress: String
    /// Where clients reach it.
    public var clientAddress: String

    /// Creates an address.
    public init(name: String, peerAddress: String, clientAddress: String) {
        self.name = name
        self.peerAddress = peerAddress
        self.clientAddress = clientAddress
    }
}

/// The heart of a server: one thread that owns the Raft node, the durable log and the replicated
/// state machine, and turns inputs (ticks, peer messages, client requests) into outputs.
///
/// Why a thread and not an actor: the loop blocks in `fdatasync`, and blocking is what makes
/// group commit fall out naturally — while one batch syncs, every request that arrives queues up
/// and the next turn of the loop proposes them all as one batch, appended and synced once. A
/// leader's appends leave for the followers before its own sync starts (see ``Ready``).
///
/// Each request is first turned into a ``RequestPlan`` (answer now, propose a command, or read
/// the state) by the module's planner (`ConsensusLoop+KV.swift`, `+Catalog`, `+Sessions`,
/// `+Operator`); the loop then carries the plan out the same way for every module. Watches are
/// served by a ``WatchHub`` fed with the changes each applied entry made. The leader also runs
/// the cluster's clocks: session TTLs and health checks (`ConsensusLoop+Leader.swift`).
public final class ConsensusLoop: @unchecked Sendable {
    /// Something the loop must handle.
    public enum Input: Sendable {
        case tick
        case peerMessage(Message)
        case client(ClientRequest, reply: @Sendable (ClientResponse) -> Void)
        /// A watch request from a client connection; events go to `sink`.
        case watch(WatchTarget, fromIndex: UInt64, streamID: UInt64, sink: any WatchSink)
        /// A watch ended on the connection side (cancelled by the client, or cut as too slow).
        case unwatch(streamID: UInt64, sink: any WatchSink)
        /// A client connection closed: drop its watches.
        case connectionClosed(sink: any WatchSink)
        /// A health probe finished (run by the leader).
        case probeResult(node: String, checkID: String, status: CheckStatus, output: String)
        case learnedAddress(NodeID, ServerAddress)
        /// A server introduced itself; the leader adds fresh servers as learners.
        case peerHello(PeerHello)
        case run(@Sendable (ConsensusLoop) -> Void)
    }

    /// Tunables of the loop beyond Raft's own.
    public struct Options: Sendable {
        /// Take a snapshot and compact the log once this many entries were applied since the last.
        public var snapshotEvery: UInt64 = 8_192
        /// The most commands proposed as one batch.
        public var maxBatch: Int = 4_096
        /// How many key changes the watch history keeps for resuming watches.
        public var watchHistory: Int = 100_000
        /// Creates defaults.
        public init() {}
    }

    private let condition = NSCondition()
    private var inbox: [Input] = []
    private var stopping = false
    private var stopDeadline = ContinuousClock.now
    private var draining = false
    private var thread: Thread?
    private let finished = NSCondition()
    private var isFinished = false

    // Owned by the loop thread only.
    /// Raft, the durable log and the modules, driven by the Ready contract.
    let replica: RaftReplica<ModuleRouter>
    let peers: PeerMessageSink
    let options: Options
    let logger: Logger
    private var addresses: [NodeID: ServerAddress]
    private var pendingWrites: [LogIndex: PendingWrite] = [:]
    private var pendingReads: [UInt64: PendingRead] = [:]
    private var nextReadID: UInt64 = 1
    private let dataDirectory: String
    private var joinCandidates: Set<NodeID> = []
    private var ticks: UInt64 = 0
    /// When this server last heard from the leader it follows (for stale reads' metadata).
    private var lastLeaderContact = ContinuousClock.now
    /// The watches of every client connected to this server.
    let watches: WatchHub
    /// The leader's clocks: session TTLs and health checks. Reset on every gain of leadership.
    var leaderDuties: LeaderDuties
    /// Where health probes run.
    let prober: HealthProber?
    /// The start of the loop's monotonic clock.
    let epoch = ContinuousClock.now

    /// A write waiting for its entry to commit and apply.
    struct PendingWrite {
        var term: Term
        var reply: (@Sendable (ClientResponse) -> Void)?
        var complete: ([UInt8], LogIndex) -> ClientResponse
    }

    /// A linearizable read waiting for ReadIndex to confirm the leadership.
    struct PendingRead {
        var reply: @Sendable (ClientResponse) -> Void
        var query: (ServerState) -> ClientResponse
    }

    /// The Raft node, for reading its state (changes go through `replica`).
    var raft: RaftNode { replica.raft }

    /// The id of this server.
    public let id: NodeID
    /// This server's node name (the node of services and sessions registered without one).
    public let nodeName: String

    /// Opens the server's state in `dataDirectory` (Raft log in `raft/`) and prepares the loop;
    /// ``start()`` runs it. `bootstrapVoters` founds a new cluster when there is no state yet.
    /// `prober` runs health checks while this server leads (nil: none run).
    public init(configuration: RaftConfiguration, dataDirectory: String, bootstrapVoters: Set<NodeID>?,
                self address: ServerAddress, peers: PeerMessageSink, prober: HealthProber? = nil,
                options: Options = Options(), logger: Logger) throws {
        replica = try RaftReplica(configuration: configuration, directory: dataDirectory + "/raft", bootstrapVoters: bootstrapVoters) {
            ModuleRouter(modules: [KVStore(), CatalogStore()])
        }
        if replica.truncatedBytes > 0 {
            logger.warning("cut a torn final log record of \(replica.truncatedBytes) bytes (never acknowledged)")
        }
        if replica.bootstrapped, let voters = bootstrapVoters {
            logger.info("bootstrapped a new cluster with voters \(voters.sorted())")
        }
        self.id = configuration.id
        self.nodeName = address.name
        self.peers = peers
        self.prober = prober
        self.options = options
        self.logger = logger
        self.dataDirectory = dataDirectory
        self.watches = WatchHub(floor: replica.stateMachine.appliedIndex, historyLimit: options.watchHistory)
        self.leaderDuties = LeaderDuties()
        var book = AddressBook.load(dataDirectory: dataDirectory)
        book[configuration.id] = address
        self.addresses = book
    }

    /// Whether the server's storage held Raft state before this start (it belongs to a cluster).
    public static func hasState(dataDirectory: String) -> Bool {
        let wal = dataDirectory + "/raft/wal"
        let names = (try? FileManager.default.contentsOfDirectory(atPath: wal)) ?? []
        return names.contains { $0.hasSuffix(".wal") }
    }

    /// Starts the loop's thread.
    public func start() {
        let thread = Thread { [self] in
            self.runLoop()
        }
        thread.name = "cairn-consensus"
        thread.stackSize = 8 << 20
        self.thread = thread
        thread.start()
    }

    /// Queues an input; never blocks on the loop.
    public func submit(_ input: Input) {
        condition.lock()
        inbox.append(input)
        condition.signal()
        condition.unlock()
    }

    /// Asks the loop to stop: it refuses new client requests, keeps serving peers and ticks for up
    /// to `grace` so that writes and reads in flight complete, then closes the log (every
    /// acknowledged write was synced when it was acknowledged) and stops. Waits for it.
    public func shutdown(grace: Duration = .seconds(2)) {
        condition.lock()
        stopping = true
        stopDeadline = ContinuousClock.now + grace
        condition.signal()
        condition.unlock()
        finished.lock()
        while !isFinished { finished.wait() }
        finished.unlock()
    }

    // MARK: - The loop

    private func runLoop() {
        while true {
            condition.lock()
            while inbox.isEmpty && !stopping { condition.wait() }
            if inbox.isEmpty && stopping {
                // Draining: wake up now and then to see whether what is in flight has finished.
                _ = condition.wait(until: Date().addingTimeInterval(0.02))
            }
            let batch = inbox
            inbox.removeAll(keepingCapacity: true)
            let stop = stopping
            let deadline = stopDeadline
            condition.unlock()
            draining = stop
            do {
                try process(batch)
                try driveReady()
                try maybeSnapshot()
            } catch {
                // A disk that fails a write or a sync cannot be trusted with what follows: stop
                // the process (crash-stop), as a Raft server must, rather than serve without a log.
                logger.critical("storage failed, stopping the server: \(error)")
                failAllPending(.internalError, "storage failed: \(error)")
                exit(74)
            }
            if stop && ((pendingWrites.isEmpty && pendingReads.isEmpty) || ContinuousClock.now >= deadline) { break }
        }
        failAllPending(.shuttingDown, "the server is shutting down")
        watches.endAll(code: .shuttingDown, message: "the server is shutting down; resume the watch on another server")
        do { try replica.close() } catch { logger.error("closing the log: \(error)") }
        finished.lock()
        isFinished = true
        finished.signal()
        finished.unlock()
    }

    /// Commands gathered during one turn of the loop, proposed as one batch.
    private var batchCommands: [[UInt8]] = []
    private var batchPending: [PendingWrite] = []
    private var batchReads: [UInt64] = []

    private func process(_ inputs: [Input]) throws {
        for input in inputs {
            switch input {
            case .tick:
                replica.tick()
                ticks &+= 1
                if ticks % 10 == 0 { addJoinCandidates() }
                if raft.role == .leader { runLeaderDuties() }
            case .peerMessage(let m):
                if m.from == raft.leader { lastLeaderContact = .now }
                replica.step(m)
            case .learnedAddress(let peer, let address):
                if addresses[peer] != address {
                    addresses[peer] = address
                    AddressBook.save(addresses, dataDirectory: dataDirectory)
                }
            case .run(let body):
                body(self)
            case .peerHello(let hello):
                if !hello.hasState { joinCandidates.insert(hello.id) }
                addJoinCandidates()
            case .watch(_, _, let streamID, let sink) where draining:
                sink.end(streamID: streamID, code: .shuttingDown, message: "the server is shutting down; resume the watch on another server")
            case .watch(let target, let fromIndex, let streamID, let sink):
                watches.watch(target, fromIndex: fromIndex, streamID: streamID, sink: sink, state: state)
            case .unwatch(let streamID, let sink):
                watches.cancel(streamID: streamID, sink: sink)
            case .connectionClosed(let sink):
                watches.removeAll(sink: sink)
            case .probeResult(let node, let checkID, let status, let output):
                probeFinished(node: node, checkID: checkID, status: status, output: output)
            case .client(_, let reply) where draining:
                reply(.error(.shuttingDown, message: "the server is shutting down; retry on another server"))
            case .client(let request, let reply):
                carryOut(plan(request), reply: reply)
            }
            if batchCommands.count >= options.maxBatch { flushProposals() }
        }
        flushProposals()
        if !batchReads.isEmpty {
            let readIDs = batchReads
            batchReads.removeAll()
            if case .notLeader = replica.withRaft({ $0.readIndex(batch: readIDs) }) {
                for readID in readIDs { pendingReads.removeValue(forKey: readID)?.reply(notLeader()) }
            }
        }
    }

    /// Carries out what the planner decided for one request.
    private func carryOut(_ plan: RequestPlan, reply: @escaping @Sendable (ClientResponse) -> Void) {
        switch plan {
        case .answer(let response):
            reply(response)
        case .propose(let command, let complete):
            guard raft.role == .leader else { return reply(notLeader()) }
            batchCommands.append(command)
            batchPending.append(PendingWrite(term: raft.term, reply: reply, complete: complete))
        case .read(.stale, let query):
            reply(query(state))
        case .read(.linearizable, let query):
            guard raft.role == .leader else { return reply(notLeader()) }
            let readID = nextReadID
            nextReadID += 1
            pendingReads[readID] = PendingRead(reply: reply, query: query)
            batchReads.append(readID)
        case .accepted(let index, let term, let complete):
            pendingWrites[index] = PendingWrite(term: term, reply: reply, complete: complete)
        }
    }

    /// Proposes a command of the leader's own (a session expiry, a health status change); its
    /// outcome is visible in the state once applied.
    func proposeInternal(_ command: [UInt8]) {
        guard raft.role == .leader else { return }
        batchCommands.append(command)
        batchPending.append(PendingWrite(term: raft.term, reply: nil, complete: { _, index in .applied(index: index) }))
    }

    private func flushProposals() {
        guard !batchCommands.isEmpty else { return }
        let commands = batchCommands
        let pending = batchPending
        batchCommands.removeAll(keepingCapacity: true)
        batchPending.removeAll(keepingCapacity: true)
        switch replica.propose(commands) {
        case .accepted(let first, _, let term):
            for (offset, var write) in pending.enumerated() {
                write.term = term
                pendingWrites[first + LogIndex(offset)] = write
            }
        case .notLeader:
            for write in pending { write.reply?(notLeader()) }
        case .transferInProgress:
            for write in pending { write.reply?(.error(.noLeader, message: "leadership is being transferred; retry")) }
        default:
            for write in pending { write.reply?(.error(.internalError, message: "the proposal was not accepted")) }
        }
    }

    /// On the leader: adds one fresh server that asked to join as a learner (Raft promotes it
    /// once it has caught up); one membership change at a time.
    private func addJoinCandidates() {
        joinCandidates.subtract(raft.membership.members)
        guard raft.role == .leader, let candidate = joinCandidates.sorted().first else { return }
        if case .accepted = replica.withRaft({ $0.proposeMembershipChange(.addLearner(candidate)) }) {
            logger.info("adding server \(candidate) as a learner")
        }
    }

    private func driveReady() throws {
        let out = try replica.advance(send: peers.send)
        if let soft = out.softState {
            logger.info("raft: \(soft.role.rawValue) in term \(soft.term), leader \(soft.leader == .none ? "unknown" : String(soft.leader))")
            if soft.role == .leader { becameLeader() }
        }
        if let snapshot = out.installedSnapshot {
            for index in pendingWrites.keys where index <= snapshot.index {
                pendingWrites.removeValue(forKey: index)?.reply?(.error(.timeout, message: "the outcome of the write is unknown (the log was replaced by a snapshot); read the key to find out"))
            }
            watches.reset(floor: snapshot.index)
            _ = takeChanges()
        }
        var restored = false
        for (entry, result) in out.applied {
            if entry.kind == .normal, entry.data.first == ModuleRouter.restoreTag, result == ModuleRouter.restoreAppliedResult {
                restored = true
            }
            complete(entry, result)
        }
        if !out.applied.isEmpty {
            let changes = takeChanges()
            if restored {
                logger.notice("the state was replaced by a snapshot restore at index \(replica.stateMachine.appliedIndex)")
                watches.reset(floor: replica.stateMachine.appliedIndex)
            } else if !changes.isEmpty {
                watches.publish(changes, state: state)
            }
            if raft.role == .leader { observeApplied(changes, restored: restored) }
        }
        for readID in out.droppedReads { pendingReads.removeValue(forKey: readID)?.reply(notLeader()) }
        if !out.reads.isEmpty {
            let view = state
            for read in out.reads {
                if let pending = pendingReads.removeValue(forKey: read.requestID) { pending.reply(pending.query(view)) }
            }
        }
    }

    /// The changes every module recorded for watchers since the last call, in index order.
    private func takeChanges() -> [StateChange] {
        replica.withStateMachine { router in
            var changes = router.withModule(tagged: KVStore.moduleTag, as: KVStore.self) { $0.takeChanges() } ?? []
            changes += router.withModule(tagged: CatalogStore.moduleTag, as: CatalogStore.self) { $0.takeChanges() } ?? []
            if changes.count > 1 { changes.sort { $0.index < $1.index } }
            return changes
        }
    }

    /// Answers the client whose proposal `entry` is, if this server accepted it.
    private func complete(_ entry: Entry, _ result: [UInt8]) {
        guard let pending = pendingWrites.removeValue(forKey: entry.index) else { return }
        guard pending.term == entry.term else {
            pending.reply?(.error(.noLeader, message: "leadership changed before the write committed; it was not applied"))
            return
        }
        pending.reply?(pending.complete(result, entry.index))
    }

    private func maybeSnapshot() throws {
        let last = replica.storage.snapshotMetadata?.index ?? 0
        guard replica.stateMachine.appliedIndex >= last + options.snapshotEvery,
              let metadata = try replica.compact() else { return }
        logger.info("snapshot at index \(metadata.index); log compacted")
    }

    private func failAllPending(_ code: ClientErrorCode, _ message: String) {
        for (_, pending) in pendingWrites { pending.reply?(.error(code, message: message)) }
        pendingWrites.removeAll()
        for (_, pending) in pendingReads { pending.reply(.error(code, message: message)) }
        pendingReads.removeAll()
    }

    // MARK: - Views

    /// The replicated state as the planners' queries see it.
    var state: ServerState {
        let router = replica.stateMachine
        return ServerState(kv: router.module(tagged: KVStore.moduleTag, as: KVStore.self) ?? KVStore(),
                           catalog: router.module(tagged: CatalogStore.moduleTag, as: CatalogStore.self) ?? CatalogStore(),
                           meta: readMeta())
    }

    /// The host part of this server's client address (its node's address in the catalog).
    var ownHost: String {
        guard let address = addresses[id]?.clientAddress, let colon = address.lastIndex(of: ":") else { return "" }
        return String(address[..<colon]).trimmingCharacters(in: CharacterSet(charactersIn: "[]"))
    }

    /// How fresh this server's state is.
    func readMeta() -> ReadMeta {
        let leader = raft.leader
        let contact: UInt64
        if raft.role == .leader {
            contact = 0
        } else {
            let elapsed = ContinuousClock.now - lastLeaderContact
            contact = UInt64(max(0, elapsed.components.seconds * 1000 + elapsed.components.attoseconds / 1_000_000_000_000_000))
        }
        return ReadMeta(index: replica.stateMachine.appliedIndex, knownLeader: leader != .none, lastContactMilliseconds: contact)
    }

    func notLeader() -> ClientResponse {
        let leader = raft.leader
        if leader == .none { return .notLeader(leaderID: .none, leaderAddress: "") }
        return .notLeader(leaderID: leader, leaderAddress: addresses[leader]?.clientAddress ?? "")
    }

    func members() -> [MemberInfo] {
        let status = raft.status
        var out: [MemberInfo] = []
        for member in status.membership.members.sorted() {
            let address = addresses[member]
            let isSelf = member == id
            let role: String
            if member == status.leader { role = "leader" }
            else if status.membership.learners.contains(member) { role = "learner" }
            else if isSelf { role = status.role.rawValue }
            else { role = status.leader == .none ? "unknown" : "follower" }
            let lastIndex = isSelf ? status.lastIndex : (status.peers[member]?.match ?? 0)
            out.append(MemberInfo(id: member, name: address?.name ?? "", peerAddress: address?.peerAddress ?? "",
                                  clientAddress: address?.clientAddress ?? "", voter: status.membership.voters.contains(member),
                                  role: role, term: status.term, lastIndex: lastIndex,
                                  reachable: isSelf || peers.isReachable(member)))
        }
        return out
    }

    /// Whether the members request should go to the leader instead of being answered here.
    func shouldRedirectMembers() -> Bool {
        raft.role != .leader && raft.leader != .none && peers.isReachable(raft.leader)
    }

    /// Milliseconds on the loop's monotonic clock (for the leader's timers).
    var monotonicMilliseconds: UInt64 {
        let elapsed = ContinuousClock.now - epoch
        return UInt64(max(0, elapsed.components.seconds * 1000 + elapsed.components.attoseconds / 1_000_000_000_000_000))
    }

    /// Milliseconds since the Unix epoch on this server's wall clock (carried in commands whose
    /// rules involve time, like lock-delay, so that every replica applies them alike).
    var wallMilliseconds: UInt64 { UInt64(max(0, Date().timeIntervalSince1970 * 1000)) }

    /// Runs `body` on the loop thread with the Raft node's status (for tests and operators).
    public func status(_ body: @escaping @Sendable (RaftStatus) -> Void) {
        submit(.run { loop in body(loop.raft.status) })
    }
}

/// How the loop serves one request (decided by a module's planner, carried out by the loop).
enum RequestPlan {
    /// Answer at once.
    case answer(ClientResponse)
    /// Propose `command` (leader only); when its entry applies, `complete` turns the module's
    /// result bytes and the entry's index into the answer.
    case propose([UInt8], complete: ([UInt8], LogIndex) -> ClientResponse)
    /// Read the state: at once (stale), or after the leader confirms its leadership.
    case read(ReadConsistency, (ServerState) -> ClientResponse)
    /// The planner already proposed (a membership change) at `index` in `term`.
    case accepted(index: LogIndex, term: Term, complete: ([UInt8], LogIndex) -> ClientResponse)
}

/// The replicated state as of one moment on the loop thread, with its freshness.
struct ServerState {
    var kv: KVStore
    var catalog: CatalogStore
    var meta: ReadMeta
}
