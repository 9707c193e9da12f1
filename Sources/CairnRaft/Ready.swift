/// The work a ``RaftNode`` hands to its shell, taken with ``RaftNode/ready()``.
///
/// The shell carries out every `Ready` fully and strictly in the order they were taken:
///
/// 1. Send `messages` at once: they do not depend on anything being durable (a leader's appends
///    go out while it writes the same entries to its own disk).
/// 2. Make `snapshot` (if any), `entries` and `hardState` durable, in that order, with one
///    sync: `entries` may begin at or below the last stored index, in which case the stored log
///    is cut there first. When ``needsSync`` is false the hard state moved only its commit index,
///    which Raft lets a node forget (it is learned again from the leader): write it, but the sync
///    may be skipped — on a leader that sync would sit between a write's quorum and its answer.
/// 3. Then call ``RaftNode/persisted(_:)`` with this `Ready`, and only then send
///    `messagesAfterPersist` (votes and acknowledgements promise what is now on disk).
/// 4. Restore the state machine from `snapshot` (if any), then apply `committed` in order.
///    Committed entries are durable on a quorum but not necessarily on this node yet: a leader
///    commits on its followers' acknowledgements while its own write may still be in flight.
///    They may be applied at once, without waiting for this `Ready`'s step 2 — but a snapshot of
///    the state machine is only taken at an index this node has made durable
///    (``RaftNode/snapshotMetadata(at:)`` refuses any other).
/// 5. Answer each of `readStates` once the state machine has applied its `index`.
/// 6. Deliver `commitNotices` — or hold them back and drop one as soon as another append to the
///    same peer has gone out (it carries the commit index too). They promise nothing and may be
///    delayed or lost like any message; heartbeats bring an idle follower the commit index anyway.
///
/// A shell may take the next `Ready` before the previous one is durable (so the next batch is
/// formed while the disk works, and a leader's write overlaps its followers'), as long as steps
/// 2–3 happen in order for each.
public struct Ready: Sendable {
    /// Term, vote and commit, when they changed since the last `Ready`.
    public var hardState: HardState?
    /// Whether `hardState` changed the term or the vote (and not the commit index alone): it
    /// must then be durable before `messagesAfterPersist` go out.
    public var hardStateMustSync = false
    /// Entries to append durably (possibly replacing a stored suffix).
    public var entries: [Entry] = []
    /// A snapshot received from the leader, to store and restore before applying anything.
    public var snapshot: Snapshot?
    /// Messages to send now.
    public var messages: [Message] = []
    /// Messages to send only once this `Ready` is durable.
    public var messagesAfterPersist: [Message] = []
    /// Empty appends that only tell an up-to-date follower the new commit index (see step 6):
    /// a shell may coalesce them with the next append to the same follower.
    public var commitNotices: [Message] = []
    /// Committed entries to apply, in order.
    public var committed: [Entry] = []
    /// Linearizable reads that may be answered once `index` is applied.
    public var readStates: [ReadState] = []
    /// Reads accepted earlier that can no longer be confirmed (this node lost leadership): answer
    /// them with "not leader" so the client retries elsewhere.
    public var droppedReads: [UInt64] = []
    /// The role and known leader, when they changed since the last `Ready`.
    public var softState: SoftState?

    /// Whether there is nothing to do.
    public var isEmpty: Bool {
        hardState == nil && entries.isEmpty && snapshot == nil && messages.isEmpty
            && messagesAfterPersist.isEmpty && commitNotices.isEmpty && committed.isEmpty && readStates.isEmpty && droppedReads.isEmpty && softState == nil
    }

    /// Whether steps 2–3 (persisting) have anything to write.
    public var needsPersist: Bool { hardState != nil || !entries.isEmpty || snapshot != nil }

    /// Whether what step 2 writes must be synced: entries, a snapshot, or a new term or vote. A
    /// hard state that moved only the commit index may be written without a sync.
    public var needsSync: Bool { !entries.isEmpty || snapshot != nil || (hardState != nil && hardStateMustSync) }
}

/// A linearizable read that is safe to answer once the state machine has applied `index`.
public struct ReadState: Sendable, Hashable {
    /// The caller's id for the read, as passed to ``RaftNode/readIndex(_:)``.
    public var requestID: UInt64
    /// The commit index the read must wait for.
    public var index: LogIndex

    /// Creates a read state.
    public init(requestID: UInt64, index: LogIndex) {
        self.requestID = requestID
        self.index = index
    }
}

/// A node's role in the cluster.
public enum Role: String, Sendable, Hashable {
    case follower, preCandidate, candidate, leader
}

/// Volatile state worth telling the shell about when it changes.
public struct SoftState: Sendable, Hashable {
    /// This node's role.
    public var role: Role
    /// The leader this node knows of in the current term, or ``NodeID/none``.
    public var leader: NodeID
    /// The current term.
    public var term: Term

    /// Creates a soft state.
    public init(role: Role, leader: NodeID, term: Term) {
        self.role = role
        self.leader = leader
        self.term = term
    }
}
