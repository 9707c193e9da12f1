import CairnRaft
import CairnStorage

/// One server's consensus kernel, driven synchronously: a ``RaftNode`` persisted in a
/// ``DurableLog`` and applied to a ``ReplicatedStateMachine``.
///
/// The replica follows the ``Ready`` contract to the letter: messages that promise nothing go out
/// first (a leader's appends leave while it writes the same entries), then the snapshot, entries
/// and hard state are written with one sync, then the acknowledgements are released, then
/// committed entries are applied. The caller (the agent's consensus loop, a test) feeds it ticks
/// and messages and hands ``advance(send:)`` the function that puts messages on the network.
///
/// Owned by one task; deliberately not `Sendable`.
public final class RaftReplica<Machine: ReplicatedStateMachine> {
    /// What one call to ``advance()`` produced.
    public struct Output {
        /// Messages to deliver, in order (filled by ``advance()``; ``advance(send:)`` sends them).
        public var messages: [Message] = []
        /// Committed entries applied, in order, with the state machine's result for each.
        public var applied: [(entry: Entry, result: [UInt8])] = []
        /// Reads now safe to answer (the state machine has applied their index).
        public var reads: [ReadState] = []
        /// Reads that lost their leader and must be retried elsewhere.
        public var droppedReads: [UInt64] = []
        /// The latest role change, if any.
        public var softState: SoftState?
        /// A snapshot received from the leader that replaced the log and the state machine.
        public var installedSnapshot: SnapshotMetadata?
        /// Messages ``advance(send:)`` left for the caller to send after it has answered its
        /// clients (see there); empty from ``advance()``, which returns them in `messages`.
        public var laterMessages: [Message] = []
        /// Commit notices (``Ready/commitNotices``) for the caller to deliver or coalesce with its
        /// next appends; empty from ``advance()``, which returns them last in `messages`.
        public var commitNotices: [Message] = []
    }

    /// The consensus state.
    public private(set) var raft: RaftNode
    /// The replicated state.
    public private(set) var stateMachine: Machine
    /// The durable storage.
    public let storage: DurableLog
    /// Bytes of a torn final log record cut off when the storage was opened (never acknowledged).
    public let truncatedBytes: Int
    /// Whether this start founded a new cluster (wrote the bootstrap entry).
    public let bootstrapped: Bool
    private var waitingReads: [ReadState] = []

    /// Opens (or creates) the replica stored in `directory`.
    ///
    /// - Parameters:
    ///   - bootstrapVoters: for a founding member of a new cluster, the founding voters; used only
    ///     when the directory holds no state yet.
    ///   - makeStateMachine: a fresh, empty state machine; restored from the latest snapshot.
    public init(
        configuration: RaftConfiguration,
        directory: String,
        bootstrapVoters: Set<NodeID>? = nil,
        storageOptions: DurableLog.Options = .init(),
        makeStateMachine: () -> Machine
    ) throws {
        let (storage, recovered) = try DurableLog.open(directory: directory, options: storageOptions)
        var state = RestoredState(hardState: recovered.hardState, snapshot: recovered.snapshot, entries: recovered.entries)
        var bootstrapped = false
        if let voters = bootstrapVoters, state.snapshot == nil, state.entries.isEmpty, state.hardState == .empty {
            state = RestoredState.bootstrap(voters: voters)
            try storage.append(entries: state.entries, hardState: state.hardState)
            bootstrapped = true
        }
        var machine = makeStateMachine()
        if let snapshot = state.snapshot {
            try machine.restore(snapshot.data, at: snapshot.metadata.index)
        }
        self.storage = storage
        self.truncatedBytes = recovered.truncatedBytes
        self.bootstrapped = bootstrapped
        self.stateMachine = machine
        self.raft = RaftNode(configuration: configuration, restoring: state)
    }

    /// Advances logical time by one tick.
    public func tick() { raft.tick() }

    /// Hands a message from a peer to Raft.
    public func step(_ message: Message) { raft.step(message) }

    /// Proposes commands (see ``RaftNode/propose(batch:)``).
    public func propose(_ commands: [[UInt8]]) -> ProposalOutcome { raft.propose(batch: commands) }

    /// Runs any other request against the Raft node (reads, membership changes, transfers).
    public func withRaft<T>(_ body: (inout RaftNode) -> T) -> T { body(&raft) }

    /// Runs `body` with mutable access to the state machine, for bookkeeping that does not change
    /// the replicated state (taking the changes modules recorded for watchers).
    public func withStateMachine<T>(_ body: (inout Machine) -> T) -> T { body(&stateMachine) }

    /// Carries out every pending ``Ready``, collecting the messages in ``Output/messages``.
    public func advance() throws -> Output {
        var messages: [Message] = []
        var output = try advance { messages.append(contentsOf: $0) }
        output.messages = messages + output.laterMessages + output.commitNotices
        output.laterMessages = []
        output.commitNotices = []
        return output
    }

