extension RaftNode {
    /// Handles one message from another node. Messages for another node, from stale terms or
    /// that make no sense in the current role are dropped (or answered so the sender learns
    /// the newer term); Raft tolerates any loss, duplication and reordering.
    public mutating func step(_ m: Message) {
        guard m.to == id, m.from != id, m.from != .none else { return }
        if m.term > term {
            switch m.body {
            case .vote(let request):
                let inLease = configuration.checkQuorum && (quietAfterStart || (leader != .none && electionElapsed < configuration.electionTimeout))
                if inLease && !request.transfer {
                    // We heard from a leader recently: a healthy cluster ignores the disruption.
                    return
                }
                if !request.preVote { becomeFollower(term: m.term, leader: .none) }
            case .voteResponse(let response) where response.preVote && response.granted:
                // A granted pre-vote carries the term we would campaign in: no change.
                break
            case .append, .heartbeat, .snapshotChunk:
                becomeFollower(term: m.term, leader: m.from)
            default:
                becomeFollower(term: m.term, leader: .none)
            }
        } else if m.term < term {
            switch m.body {
            case .append, .heartbeat, .snapshotChunk:
                // A stale leader: answer with our term so it steps down (it may be cut off from
                // everyone else by check-quorum or pre-vote and would never learn otherwise).
                send(Message(from: id, to: m.from, term: term, body: .appendResponse(.init(index: 0))))
            case .vote(let request) where request.preVote:
                send(Message(from: id, to: m.from, term: term, body: .voteResponse(.init(granted: false, preVote: true))))
            default:
                break
            }
            return
        }

        if case .vote(let request) = m.body {
            handleVoteRequest(m, request)
            return
        }
        switch role {
        case .leader: stepLeader(m)
        case .candidate, .preCandidate: stepCandidate(m)
        case .follower: stepFollower(m)
        }
    }

    // MARK: - Elections

    mutating func campaign(transfer: Bool) {
        guard isPromotable else { return }
        guard configuration.preVote && !transfer else {
            startElection(transfer: transfer)
            return
        }
        becomePreCandidate()
        votes[id] = true
        if tallyVotes() { return }
        for voter in membership.voters.sorted() where voter != id {
            let request = Message.VoteRequest(lastIndex: log.lastIndex, lastTerm: log.lastTerm, preVote: true, transfer: false)
            send(Message(from: id, to: voter, term: term + 1, body: .vote(request)))
        }
    }

    mutating func startElection(transfer: Bool) {
        becomeCandidate()
        votes[id] = true
        if tallyVotes() { return }
        for voter in membership.voters.sorted() where voter != id {
            let request = Message.VoteRequest(lastIndex: log.lastIndex, lastTerm: log.lastTerm, preVote: false, transfer: transfer)
            // A candidate's own vote is durable before it asks for others'.
            send(Message(from: id, to: voter, term: term, body: .vote(request)), afterPersist: true)
        }
    }

    /// Counts votes; wins or loses the (pre-)election when decided. Returns whether decided.
    mutating func tallyVotes() -> Bool {
        var granted = 0
        var rejected = 0
        for voter in membership.voters {
            switch votes[voter] {
            case true?: granted += 1
            case false?: rejected += 1
            case nil: break
            }
        }
        if granted >= membership.quorum {
            if role == .preCandidate {
                startElection(transfer: false)
            } else {
                becomeLeader()
            }
            return true
        }
        if rejected >= membership.quorum {
            becomeFollower(term: term, leader: .none)
            return true
        }
        return false
    }

    mutating func handleVoteRequest(_ m: Message, _ request: Message.VoteRequest) {
        let canVote = vote == m.from || (vote == .none && leader == .none) || (request.preVote && m.term > term)
        let granted = canVote && log.isUpToDate(lastIndex: request.lastIndex, lastTerm: request.lastTerm)
        if request.preVote {
            let replyTerm = granted ? m.term : term
            send(Message(from: id, to: m.from, term: replyTerm, body: .voteResponse(.init(granted: granted, preVote: true))))
            return
        }
        if granted {
            electionElapsed = 0
            vote = m.from
        }
        send(Message(from: id, to: m.from, term: term, body: .voteResponse(.init(granted: granted, preVote: false))), afterPersist: true)
    }

