extension RaftNode {
    /// Asks for a linearizable read point without writing to the log (ReadIndex).
    ///
    /// The leader records its commit index, then confirms with a round of heartbeats that a
    /// quorum still follows it; the read is released in ``Ready/readStates`` once confirmed, and
    /// the shell answers it after applying up to the released index. A new leader first commits
    /// an entry of its own term (its commit index may lag until then), so reads queue until it has.
    public mutating func readIndex(_ requestID: UInt64) -> ReadOutcome {
        readIndex(batch: [requestID])
    }

    /// ``readIndex(_:)`` for many requests confirmed by one heartbeat round.
    public mutating func readIndex(batch requestIDs: [UInt64]) -> ReadOutcome {
        guard role == .leader else { return .notLeader(leader: leader) }
        guard !requestIDs.isEmpty else { return .pending }
        guard log.term(at: log.committed) == term else {
            readsAwaitingCommit.append(contentsOf: requestIDs)
            return .pending
        }
        if membership.voters == [id] {
            for request in requestIDs { releasedReads.append(ReadState(requestID: request, index: log.committed)) }
            return .pending
        }
        broadcastHeartbeat()
        pendingReads.append((round: heartbeatRound, index: log.committed, ids: requestIDs))
        return .pending
    }

    /// Whether this leader holds a lease: a quorum acknowledged a heartbeat sent less than
    /// `electionTimeout - leaseSafetyMargin` ticks ago, so no other leader can have been elected
    /// yet and a read of the local state is linearizable without another round trip.
    ///
    /// The clock assumption: every node's ticks advance at nearly the same real rate (the margin
    /// absorbs the drift over one election timeout) and a paused process (GC, SIGSTOP, a VM
    /// stall) on the leader does not resume to serve stale reads — a pause longer than the lease
    /// breaks the guarantee. The lease relies on check-quorum (followers refuse votes while they
    /// hear from a leader) and is off for the rest of the term once a leadership transfer starts.
    public var leaseIsValid: Bool {
        guard role == .leader, configuration.checkQuorum, !leaseDisabledThisTerm, leadTransferee == .none,
              log.term(at: log.committed) == term else { return false }
        if membership.voters == [id] { return true }
        guard let start = leaseStart else { return false }
        let length = UInt64(max(0, configuration.electionTimeout - configuration.leaseSafetyMargin))
        return ticks < start + length
    }

    /// A read served under the leader lease when it is valid (released at once), or through
    /// ReadIndex otherwise.
    public mutating func leaseRead(_ requestID: UInt64) -> ReadOutcome {
        guard role == .leader else { return .notLeader(leader: leader) }
        if leaseIsValid {
            releasedReads.append(ReadState(requestID: requestID, index: log.committed))
            return .pending
        }
        return readIndex(requestID)
    }

    mutating func broadcastHeartbeat() {
        heartbeatRound += 1
        roundSentAt[heartbeatRound] = ticks
        for peer in progress.keys.sorted() where peer != id {
            let commit = min(progress[peer]!.match, log.committed)
            send(Message(from: id, to: peer, term: term, body: .heartbeat(.init(commit: commit, readContext: heartbeatRound))))
        }
        if membership.voters == [id] { advanceReadRounds() }
    }

    /// Finds the newest heartbeat round a quorum has answered and releases the reads waiting on
    /// it or on any earlier round; the round's send time starts the lease.
    mutating func advanceReadRounds() {
        guard role == .leader, membership.voters.contains(id) else { return }
        var rounds: [UInt64] = []
        rounds.reserveCapacity(membership.voters.count)
        for voter in membership.voters {
            rounds.append(voter == id ? heartbeatRound : (progress[voter]?.ackedRound ?? 0))
        }
        rounds.sort(by: >)
        let confirmed = rounds[membership.quorum - 1]
        guard confirmed > confirmedRound else { return }
        confirmedRound = confirmed
        if let sent = roundSentAt[confirmed] { leaseStart = sent }
        roundSentAt = roundSentAt.filter { $0.key > confirmed }
        var released = 0
        for read in pendingReads {
            guard read.round <= confirmed else { break }
            for request in read.ids { releasedReads.append(ReadState(requestID: request, index: read.index)) }
            released += 1
        }
        pendingReads.removeFirst(released)
    }
}
