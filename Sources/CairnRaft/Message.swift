/// A message between two Raft nodes. The transport delivers it to `to`; Raft tolerates loss,
/// duplication, delay and reordering of messages.
public struct Message: Sendable, Hashable {
    /// The sender.
    public var from: NodeID
    /// The recipient.
    public var to: NodeID
    /// The sender's term (for a pre-vote request: the term the sender would campaign in).
    public var term: Term
    /// What the message says.
    public var body: Body

    /// Creates a message.
    public init(from: NodeID, to: NodeID, term: Term, body: Body) {
        self.from = from
        self.to = to
        self.term = term
        self.body = body
    }

    /// The kinds of message and their fields.
    public enum Body: Sendable, Hashable {
        /// Leader → follower: entries following `(prevIndex, prevTerm)`, and the leader's commit.
        case append(Append)
        /// Follower → leader: the answer to an ``Append`` or to the last chunk of a snapshot.
        case appendResponse(AppendResponse)
        /// Candidate → voter: a vote request (or a pre-vote probe, which changes no state).
        case vote(VoteRequest)
        /// Voter → candidate.
        case voteResponse(VoteResponse)
        /// Leader → follower: "I am alive", the commit the follower may use, and a read context.
        case heartbeat(Heartbeat)
        /// Follower → leader: the heartbeat's read context echoed back.
        case heartbeatResponse(HeartbeatResponse)
        /// Leader → follower: one chunk of a snapshot.
        case snapshotChunk(SnapshotChunk)
        /// Follower → leader: the chunk offset the follower expects next.
        case snapshotChunkResponse(SnapshotChunkResponse)
        /// Leader → transfer target: campaign now, without waiting for an election timeout.
        case timeoutNow
    }

    /// The body of an AppendEntries request.
    public struct Append: Sendable, Hashable {
        /// The index of the entry just before `entries`.
        public var prevIndex: LogIndex
        /// The term of the entry at `prevIndex`.
        public var prevTerm: Term
        /// The entries to append, contiguous from `prevIndex + 1`; empty for a probe.
        public var entries: [Entry]
        /// The leader's commit index.
        public var commit: LogIndex
        /// Creates the body.
        public init(prevIndex: LogIndex, prevTerm: Term, entries: [Entry], commit: LogIndex) {
            self.prevIndex = prevIndex
            self.prevTerm = prevTerm
            self.entries = entries
            self.commit = commit
        }
    }

    /// The body of an AppendEntries response.
    public struct AppendResponse: Sendable, Hashable {
        /// On success: the last index the follower now matches. On rejection: the `prevIndex` rejected.
        public var index: LogIndex
        /// Whether the append was rejected because the follower's log did not match at `prevIndex`.
        public var reject: Bool
        /// On rejection: an index at or below which the leader should look for a match.
        public var rejectHint: LogIndex
        /// On rejection: the follower's term at `rejectHint` (0 when it has no entry there).
        public var hintTerm: Term
        /// Creates the body.
        public init(index: LogIndex, reject: Bool = false, rejectHint: LogIndex = 0, hintTerm: Term = 0) {
            self.index = index
            self.reject = reject
            self.rejectHint = rejectHint
            self.hintTerm = hintTerm
        }
    }

    /// The body of a RequestVote (or pre-vote) request.
    public struct VoteRequest: Sendable, Hashable {
        /// The index of the candidate's last entry.
        public var lastIndex: LogIndex
        /// The term of the candidate's last entry.
        public var lastTerm: Term
        /// A pre-vote probe: would you vote for me? Changes no state on the voter.
        public var preVote: Bool
        /// The campaign follows a leadership transfer: voters grant even while a leader is known.
        public var transfer: Bool
        /// Creates the body.
        public init(lastIndex: LogIndex, lastTerm: Term, preVote: Bool, transfer: Bool) {
            self.lastIndex = lastIndex
            self.lastTerm = lastTerm
            self.preVote = preVote
            self.transfer = transfer
        }
    }

    /// The body of a vote response.
    public struct VoteResponse: Sendable, Hashable {
        /// Whether the vote is granted.
        public var granted: Bool
        /// Whether this answers a pre-vote probe.
        public var preVote: Bool
        /// Creates the body.
        public init(granted: Bool, preVote: Bool) {
            self.granted = granted
            self.preVote = preVote
        }
    }

    /// The body of a heartbeat.
    public struct Heartbeat: Sendable, Hashable {
        /// The commit index the follower may adopt (never above what the leader knows it holds).
        public var commit: LogIndex
        /// A read-index round this heartbeat confirms leadership for (0 when none).
        public var readContext: UInt64
        /// Creates the body.
        public init(commit: LogIndex, readContext: UInt64) {
            self.commit = commit
            self.readContext = readContext
        }
    }

    /// The body of a heartbeat response.
    public struct HeartbeatResponse: Sendable, Hashable {
        /// The heartbeat's read context, echoed.
        public var readContext: UInt64
        /// Creates the body.
        public init(readContext: UInt64) { self.readContext = readContext }
    }

    /// One chunk of a snapshot on its way to a follower.
    public struct SnapshotChunk: Sendable, Hashable {
        /// What the whole snapshot covers.
        public var metadata: SnapshotMetadata
        /// The whole snapshot's data length in bytes.
        public var totalSize: UInt64
        /// Where `data` starts in the snapshot.
        public var offset: UInt64
        /// The chunk's bytes.
        public var data: [UInt8]
        /// Whether this is the last chunk.
        public var done: Bool
        /// Creates the body.
        public init(metadata: SnapshotMetadata, totalSize: UInt64, offset: UInt64, data: [UInt8], done: Bool) {
            self.metadata = metadata
            self.totalSize = totalSize
            self.offset = offset
            self.data = data
            self.done = done
        }
    }

    /// A follower's acknowledgement of snapshot chunks.
    public struct SnapshotChunkResponse: Sendable, Hashable {
        /// The snapshot's last index (identifies which snapshot, with `snapshotTerm`).
        public var snapshotIndex: LogIndex
        /// The snapshot's term.
        public var snapshotTerm: Term
        /// The offset the follower expects next.
        public var nextOffset: UInt64
        /// Creates the body.
        public init(snapshotIndex: LogIndex, snapshotTerm: Term, nextOffset: UInt64) {
            self.snapshotIndex = snapshotIndex
            self.snapshotTerm = snapshotTerm
            self.nextOffset = nextOffset
        }
    }
}
