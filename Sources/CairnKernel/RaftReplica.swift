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
/// ## Background writes
/// Created with `onBackgroundWrite`, the replica writes what promises nothing to anyone — a
/// leader's new entries, a commit index — on a thread of its own (``LogWriter``) instead of
/// blocking its owner in `fdatasync`. The owner's thread meanwhile steps the followers'
/// acknowledgements: two followers that made an entry durable commit it without waiting for the
/// leader's own disk, and the leader counts itself once its write returns. Writes taken while one
/// is in flight queue behind it and go out together as the next (group commit). When a write
/// finishes, `onBackgroundWrite` is called on the writer's thread; the owner then calls
/// ``backgroundWriteFinished()`` on its own. Everything else — votes, a new term, a follower's
/// entries (whose acknowledgement waits for them), snapshots, compaction, closing — first waits
/// for the write in flight and is written on the owner's thread as before, so the log is only
/// ever touched by one thread at a time and its records stay in order.
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
    /// The durable storage. With background writes a write may be in flight on the writer's
    /// thread: read only what it does not change (``DurableLog/snapshotMetadata``).
    public let storage: DurableLog
    /// Bytes of a torn final log record cut off when the storage was opened (never acknowledged).
    public let truncatedBytes: Int
    /// Whether this start founded a new cluster (wrote the bootstrap entry).
    public let bootstrapped: Bool
    private var waitingReads: [ReadState] = []
    /// The thread that makes a leader's writes durable, when background writes are on.
    private let writer: LogWriter?
    /// The write on the writer's thread.
    private var inFlight: WriteJob?
    /// Readys whose writes wait for the one in flight (written together as the next).
    private var queued: [Ready] = []

    /// Opens (or creates) the replica stored in `directory`.
    ///
    /// - Parameters:
    ///   - bootstrapVoters: for a founding member of a new cluster, the founding voters; used only
    ///     when the directory holds no state yet.
    ///   - onBackgroundWrite: turns on background writes (see above): called on the writer's
    ///     thread whenever a write finished, so that the owner calls
    ///     ``backgroundWriteFinished()`` on its own thread. Nil: every write blocks in ``advance()``.
    ///   - makeStateMachine: a fresh, empty state machine; restored from the latest snapshot.
    public init(
        configuration: RaftConfiguration,
        directory: String,
        bootstrapVoters: Set<NodeID>? = nil,
        storageOptions: DurableLog.Options = .init(),
        onBackgroundWrite: (@Sendable () -> Void)? = nil,
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
        self.writer = onBackgroundWrite.map { LogWriter(name: "cairn-log-writer-\(configuration.id)", onFinish: $0) }
    }

    deinit { writer?.stop() }

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
        while Self.hasReady(&raft) {
            let rd = raft.ready()
            if let soft = rd.softState { output.softState = soft }
            if !rd.messages.isEmpty {
                if rd.needsSync { sendInOrder(rd.messages) } else { later.append(contentsOf: rd.messages) }
            }
            if inFlight != nil, !rd.needsPersist, rd.messagesAfterPersist.isEmpty {
                // Nothing to write or release: no need to wait for the write in flight.
            } else if writer != nil, rd.needsPersist, rd.snapshot == nil, rd.messagesAfterPersist.isEmpty,
                      !rd.hardStateMustSync, inFlight != nil || rd.needsSync {
                queued.append(rd)
                if inFlight == nil { try startQueuedWrite() }
            } else {
                try settleWrites()
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
            }
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

    /// Whether `node` has a Ready, read in place: `raft.hasReady` on the stored node copied the
    /// whole node first (every array and table in it retained, then released), twice per Ready.
    private static func hasReady(_ node: inout RaftNode) -> Bool { node.hasReady }

    // MARK: - Background writes

    /// Whether a background write is in flight or queued.
    public var hasBackgroundWrites: Bool { inFlight != nil || !queued.isEmpty }

    /// Takes in a finished background write: tells Raft what is durable now and starts the next
    /// queued write. Call it on the owner's thread after `onBackgroundWrite`; a call for a write
    /// already taken in (or while the next is still in flight) does nothing.
    /// - Throws: the storage error the write failed with; the replica must then be discarded.
    public func backgroundWriteFinished() throws {
        guard let writer, inFlight != nil, writer.isIdle else { return }
        try takeFinishedWrite()
        if !queued.isEmpty { try startQueuedWrite() }
    }

    /// Starts writing every queued Ready as one record on the writer's thread; a batch that only
    /// moves the commit index (no I/O: the log keeps it for its next record) is done at once.
    private func startQueuedWrite() throws {
        guard let writer, inFlight == nil, let job = takeQueued() else { return }
        if !job.sync && job.entries.isEmpty {
            try take(job)
        } else {
            inFlight = job
            writer.run { job.run() }
        }
    }

    /// Waits for the write in flight and takes it in.
    private func takeFinishedWrite() throws {
        guard let job = inFlight else { return }
        writer?.waitUntilIdle()
        inFlight = nil
        try take(job)
    }

    /// Runs `job` here unless the writer already did, then tells Raft its Readys are durable.
    private func take(_ job: WriteJob) throws {
        if job.result == nil { job.run() }
        try job.result!.get()
        for rd in job.readys { raft.persisted(rd) }
    }

    /// Waits for the write in flight, then writes the queued ones here: afterwards the log is the
    /// replica's thread's alone and everything taken so far is durable.
    private func settleWrites() throws {
        try takeFinishedWrite()
        if let job = takeQueued() { try take(job) }
    }

    /// The queued Readys as one write, emptying the queue; nil when nothing is queued.
    private func takeQueued() -> WriteJob? {
        guard !queued.isEmpty else { return nil }
        defer { queued.removeAll() }
        return WriteJob(storage: storage, readys: queued)
    }

    /// Snapshots the state machine at its applied index, compacts the Raft log and the stored log
    /// up to it. Returns the snapshot's metadata, or nil when there was nothing new to compact.
    @discardableResult
    public func compact() throws -> SnapshotMetadata? {
        try settleWrites()
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
    ///
    /// With background writes, a leader may have applied entries its own write has not made
    /// durable yet; a snapshot is only taken at a durable index, so this first waits for the
    /// writes in flight.
    public func beginCompaction() throws -> (machine: Machine, metadata: SnapshotMetadata)? {
        if hasBackgroundWrites, raft.snapshotMetadata(at: stateMachine.appliedIndex) == nil { try settleWrites() }
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
        try settleWrites()
        guard raft.snapshotMetadata(at: prepared.metadata.index) == prepared.metadata,
              case .compacted(let metadata) = raft.compact(index: prepared.metadata.index, data: data) else {
            prepared.discard()
            return nil
        }
        try storage.compact(prepared: prepared)
        return metadata
    }

    /// Finishes the writes in flight and queued, stops the writer's thread and closes the storage.
    public func close() throws {
        defer { writer?.stop() }
        try settleWrites()
        try storage.close()
    }
}

/// One write of queued Readys as one record (their entries merged as the log would store them one
/// after another, the latest hard state, one sync if any needs it), and the Readys it makes
/// durable. Handed to the writer's thread; the replica touches neither it nor the storage until
/// the writer is idle again.
private final class WriteJob: @unchecked Sendable {
    let storage: DurableLog
    let readys: [Ready]
    let entries: [Entry]
    let hardState: HardState?
    let sync: Bool
    /// Set by ``run()``.
    var result: Result<Void, any Error>?

    init(storage: DurableLog, readys: [Ready]) {
        var entries: [Entry] = []
        var hardState: HardState?
        var sync = false
        for rd in readys {
            if let first = rd.entries.first {
                if let base = entries.first?.index {
                    // A later Ready's entries replace any from its first index on (entries are
                    // contiguous, so that is an offset).
                    let keep = max(0, Int(first.index) - Int(base))
                    if keep < entries.count { entries.removeSubrange(keep...) }
                    entries.append(contentsOf: rd.entries)
                } else {
                    entries = rd.entries  // shared, not copied: the usual single-Ready write
                }
            }
            if let hs = rd.hardState { hardState = hs }
            sync = sync || rd.needsSync
        }
        self.storage = storage
        self.readys = readys
        self.entries = entries
        self.hardState = hardState
        self.sync = sync
    }

    func run() {
        result = Result { try storage.append(entries: entries, hardState: hardState, sync: sync) }
    }
}

@available(*, unavailable)
extension RaftReplica: Sendable {}