    mutating func stepCandidate(_ m: Message) {
        switch m.body {
        case .append(let append):
            becomeFollower(term: term, leader: m.from)
            handleAppend(m, append)
        case .heartbeat(let heartbeat):
            becomeFollower(term: term, leader: m.from)
            handleHeartbeat(m, heartbeat)
        case .snapshotChunk(let chunk):
            becomeFollower(term: term, leader: m.from)
            handleSnapshotChunk(m, chunk)
        case .voteResponse(let response):
            guard response.preVote == (role == .preCandidate) else { return }
            votes[m.from] = response.granted
            _ = tallyVotes()
        default:
            break
        }
    }

    mutating func stepFollower(_ m: Message) {
        switch m.body {
        case .append(let append):
            electionElapsed = 0
            leader = m.from
            handleAppend(m, append)
        case .heartbeat(let heartbeat):
            electionElapsed = 0
            leader = m.from
            handleHeartbeat(m, heartbeat)
        case .snapshotChunk(let chunk):
            electionElapsed = 0
            leader = m.from
            handleSnapshotChunk(m, chunk)
        case .timeoutNow:
            // Skip pre-vote and the lease check: the leader asked us to take over.
            campaign(transfer: true)
        default:
            break
        }
    }

    // MARK: - Follower side of replication

    mutating func handleAppend(_ m: Message, _ append: Message.Append) {
        if append.prevIndex < log.committed {
            send(Message(from: id, to: m.from, term: term, body: .appendResponse(.init(index: log.committed))), afterPersist: true)
            return
        }
        if log.matches(index: append.prevIndex, term: append.prevTerm) {
            let lastNew = log.appendMatching(after: append.prevIndex, append.entries)
            log.commit(to: min(append.commit, lastNew))
            send(Message(from: id, to: m.from, term: term, body: .appendResponse(.init(index: lastNew))), afterPersist: true)
        } else {
            let hint = log.lastIndex(atOrBelow: min(append.prevIndex, log.lastIndex), withTermAtMost: append.prevTerm)
            let response = Message.AppendResponse(index: append.prevIndex, reject: true, rejectHint: hint, hintTerm: log.term(at: hint) ?? 0)
            send(Message(from: id, to: m.from, term: term, body: .appendResponse(response)))
        }
    }

    mutating func handleHeartbeat(_ m: Message, _ heartbeat: Message.Heartbeat) {
        log.commit(to: min(heartbeat.commit, log.lastIndex))
        send(Message(from: id, to: m.from, term: term, body: .heartbeatResponse(.init(readContext: heartbeat.readContext))))
    }

    mutating func handleSnapshotChunk(_ m: Message, _ chunk: Message.SnapshotChunk) {
        let meta = chunk.metadata
        func reply(_ next: UInt64) -> Message {
            Message(from: id, to: m.from, term: term, body: .snapshotChunkResponse(.init(snapshotIndex: meta.index, snapshotTerm: meta.term, nextOffset: next)))
        }
        if meta.index <= log.committed {
            incomingSnapshot = nil
            send(Message(from: id, to: m.from, term: term, body: .appendResponse(.init(index: log.committed))), afterPersist: true)
            return
        }
        if chunk.offset == 0 || incomingSnapshot == nil || incomingSnapshot!.metadata != meta {
            guard chunk.offset == 0 else {
                send(reply(0))
                return
            }
            incomingSnapshot = (meta, chunk.totalSize, [])
        }
        guard chunk.offset == UInt64(incomingSnapshot!.data.count) else {
            send(reply(UInt64(incomingSnapshot!.data.count)))
            return
        }
        incomingSnapshot!.data.append(contentsOf: chunk.data)
        let received = UInt64(incomingSnapshot!.data.count)
        guard chunk.done else {
            send(reply(received))
            return
        }
        guard received == incomingSnapshot!.totalSize else {
            incomingSnapshot = nil
            send(reply(0))
            return
        }
        let snap = Snapshot(metadata: meta, data: incomingSnapshot!.data)
        incomingSnapshot = nil
        if log.matches(index: meta.index, term: meta.term) {
            // We already hold this prefix: just learn that it is committed.
            log.commit(to: meta.index)
        } else {
            log.restore(index: meta.index, term: meta.term)
            membership = meta.membership
            membershipHistory = [(meta.index, meta.membership)]
            snapshot = snap
            installedSnapshot = snap
        }
        send(Message(from: id, to: m.from, term: term, body: .appendResponse(.init(index: meta.index))), afterPersist: true)
    }
}
