import CairnRaft

extension Message {
    /// What a message is, for counting and filtering.
    enum Kind: Hashable {
        case append, appendResponse, vote, preVote, voteResponse, preVoteResponse
        case heartbeat, heartbeatResponse, snapshotChunk, snapshotChunkResponse, timeoutNow
    }

    var kind: Kind {
        switch body {
        case .append: return .append
        case .appendResponse: return .appendResponse
        case .vote(let v): return v.preVote ? .preVote : .vote
        case .voteResponse(let v): return v.preVote ? .preVoteResponse : .voteResponse
        case .heartbeat: return .heartbeat
        case .heartbeatResponse: return .heartbeatResponse
        case .snapshotChunk: return .snapshotChunk
        case .snapshotChunkResponse: return .snapshotChunkResponse
        case .timeoutNow: return .timeoutNow
        }
    }

    /// The entries an append carries (empty for anything else).
    var appendedEntries: [Entry] {
        if case .append(let a) = body { return a.entries }
        return []
    }

    /// Whether this is an append response rejecting the append.
    var isRejection: Bool {
        if case .appendResponse(let r) = body { return r.reject }
        return false
    }

    /// Whether this is a vote (or pre-vote) response granting the vote.
    var isGrant: Bool {
        if case .voteResponse(let r) = body { return r.granted }
        return false
    }

    /// A snapshot chunk's offset, if this is one.
    var chunkOffset: UInt64? {
        if case .snapshotChunk(let c) = body { return c.offset }
        return nil
    }

    /// A heartbeat's read context, if this is one.
    var readContext: UInt64? {
        if case .heartbeat(let h) = body { return h.readContext }
        return nil
    }
}
