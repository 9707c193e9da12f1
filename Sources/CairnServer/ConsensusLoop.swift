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
public final class ConsensusLoop: @unchecked Sendable {
    /// Something the loop must handle.
    public enum Input: Sendable {
        case tick
        case peerMessage(Message)
        case client(ClientRequest, reply: @Sendable (ClientResponse) -> Void)
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
    private let replica: RaftReplica<ModuleRouter>
    private let peers: PeerMessageSink
    private let options: Options
    private let logger: Logger
    private var addresses: [NodeID: ServerAddress]
    private var pendingWrites: [LogIndex: (term: Term, reply: @Sendable (ClientResponse) -> Void, kind: PendingKind)] = [:]
    private var pendingReads: [UInt64: (key: String, reply: @Sendable (ClientResponse) -> Void)] = [:]
    private var nextReadID: UInt64 = 1
    private let dataDirectory: String
    private var joinCandidates: Set<NodeID> = []
    private var ticks: UInt64 = 0

    private enum PendingKind { case put, delete, removePeer }

    /// The Raft node, for reading its state (changes go through `replica`).
    private var raft: RaftNode { replica.raft }

    /// The id of this server.
    public let id: NodeID

    /// Opens the server's state in `dataDirectory` (Raft log in `raft/`) and prepares the loop;
    /// ``start()`` runs it. `bootstrapVoters` founds a new cluster when there is no state yet.
    public init(configuration: RaftConfiguration, dataDirectory: String, bootstrapVoters: Set<NodeID>?,
                self address: ServerAddress, peers: PeerMessageSink, options: Options = Options(), logger: Logger) throws {
        replica = try RaftReplica(configuration: configuration, directory: dataDirectory + "/raft", bootstrapVoters: bootstrapVoters) {
            ModuleRouter(modules: [KVStore()])
        }
        if replica.truncatedBytes > 0 {
            logger.warning("cut a torn final log record of \(replica.truncatedBytes) bytes (never acknowledged)")
        }
        if replica.bootstrapped, let voters = bootstrapVoters {
            logger.info("bootstrapped a new cluster with voters \(voters.sorted())")
        }
        self.id = configuration.id
        self.peers = peers
        self.options = options
        self.logger = logger
        self.dataDirectory = dataDirectory
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
        do { try replica.close() } catch { logger.error("closing the log: \(error)") }
        finished.lock()
        isFinished = true
        finished.signal()
        finished.unlock()
    }

