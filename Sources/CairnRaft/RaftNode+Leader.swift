extension RaftNode {
    // MARK: - Leader ticks

    mutating func tickLeader() {
        heartbeatElapsed += 1
        electionElapsed += 1
        if electionElapsed >= configuration.electionTimeout {
            electionElapsed = 0
            if configuration.checkQuorum {
                let active = membership.voters.filter { $0 == id || progress[$0]?.recentActive == true }.count
                if active < membership.quorum {
                    becomeFollower(term: term, leader: .none)
                    return
                }
                for peer in progress.keys where peer != id { progress[peer]!.recentActive = false }
            }
            if leadTransferee != .none {
                leadTransferee = .none
            }
        }
        if heartbeatElapsed >= configuration.heartbeatInterval {
            heartbeatElapsed = 0
            broadcastHeartbeat()
        }
    }

    // MARK: - Replication

    mutating func appendAndReplicate(_ entries: [Entry]) {
        log.append(entries)
        broadcastAppend()
    }

    mutating func broadcastAppend() {
        for peer in progress.keys.sorted() where peer != id {
            _ = sendAppend(to: peer, allowEmpty: true)
        }
    }

    /// Tells every follower that the commit index moved. A follower that is up to date gets an
    /// empty append as a *commit notice* (``Ready/commitNotices``), which the shell may hold back
    /// and drop once a later append to the same follower carries the commit index anyway; any
    /// other follower gets its next append (entries, a probe or a snapshot) as usual.
    mutating func broadcastCommit() {
        for peer in progress.keys.sorted() where peer != id {
            guard let pr = progress[peer], pr.state == .replicate, !pr.isPaused, pr.next > log.lastIndex,
                  let prevTerm = log.term(at: pr.next - 1) else {
                _ = sendAppend(to: peer, allowEmpty: true)
                continue
            }
            commitNotices.append(appendMessage(to: peer, prevIndex: pr.next - 1, prevTerm: prevTerm, entries: []))
        }
    }

    /// Sends the next append to `peer` if its progress allows; returns whether anything was sent.
    mutating func sendAppend(to peer: NodeID, allowEmpty: Bool) -> Bool {
        guard peer != id, var pr = progress[peer], !pr.isPaused else { return false }
        let prevIndex = pr.next - 1
        guard let prevTerm = log.term(at: prevIndex),
              let entries = log.slice(from: pr.next, maxBytes: configuration.maxAppendBytes)
        else {
            // The follower needs entries we compacted away: send the snapshot instead.
            guard let snap = snapshot else { return false }
            pr.becomeSnapshot(snap.metadata)
            progress[peer] = pr
            sendSnapshotChunk(to: peer)
            return true
        }
        if entries.isEmpty && !allowEmpty { return false }
        send(appendMessage(to: peer, prevIndex: prevIndex, prevTerm: prevTerm, entries: entries))
        switch pr.state {
        case .replicate:
            if let last = entries.last {
                pr.next = last.index + 1
                pr.inflights.add(last.index)
            }
        case .probe:
            pr.probeSent = true
        case .snapshot:
            break
        }
        progress[peer] = pr
        return true
    }

    /// An append of `entries` after `prevIndex` to `peer`, carrying the leader's commit index.
    func appendMessage(to peer: NodeID, prevIndex: LogIndex, prevTerm: Term, entries: [Entry]) -> Message {
        Message(from: id, to: peer, term: term, body: .append(.init(prevIndex: prevIndex, prevTerm: prevTerm, entries: entries, commit: log.committed)))
    }

    mutating func sendTimeoutNow(to peer: NodeID) {
        leaseDisabledThisTerm = true
        leaseStart = nil
        send(Message(from: id, to: peer, term: term, body: .timeoutNow))
    }

    mutating func stepLeader(_ m: Message) {
        switch m.body {
        case .appendResponse(let response): handleAppendResponse(m, response)
        case .heartbeatResponse(let response): handleHeartbeatResponse(m, response)
        case .snapshotChunkResponse(let response): handleSnapshotChunkResponse(m, response)
        default: break
        }
    }

    mutating func handleAppendResponse(_ m: Message, _ response: Message.AppendResponse) {
        guard var pr = progress[m.from] else { return }
        pr.recentActive = true
        if response.reject {
            var probeFrom = response.rejectHint
            if response.hintTerm > 0 {
                probeFrom = log.lastIndex(atOrBelow: response.rejectHint, withTermAtMost: response.hintTerm)
            }
            if pr.maybeDecrease(rejected: response.index, matchHint: probeFrom) {
                if pr.state == .replicate { pr.becomeProbe() }
                progress[m.from] = pr
                _ = sendAppend(to: m.from, allowEmpty: true)
            } else {
                progress[m.from] = pr
            }
            return
        }
        let wasPaused = pr.isPaused
        let updated = pr.maybeUpdate(response.index)
        if updated {
            switch pr.state {
            case .probe:
                pr.becomeReplicate()
            case .snapshot:
                if let pending = pr.pendingSnapshot, pr.match >= pending.index { pr.becomeReplicate() }
            case .replicate:
                pr.inflights.free(through: response.index)
            }
        } else if pr.state == .replicate {
            pr.inflights.free(through: response.index)
        }
        progress[m.from] = pr
        if updated && maybeCommit() {
            broadcastCommit()
        } else if updated && wasPaused {
            // The follower was paused when the commit last moved: bring it the commit index now.
            _ = sendAppend(to: m.from, allowEmpty: true)
        }
        while sendAppend(to: m.from, allowEmpty: false) {}
        if updated {
            if m.from == leadTransferee && pr.match == log.lastIndex {
                sendTimeoutNow(to: m.from)
            }
            maybePromote(m.from)
        }
    }

    mutating func maybePromote(_ peer: NodeID) {
        guard configuration.autoPromoteLearners, role == .leader, membership.learners.contains(peer),
              pendingMembershipIndex <= log.applied, leadTransferee == .none,
              let pr = progress[peer], pr.match >= log.committed else { return }
        _ = proposeMembershipChange(.promote(peer))
    }

    mutating func handleHeartbeatResponse(_ m: Message, _ response: Message.HeartbeatResponse) {
        guard var pr = progress[m.from] else { return }
        pr.recentActive = true
        if response.readContext > pr.ackedRound { pr.ackedRound = response.readContext }
        var resend = false
        switch pr.state {
        case .probe:
            pr.probeSent = false
            resend = pr.match < log.lastIndex
        case .replicate:
            if pr.inflights.isFull { pr.inflights.freeFirst() }
            if pr.match < log.lastIndex {
                // No progress since the previous heartbeat answer: an append was lost.
                if pr.match == pr.matchAtLastHeartbeat {
                    pr.becomeProbe()
                    resend = true
                }
            }
        case .snapshot:
            break
        }
        pr.matchAtLastHeartbeat = pr.match
        progress[m.from] = pr
        if pr.state == .snapshot {
            sendSnapshotChunk(to: m.from)
        } else if resend {
            _ = sendAppend(to: m.from, allowEmpty: true)
        }
        if membership.voters.contains(m.from) { advanceReadRounds() }
        maybePromote(m.from)
    }

    // MARK: - Snapshots to followers

    mutating func sendSnapshotChunk(to peer: NodeID) {
        guard var pr = progress[peer], pr.state == .snapshot, let snap = snapshot else { return }
        if pr.pendingSnapshot != snap.metadata { pr.becomeSnapshot(snap.metadata) }
        let total = snap.data.count
        let offset = Int(min(pr.snapshotOffset, UInt64(total)))
        let end = min(offset + max(1, configuration.snapshotChunkSize), total)
        let chunk = Message.SnapshotChunk(metadata: snap.metadata, totalSize: UInt64(total), offset: UInt64(offset),
                                          data: Array(snap.data[offset..<end]), done: end == total)
        progress[peer] = pr
        send(Message(from: id, to: peer, term: term, body: .snapshotChunk(chunk)))
    }

    mutating func handleSnapshotChunkResponse(_ m: Message, _ response: Message.SnapshotChunkResponse) {
        guard var pr = progress[m.from] else { return }
        pr.recentActive = true
        guard pr.state == .snapshot, let pending = pr.pendingSnapshot,
              pending.index == response.snapshotIndex, pending.term == response.snapshotTerm else {
            progress[m.from] = pr
            return
        }
        // A duplicate acknowledgement of the chunk already being sent: the heartbeat path
        // resends lost chunks, so answering it again would only double every later chunk.
        guard response.nextOffset != pr.snapshotOffset else {
            progress[m.from] = pr
            return
        }
        pr.snapshotOffset = response.nextOffset
        progress[m.from] = pr
        sendSnapshotChunk(to: m.from)
    }

    // MARK: - Commit

    /// Advances the commit index to the highest index a quorum of voters holds, but only to an
    /// entry of the current term (an older entry is committed indirectly, by a newer one: Raft
    /// §5.4.2, Figure 8). Returns whether the commit index moved.
    mutating func maybeCommit() -> Bool {
        guard role == .leader, !membership.voters.isEmpty else { return false }
        var matches: [LogIndex] = []
        matches.reserveCapacity(membership.voters.count)
        for voter in membership.voters {
            matches.append(voter == id ? log.stable : (progress[voter]?.match ?? 0))
        }
        matches.sort(by: >)
        let candidate = matches[membership.quorum - 1]
        guard candidate > log.committed, log.term(at: candidate) == term else { return false }
        log.commit(to: candidate)
        if !readsAwaitingCommit.isEmpty {
            let waiting = readsAwaitingCommit
            readsAwaitingCommit.removeAll()
            _ = readIndex(batch: waiting)
        }
        return true
    }
}
