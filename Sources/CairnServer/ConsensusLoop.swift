import CairnCatalog
import CairnKV
import CairnKernel
import CairnRaft
import CairnStorage
import CairnWire
import Foundation
import Logging
import NIOConcurrencyHelpers
import NIOCore

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

/// The heart of a server: the Raft node, the durable log and the replicated state machine, owned
/// by one event loop (a thread of its own, see ``Agent``), which turns inputs (ticks, peer
/// messages, client requests) into outputs.
///
/// Where the loop waits for the disk. A follower writes and syncs on its event loop: blocking is
/// what makes group commit fall out naturally — while one batch syncs, every append that arrives
/// queues up (unread in the peer sockets) and the next turn writes them all with one sync, and
/// its acknowledgement must wait for the sync anyway. The leader does not block: its appends
/// leave for the followers first (see ``Ready``), then its own write goes to the replica's log
/// writer thread (``Options/backgroundLogWrites``), and the loop goes on stepping the
/// followers' acknowledgements — two of them commit a write without waiting for the leader's own
/// disk. Proposals that arrive meanwhile are appended and replicated at once, and their write
/// queues behind the one in flight and goes out with the next sync. The peer connections live on
/// the same event loop (``PeerTransport``), so a Raft message is read, stepped and answered, and
/// an append is sent, without handing anything to another thread: on the path of a write, the
/// only thread hand-offs are the client's request coming in and its answer going out — and none
/// at all when the client connections share this event loop too
/// (``AgentConfiguration/clientThreads`` 0, the default on machines with up to two cores).
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
        /// A background log write finished (``Options/backgroundLogWrites``).
        case logWritten
    }

    /// Tunables of the loop beyond Raft's own.
    public struct Options: Sendable {
        /// Take a snapshot and compact the log once this many entries were applied since the last.
        public var snapshotEvery: UInt64 = 8_192
        /// The most commands proposed as one batch.
        public var maxBatch: Int = 4_096
        /// How many key changes the watch history keeps for resuming watches.
        public var watchHistory: Int = 100_000
        /// How long the leader holds a commit notice back hoping the next append carries the
        /// commit index instead (``CommitNoticeBuffer``); an idle follower learns a commit
        /// between this and twice this later (the next heartbeat brings it anyway, every 50 ms by
        /// default). Zero sends notices at once.
        ///
        /// Not shorter: every timer the event loop arms costs the leader's thread system calls
        /// (re-arming the timer, reading it when it fires), and SwiftNIO re-arms a pending timer
        /// again whenever the loop blocks with a slightly earlier computed deadline — a few
        /// times per timer period. With 1 ms that was ~1.4 `timerfd_settime` calls per
        /// single-client put on the leader; with 10 ms they are rare.
        public var commitNoticeDelay: TimeAmount = .milliseconds(10)
        /// Whether the leader writes its log on a thread of its own (``RaftReplica``'s background
        /// writes) instead of blocking this loop in `fdatasync`: while its disk works, the loop
        /// steps the followers' acknowledgements, and two followers that made a write durable
        /// commit it without waiting for the leader's own sync. Followers, votes and snapshots
        /// always write on the loop.
        public var backgroundLogWrites = true
        /// Creates defaults.
        public init() {}
    }

    /// Where the loop runs. Everything below "owned by the loop" is touched only there.
    public let eventLoop: any EventLoop
    private let inboxLock = NIOLock()
    private var inbox: [Input] = []
    /// Whether a turn is queued on the event loop (so `submit` queues at most one).
    private var turnQueued = false
    private var stopping = false
    private var stopDeadline = ContinuousClock.now
    private var draining = false
    private var drainCheckQueued = false
    private let finished = NSCondition()
    private var isFinished = false

    // Owned by the loop.
    /// Raft, the durable log and the modules, driven by the Ready contract.
    let replica: RaftReplica<ModuleRouter>
    let peers: PeerMessageSink
    let options: Options
    let logger: Logger
    private var addresses: [NodeID: ServerAddress]
    /// Commit notices held back until an append makes them redundant or the delay runs out.
    private var commitNotices = CommitNoticeBuffer()
    private var commitNoticeFlushQueued = false
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
    var raft: RaftNode {
        // Borrowed, not copied: a copy of the node retains and releases every array and table
        // in it, and the loop reads the role or the leader several times a turn.
        _read { yield replica.raft }
    }

    /// The id of this server.
    public let id: NodeID
    /// This server's node name (the node of services and sessions registered without one).
    public let nodeName: String

    /// Opens the server's state in `dataDirectory` (Raft log in `raft/`) and prepares the loop to
    /// run on `eventLoop`, which it may block in `fdatasync` (give it one of its own, shared
    /// with the peer connections and perhaps the client connections); ``start()`` runs it. `bootstrapVoters` founds a new cluster when
    /// there is no state yet. `prober` runs health checks while this server leads (nil: none run).
    public init(configuration: RaftConfiguration, dataDirectory: String, bootstrapVoters: Set<NodeID>?,
                self address: ServerAddress, peers: PeerMessageSink, eventLoop: any EventLoop, prober: HealthProber? = nil,
                options: Options = Options(), logger: Logger) throws {
        self.eventLoop = eventLoop
        let wakeup = LoopReference()
        var onBackgroundWrite: (@Sendable () -> Void)? = nil
        if options.backgroundLogWrites {
            onBackgroundWrite = { wakeup.loop?.submit(.logWritten) }
        }
        replica = try RaftReplica(configuration: configuration, directory: dataDirectory + "/raft", bootstrapVoters: bootstrapVoters,
                                  onBackgroundWrite: onBackgroundWrite) {
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
        wakeup.loop = self
    }

    /// Whether the server's storage held Raft state before this start (it belongs to a cluster).
    public static func hasState(dataDirectory: String) -> Bool {
        let wal = dataDirectory + "/raft/wal"
        let names = (try? FileManager.default.contentsOfDirectory(atPath: wal)) ?? []
        return names.contains { $0.hasSuffix(".wal") }
    }

    /// Starts the loop: its first turn runs whatever was submitted before.
    public func start() {
        queueTurn()
    }

    /// Queues an input; never blocks on the loop. From the loop's own event loop (a peer
    /// connection, a tick) it costs no wake-up: the turn runs once the current one has finished.
    public func submit(_ input: Input) {
        queueTurn(adding: input)
    }

    /// Queues a turn unless one is queued already (or the loop stopped), after adding `input`.
    private func queueTurn(adding input: Input? = nil) {
        let queue: Bool = inboxLock.withLock {
            if let input { inbox.append(input) }
            if turnQueued || isFinishedFlag { return false }
            turnQueued = true
            return true
        }
        if queue { eventLoop.execute { self.turn() } }
    }

    /// Set (under `inboxLock`) once the loop has stopped: nothing runs on it afterwards.
    private var isFinishedFlag = false

    /// Asks the loop to stop: it refuses new client requests, keeps serving peers and ticks for up
    /// to `grace` so that writes and reads in flight complete, then closes the log (every
    /// acknowledged write was synced when it was acknowledged) and stops. Waits for it, so it must
    /// not be called on the loop's event loop.
    public func shutdown(grace: Duration = .seconds(2)) {
        precondition(!eventLoop.inEventLoop, "ConsensusLoop.shutdown would wait for its own event loop")
        inboxLock.withLock {
            stopping = true
            stopDeadline = ContinuousClock.now + grace
        }
        queueTurn()
        finished.lock()
        while !isFinished { finished.wait() }
        finished.unlock()
    }

    // MARK: - The loop

    /// One turn: everything submitted since the last, then the Ready it produced.
    private func turn() {
        let (batch, stop, deadline, over): ([Input], Bool, ContinuousClock.Instant, Bool) = inboxLock.withLock {
            turnQueued = false
            if isFinishedFlag { return ([], false, stopDeadline, true) }
            let taken = inbox
            inbox.removeAll(keepingCapacity: true)
            return (taken, stopping, stopDeadline, false)
        }
        guard !over else { return }
        draining = stop
        do {
            try process(batch)
            try driveReady()
            try maybeSnapshot()
        } catch {
            crashStop("storage failed", error)
        }
        guard stop else { return }
        if (pendingWrites.isEmpty && pendingReads.isEmpty) || ContinuousClock.now >= deadline {
            finish()
        } else if !drainCheckQueued {
            // Draining: look again now and then whether what is in flight has finished.
            drainCheckQueued = true
            eventLoop.scheduleTask(in: .milliseconds(20)) {
                self.drainCheckQueued = false
                self.queueTurn()
            }
        }
    }

    private func finish() {
        inboxLock.withLock { isFinishedFlag = true }
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
            case .logWritten:
                try replica.backgroundWriteFinished()
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
        let out = try replica.advance(send: sendToPeers)
        if let soft = out.softState {
            if soft.role != .leader { commitNotices.removeAll() }
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
        // After the answers (see ``RaftReplica/advance(send:)``).
        if !out.laterMessages.isEmpty { sendToPeers(out.laterMessages) }
        if !out.commitNotices.isEmpty { holdCommitNotices(out.commitNotices) }
    }

    /// Puts messages on the network, noting which held commit notices they make redundant.
    private func sendToPeers(_ messages: [Message]) {
        commitNotices.sent(messages)
        peers.send(messages)
    }

    /// Holds commit notices for ``Options/commitNoticeDelay``, then sends those that no append
    /// made redundant meanwhile. Each notice waits at least its own delay from when it was held:
    /// the flush sends only those that have, and comes back a whole delay later for the rest — so
    /// under a steady stream of writes, where the next append always comes within the delay, no
    /// notice travels, and a notice waits at most twice the delay.
    ///
    /// The flush does not come back at each younger notice's own due time: under a stream of
    /// writes a fresh notice is held after every commit, so chasing it re-armed the event loop's
    /// timer after nearly every write (a `timerfd_settime` and a timer read, ~10 µs of system
    /// calls on a VM, on the leader's thread just before it picked up the next request).
    private func holdCommitNotices(_ notices: [Message]) {
        guard options.commitNoticeDelay > .zero else {
            peers.send(notices)
            return
        }
        commitNotices.hold(notices, at: NIODeadline.now().uptimeNanoseconds)
        scheduleCommitNoticeFlush(in: options.commitNoticeDelay)
    }

    private func scheduleCommitNoticeFlush(in delay: TimeAmount) {
        guard !commitNoticeFlushQueued else { return }
        commitNoticeFlushQueued = true
        eventLoop.scheduleTask(in: delay) { self.flushCommitNotices() }
    }

    private func flushCommitNotices() {
        commitNoticeFlushQueued = false
        guard !commitNotices.isEmpty, raft.role == .leader, !inboxLock.withLock({ isFinishedFlag }) else { return }
        let now = NIODeadline.now().uptimeNanoseconds
        let delay = UInt64(options.commitNoticeDelay.nanoseconds)
        let due = commitNotices.takeHeld(atOrBefore: now >= delay ? now - delay : 0)
        if !due.isEmpty { peers.send(due) }
        if !commitNotices.isEmpty { scheduleCommitNoticeFlush(in: options.commitNoticeDelay) }
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

    /// Whether a snapshot is being serialized and written off the loop.
    private var snapshotInFlight = false

    /// Every `snapshotEvery` applied entries, snapshots the state and compacts the log — without
    /// stalling the loop: the state is a value, so the loop hands a copy-on-write copy of it to a
    /// background thread, which serializes it and writes and syncs the file; back on the loop the
    /// file is linked in place and the log compacted (``RaftReplica/beginCompaction()``).
    private func maybeSnapshot() throws {
        guard !snapshotInFlight else { return }
        let last = replica.storage.snapshotMetadata?.index ?? 0
        guard replica.stateMachine.appliedIndex >= last + options.snapshotEvery,
              let (machine, metadata) = try replica.beginCompaction() else { return }
        snapshotInFlight = true
        let source = SnapshotSource(machine: machine)
        let directory = replica.snapshotDirectory
        DispatchQueue.global(qos: .utility).async { [self] in
            let data = source.machine.snapshot()
            let prepared = Result { try SnapshotStore.prepare(Snapshot(metadata: metadata, data: data), in: directory) }
            submit(.run { loop in loop.finishSnapshot(data: data, prepared) })
        }
    }

    private func finishSnapshot(data: [UInt8], _ prepared: Result<PreparedSnapshot, any Error>) {
        snapshotInFlight = false
        do {
            if let metadata = try replica.finishCompaction(data: data, prepared: prepared.get()) {
                logger.info("snapshot at index \(metadata.index); log compacted")
            }
        } catch {
            crashStop("storage failed while snapshotting", error)
        }
    }

    /// A disk that fails a write or a sync cannot be trusted with what follows: stops the process
    /// (crash-stop), as a Raft server must, rather than serve without a log.
    private func crashStop(_ what: String, _ error: any Error) -> Never {
        logger.critical("\(what), stopping the server: \(error)")
        failAllPending(.internalError, "storage failed: \(error)")
        exit(74)
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

/// How the log writer's thread finds the loop to wake (set once, at the end of the loop's init,
/// before the loop runs or anything is written).
private final class LoopReference: @unchecked Sendable {
    weak var loop: ConsensusLoop?
}

/// The state machine handed to the thread that serializes a snapshot. It is a value (modules are
/// structs over copy-on-write collections): the loop's later changes copy what they touch and
/// never reach this copy, which is only read.
private final class SnapshotSource: @unchecked Sendable {
    let machine: ModuleRouter
    init(machine: ModuleRouter) { self.machine = machine }
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