    /// Carries out every pending ``Ready``: sends what may go now, persists with one sync,
    /// sends what waited for the sync, applies. Throws when storage fails; the replica must then
    /// be discarded (the disk state is whatever was synced).
    ///
    /// The messages of a `Ready` that needs no sync (typically a leader telling its followers
    /// that the commit index moved, right after a quorum acknowledged a write) are not sent here
    /// but left in ``Output/laterMessages``: sending them before its answers would put their
    /// encryption and system calls between a write's commit and its acknowledgement. The caller
    /// sends them after answering, before its next `advance`. Every message that must leave
    /// before a sync still does, and the order of messages is kept.
    public func advance(send: ([Message]) -> Void) throws -> Output {
        var output = Output()
        var later: [Message] = []
        func sendInOrder(_ messages: [Message]) {
            if !later.isEmpty {
                send(later)
                later.removeAll()
            }
            send(messages)
        }
        while raft.hasReady {
            let rd = raft.ready()
            if let soft = rd.softState { output.softState = soft }
            if !rd.messages.isEmpty {
                if rd.needsSync { sendInOrder(rd.messages) } else { later.append(contentsOf: rd.messages) }
            }
            if let snapshot = rd.snapshot {
                try storage.installSnapshot(snapshot)
            }
            if !rd.entries.isEmpty || rd.hardState != nil {
                // A Ready that only moves the commit index costs no fdatasync (see ``Ready/needsSync``),
                // nor a write of its own: the log keeps it for its next record.
                try storage.append(entries: rd.entries, hardState: rd.hardState, sync: rd.needsSync)
            }
            raft.persisted(rd)
            if !rd.messagesAfterPersist.isEmpty { sendInOrder(rd.messagesAfterPersist) }
            if let snapshot = rd.snapshot {
                var fresh = stateMachine
                try fresh.restore(snapshot.data, at: snapshot.metadata.index)
                stateMachine = fresh
                output.installedSnapshot = snapshot.metadata
            }
            for entry in rd.committed {
                output.applied.append((entry, stateMachine.apply(entry)))
            }
            output.commitNotices.append(contentsOf: rd.commitNotices)
            waitingReads.append(contentsOf: rd.readStates)
            output.droppedReads.append(contentsOf: rd.droppedReads)
        }
        if !waitingReads.isEmpty {
            let applied = stateMachine.appliedIndex
            output.reads = waitingReads.filter { $0.index <= applied }
            waitingReads.removeAll { $0.index <= applied }
        }
        output.laterMessages = later
        return output
    }

    /// Snapshots the state machine at its applied index, compacts the Raft log and the stored log
    /// up to it. Returns the snapshot's metadata, or nil when there was nothing new to compact.
    @discardableResult
    public func compact() throws -> SnapshotMetadata? {
        let index = stateMachine.appliedIndex
        let data = stateMachine.snapshot()
        guard case .compacted(let metadata) = raft.compact(index: index, data: data) else { return nil }
        try storage.compact(Snapshot(metadata: metadata, data: data))
        return metadata
    }

    /// The first half of a compaction that does not stall the replica's thread: the state
    /// machine as of its applied index (a copy-on-write copy of the value, safe to serialize on
    /// another thread) and the snapshot's metadata. Serialize the copy, write it with
    /// ``SnapshotStore/prepare(_:in:)`` into ``snapshotDirectory``, then call
    /// ``finishCompaction(data:prepared:)`` here. Nil when there is nothing new to compact.
    public func beginCompaction() -> (machine: Machine, metadata: SnapshotMetadata)? {
        guard let metadata = raft.snapshotMetadata(at: stateMachine.appliedIndex) else { return nil }
        return (stateMachine, metadata)
    }

    /// Where prepared snapshots go.
    public var snapshotDirectory: String { storage.snapshotDirectory }

    /// The second half of ``beginCompaction()``: compacts the Raft log and the stored log to the
    /// prepared snapshot, or discards it when the log moved on meanwhile (a snapshot installed
    /// from the leader). Returns the metadata when it compacted.
    @discardableResult
    public func finishCompaction(data: [UInt8], prepared: PreparedSnapshot) throws -> SnapshotMetadata? {
        guard raft.snapshotMetadata(at: prepared.metadata.index) == prepared.metadata,
              case .compacted(let metadata) = raft.compact(index: prepared.metadata.index, data: data) else {
            prepared.discard()
            return nil
        }
        try storage.compact(prepared: prepared)
        return metadata
    }

    /// Closes the storage.
    public func close() throws { try storage.close() }
}

@available(*, unavailable)
extension RaftReplica: Sendable {}