    private func process(_ inputs: [Input]) throws {
        var commands: [[UInt8]] = []
        var replies: [(@Sendable (ClientResponse) -> Void, PendingKind)] = []
        var readIDs: [UInt64] = []
        for input in inputs {
            switch input {
            case .tick:
                replica.tick()
                ticks &+= 1
                if ticks % 10 == 0 { addJoinCandidates() }
            case .peerMessage(let m):
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
            case .client(_, let reply) where draining:
                reply(.error(.shuttingDown, message: "the server is shutting down; retry on another server"))
            case .client(let request, let reply):
                switch request {
                case .kvGet(let key, let consistency):
                    if consistency == .stale {
                        reply(.kvGet(kv.get(key), readMeta()))
                    } else if raft.role != .leader {
                        reply(notLeader())
                    } else {
                        let readID = nextReadID
                        nextReadID += 1
                        pendingReads[readID] = (key, reply)
                        readIDs.append(readID)
                    }
                case .kvPut(let key, let value, let flags, let cas):
                    if let problem = KVStore.validate(key: key, value: value) {
                        reply(.error(problem.contains("value") ? .valueTooLarge : .invalidKey, message: problem))
                    } else if raft.role != .leader {
                        reply(notLeader())
                    } else {
                        commands.append(KVCommand.put(key: key, value: value, flags: flags, cas: cas).encoded())
                        replies.append((reply, .put))
                    }
                case .kvDelete(let key, let cas):
                    if let problem = KVStore.validate(key: key) {
                        reply(.error(.invalidKey, message: problem))
                    } else if raft.role != .leader {
                        reply(notLeader())
                    } else {
                        commands.append(KVCommand.delete(key: key, cas: cas).encoded())
                        replies.append((reply, .delete))
                    }
                case .members:
                    // The leader knows every server's log position: send the client there when it
                    // is reachable; otherwise (no leader, or cut off from it) answer from here.
                    if raft.role != .leader && raft.leader != .none && peers.isReachable(raft.leader) {
                        reply(notLeader())
                    } else {
                        reply(.members(members()))
                    }
                case .removePeer(let peer):
                    switch replica.withRaft({ $0.proposeMembershipChange(.remove(peer)) }) {
                    case .accepted(let index, _, let term):
                        pendingWrites[index] = (term, reply, .removePeer)
                    case .notLeader:
                        reply(notLeader())
                    case .invalidMembershipChange:
                        reply(.error(.refused, message: "node \(peer) is not a member, or is the last voter"))
                    case .membershipChangePending:
                        reply(.error(.refused, message: "another membership change is in progress; retry shortly"))
                    case .transferInProgress:
                        reply(.error(.refused, message: "a leadership transfer is in progress; retry shortly"))
                    default:
                        reply(.error(.refused, message: "the change was refused"))
                    }
                default:
                    reply(.error(.unknownOperation, message: "not served yet"))
                }
            }
            if commands.count >= options.maxBatch {
                propose(commands, replies)
                commands.removeAll()
                replies.removeAll()
            }
        }
        if !commands.isEmpty { propose(commands, replies) }
        if !readIDs.isEmpty {
            if case .notLeader = replica.withRaft({ $0.readIndex(batch: readIDs) }) {
                for readID in readIDs { pendingReads.removeValue(forKey: readID)?.reply(notLeader()) }
            }
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

    private func propose(_ commands: [[UInt8]], _ replies: [(@Sendable (ClientResponse) -> Void, PendingKind)]) {
        switch replica.propose(commands) {
        case .accepted(let first, _, let term):
            for (offset, pending) in replies.enumerated() {
                pendingWrites[first + LogIndex(offset)] = (term, pending.0, pending.1)
            }
        case .notLeader:
            for (reply, _) in replies { reply(notLeader()) }
        case .transferInProgress:
            for (reply, _) in replies { reply(.error(.noLeader, message: "leadership is being transferred; retry")) }
        default:
            for (reply, _) in replies { reply(.error(.internalError, message: "the proposal was not accepted")) }
        }
    }

    private func driveReady() throws {
        let out = try replica.advance(send: peers.send)
        if let soft = out.softState {
            logger.info("raft: \(soft.role.rawValue) in term \(soft.term), leader \(soft.leader == .none ? "unknown" : String(soft.leader))")
        }
        if let snapshot = out.installedSnapshot {
            for index in pendingWrites.keys where index <= snapshot.index {
                pendingWrites.removeValue(forKey: index)?.reply(.error(.timeout, message: "the outcome of the write is unknown (the log was replaced by a snapshot); read the key to find out"))
            }
        }
        for (entry, result) in out.applied { complete(entry, result) }
        for readID in out.droppedReads { pendingReads.removeValue(forKey: readID)?.reply(notLeader()) }
        if !out.reads.isEmpty {
            let kv = self.kv
            for read in out.reads {
                if let pending = pendingReads.removeValue(forKey: read.requestID) { pending.reply(.kvGet(kv.get(pending.key), readMeta())) }
            }
        }
    }

    /// Answers the client whose proposal `entry` is, if this server accepted it.
    private func complete(_ entry: Entry, _ result: [UInt8]) {
        guard let pending = pendingWrites.removeValue(forKey: entry.index) else { return }
        guard pending.term == entry.term else {
            pending.reply(.error(.noLeader, message: "leadership changed before the write committed; it was not applied"))
            return
        }
        switch pending.kind {
        case .put: pending.reply(.kvPut(succeeded: result.first == KVResult.applied.rawValue, index: entry.index))
        case .delete: pending.reply(.kvDelete(succeeded: result.first == KVResult.applied.rawValue, index: entry.index))
        case .removePeer: pending.reply(.peerRemoved(index: entry.index))
        }
    }

    private func maybeSnapshot() throws {
        let last = replica.storage.snapshotMetadata?.index ?? 0
        guard replica.stateMachine.appliedIndex >= last + options.snapshotEvery,
              let metadata = try replica.compact() else { return }
        logger.info("snapshot at index \(metadata.index); log compacted")
    }

    private func failAllPending(_ code: ClientErrorCode, _ message: String) {
        for (_, pending) in pendingWrites { pending.reply(.error(code, message: message)) }
        pendingWrites.removeAll()
        for (_, pending) in pendingReads { pending.reply(.error(code, message: message)) }
        pendingReads.removeAll()
    }

    // MARK: - Views

    private var kv: KVStore {
        replica.stateMachine.module(tagged: KVStore.moduleTag) as! KVStore
    }

    private func readMeta() -> ReadMeta {
        ReadMeta(index: replica.stateMachine.appliedIndex, knownLeader: raft.leader != .none, lastContactMilliseconds: 0)
    }

    private func notLeader() -> ClientResponse {
        let leader = raft.leader
        if leader == .none { return .notLeader(leaderID: .none, leaderAddress: "") }
        return .notLeader(leaderID: leader, leaderAddress: addresses[leader]?.clientAddress ?? "")
    }

    private func members() -> [MemberInfo] {
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

    /// Runs `body` on the loop thread with the Raft node's status (for tests and operators).
    public func status(_ body: @escaping @Sendable (RaftStatus) -> Void) {
        submit(.run { loop in body(loop.raft.status) })
    }

}
