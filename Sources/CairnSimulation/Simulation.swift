import CairnKernel
import CairnRaft

/// A deterministic simulation of a Raft cluster: real ``RaftNode`` values, a simulated network
/// that loses, duplicates, delays and reorders messages and can be partitioned, simulated disks
/// where a crash loses every write not yet complete, and a client that proposes and reads.
///
/// Invariants checked while it runs: Election Safety (one leader per term), Leader Completeness
/// (a new leader holds every entry applied anywhere), State Machine Safety (no two nodes apply
/// different entries at one index), linearizable reads (a read sees every write acknowledged
/// before it was issued). After the faults stop and the cluster heals: Log Matching across all
/// nodes, and every acknowledged proposal applied exactly once, in the same order, on every member.
public final class Simulation {
    let options: SimulationOptions
    let profile: SimulationProfile
    var rng: SeededRandom
    var now = 0
    var report: SimulationReport

    var nodes: [NodeID: SimNode] = [:]
    var nextNodeID: NodeID
    var events: [Int: [Event]] = [:]
    var blocked: Set<Link> = []
    var partitionEndsAt: Int? = nil
    var faultsActive = true

    // Global knowledge for invariant checks.
    var leaderOfTerm: [Term: NodeID] = [:]
    /// Every index applied anywhere: its entry, and the lowest term of a node applying it (the
    /// entry was committed in that term or an earlier one).
    var appliedAt: [LogIndex: (term: Term, data: [UInt8], kind: Entry.Kind, appliedInTerm: Term)] = [:]
    var acked: [UInt64] = []
    var ackedSet: Set<UInt64> = []
    var nextValue: UInt64 = 1
    var nextReadID: UInt64 = 1
    var everMember: Set<NodeID> = []
    var lastMembership: (index: LogIndex, membership: Membership) = (0, Membership())

    struct Link: Hashable { var from: NodeID; var to: NodeID }

    enum Event {
        case deliver(Message)
        case restart(NodeID)
    }

    /// Creates a simulation; nothing runs until ``run()``.
    public init(options: SimulationOptions) {
        self.options = options
        rng = SeededRandom(seed: options.seed &* 0x9E37_79B9_7F4A_7C15 &+ 1)
        report = SimulationReport(options: options)
        profile = SimulationProfile(drawingFrom: &rng)
        report.profile = profile
        let voters = Set((1...NodeID(options.nodeCount)))
        nextNodeID = NodeID(options.nodeCount) + 1
        everMember = voters
        for id in voters.sorted() {
            let node = SimNode(id: id, phase: Int(rng.next() % UInt64(options.tickUnits)), durable: RestoredState.bootstrap(voters: voters),
                               seed: options.seed, profile: profile)
            nodes[id] = node
        }
    }

    // MARK: - Running

    /// Runs the fault phase, heals everything, lets the cluster converge, and checks it.
    public func run() -> SimulationReport {
        let faultEnd = options.faultTicks * options.tickUnits
        while now < faultEnd && report.violations.isEmpty {
            step()
        }
        heal()
        let deadline = now + options.convergeTicks * options.tickUnits
        var converged = false
        while now < deadline && report.violations.isEmpty {
            step()
            if now % options.tickUnits == 0 && isConverged() {
                converged = true
                break
            }
        }
        if report.violations.isEmpty && !converged {
            violation("liveness: the healed cluster did not converge within \(options.convergeTicks) ticks (\(describeCluster()))")
        }
        if report.violations.isEmpty { checkFinal() }
        return report
    }

    func step() {
        now += 1
        if now % options.tickUnits == 0 && faultsActive { injectFaults() }
        if let due = events.removeValue(forKey: now) {
            for event in due {
                switch event {
                case .deliver(let m): deliver(m)
                case .restart(let id): restart(id)
                }
            }
        }
        for id in nodes.keys.sorted() {
            guard let node = nodes[id], node.running else { continue }
            completeDiskWrites(node)
            if (now + node.phase) % options.tickUnits == 0 {
                node.raft.tick()
                drain(node)
            }
        }
        if let end = partitionEndsAt, now >= end {
            blocked.removeAll()
            partitionEndsAt = nil
            log("partition healed")
        }
    }

    func schedule(_ event: Event, after delay: Int) {
        events[now + max(1, delay), default: []].append(event)
    }

    // MARK: - Faults and client traffic

    func injectFaults() {
        let running = nodes.values.filter { $0.running && !$0.decommissioned }.map(\.id).sorted()
        if chance(options.proposalRate) { propose() }
        if chance(options.readRate) { read() }
        if options.crashes && chance(profile.crashRate), let victim = running.randomElement(using: &rng) {
            crash(victim, restartAfter: Int.random(in: profile.restartTicks, using: &rng) * options.tickUnits)
        }
        if options.partitions && partitionEndsAt == nil && chance(profile.partitionRate) { partition(running) }
        if options.snapshots && chance(0.03), let id = running.randomElement(using: &rng) { compact(id) }
        if options.membershipChanges && chance(0.01) { changeMembership() }
        if options.transfers && chance(0.008), let leader = currentLeader() {
            let targets = leader.raft.membership.voters.filter { $0 != leader.id }.sorted()
            if let target = targets.randomElement(using: &rng) {
                let outcome = leader.raft.transferLeadership(to: target)
                log("transfer \(leader.id) -> \(target): \(outcome)")
                drain(leader)
            }
        }
    }

    func heal() {
        faultsActive = false
        blocked.removeAll()
        partitionEndsAt = nil
        log("heal: faults stop, every node restarts")
        for id in nodes.keys.sorted() where !nodes[id]!.running && !nodes[id]!.decommissioned {
            restart(id)
        }
        // A last write, so that every member must catch up past everything before it.
        proposeWhenLeaderKnown = true
    }

    var proposeWhenLeaderKnown = false

    func currentLeader() -> SimNode? {
        let leaders = nodes.values.filter { $0.running && $0.raft.role == .leader }.sorted { $0.raft.term > $1.raft.term }
        return leaders.first
    }

    func chance(_ p: Double) -> Bool {
        Double(rng.next() % 1_000_000) < p * 1_000_000
    }

    @discardableResult
    func propose() -> Bool {
        guard let leader = currentLeader() else { return false }
        let count = Int.random(in: 1...3, using: &rng)
        var commands: [[UInt8]] = []
        var values: [UInt64] = []
        for _ in 0..<count {
            let v = nextValue
            nextValue += 1
            values.append(v)
            commands.append(withUnsafeBytes(of: v.littleEndian) { Array($0) })
        }
        let outcome = leader.raft.propose(batch: commands)
        if case .accepted(let first, _, let term) = outcome {
            for (offset, v) in values.enumerated() {
                leader.pendingProposals[first + LogIndex(offset)] = (term, v)
            }
            log("propose \(values) at \(leader.id): \(first)@\(term)")
            drain(leader)
            return true
        }
        drain(leader)
        return false
    }

    func read() {
        guard let leader = currentLeader() else { return }
        let id = nextReadID
        nextReadID += 1
        leader.pendingReads[id] = acked.count
        let lease = chance(0.5)
        _ = lease ? leader.raft.leaseRead(id) : leader.raft.readIndex(id)
        log("read \(id) at \(leader.id) (\(lease ? "lease" : "readIndex")) after \(acked.count) acks")
        drain(leader)
    }

    func crash(_ id: NodeID, restartAfter delay: Int) {
        guard let node = nodes[id], node.running else { return }
        node.running = false
        node.diskQueue.removeAll()
        node.pendingProposals.removeAll()
        node.pendingReads.removeAll()
        node.waitingReads.removeAll()
        report.crashes += 1
        log("crash \(id) (durable last index \(node.durable.lastIndex))")
        schedule(.restart(id), after: delay)
    }

    func restart(_ id: NodeID) {
        guard let node = nodes[id], !node.running, !node.decommissioned else { return }
        node.restart(seed: options.seed)
        if !node.stateMachine.anomalies.isEmpty { violation("node \(id) restored a state machine with anomalies") }
        log("restart \(id) at term \(node.raft.term), last index \(node.raft.lastIndex)")
        drain(node)
    }

    func partition(_ running: [NodeID]) {
        let all = nodes.keys.sorted()
        if chance(0.3), let a = all.randomElement(using: &rng), let b = all.filter({ $0 != a }).randomElement(using: &rng) {
            blocked.insert(Link(from: a, to: b))
            log("asymmetric partition: \(a) -> \(b) cut")
        } else {
            var side: Set<NodeID> = []
            for id in all where chance(0.5) { side.insert(id) }
            for a in all {
                for b in all where side.contains(a) != side.contains(b) { blocked.insert(Link(from: a, to: b)) }
            }
            log("partition: \(side.sorted()) | \(Set(all).subtracting(side).sorted())")
        }
        partitionEndsAt = now + Int.random(in: 5...80, using: &rng) * options.tickUnits
    }

    func compact(_ id: NodeID) {
        guard let node = nodes[id] else { return }
        let index = node.stateMachine.appliedIndex
        guard index >= node.raft.firstIndex + 3 else { return }
        let data = node.stateMachine.snapshot()
        if case .compacted(let meta) = node.raft.compact(index: index, data: data) {
            node.durable.compact(Snapshot(metadata: meta, data: data))
            log("compact \(id) through \(index)")
        }
    }

    func changeMembership() {
        guard let leader = currentLeader() else { return }
        let config = leader.raft.membership
        let outcome: ProposalOutcome
        if config.voters.count > options.nodeCount, let victim = config.voters.sorted().randomElement(using: &rng) {
            outcome = leader.raft.proposeMembershipChange(.remove(victim))
            log("propose remove \(victim) at \(leader.id): \(outcome)")
        } else {
            let idle = nodes.values.filter { !everMember.contains($0.id) && $0.running }.map(\.id).min()
            let newID = idle ?? nextNodeID
            if idle == nil {
                nextNodeID += 1
                nodes[newID] = SimNode(id: newID, phase: Int(rng.next() % UInt64(options.tickUnits)), durable: RestoredState(),
                                       seed: options.seed, profile: profile)
            }
            outcome = leader.raft.proposeMembershipChange(.addLearner(newID))
            log("propose add learner \(newID) at \(leader.id): \(outcome)")
        }
        drain(leader)
    }

    // MARK: - Network

    func send(_ m: Message) {
        guard !blocked.contains(Link(from: m.from, to: m.to)) else { return }
        if faultsActive && chance(options.lossRate) { return }
        schedule(.deliver(m), after: messageDelay())
        if faultsActive && chance(options.duplicateRate) { schedule(.deliver(m), after: messageDelay()) }
    }

    func messageDelay() -> Int {
        if faultsActive && chance(0.1) { return Int.random(in: 5...40, using: &rng) }
        return Int.random(in: 1...4, using: &rng)
    }

    func deliver(_ m: Message) {
        guard let node = nodes[m.to], node.running, !blocked.contains(Link(from: m.from, to: m.to)) else { return }
        report.messagesDelivered += 1
        if options.trace { log("deliver \(m.from)->\(m.to) t\(m.term) \(describe(m.body))") }
        node.raft.step(m)
        drain(node)
    }

    // MARK: - The shell of each node

    /// Takes every Ready: sends what may go now, queues the rest behind the disk.
    func drain(_ node: SimNode) {
        while node.running && node.raft.hasReady {
            let rd = node.raft.ready()
            if let soft = rd.softState { observe(soft, on: node) }
            for m in rd.messages { send(m) }
            for m in rd.commitNotices where !chance(options.commitNoticeDropRate) { send(m) }
            if faultsActive && options.crashes && rd.needsPersist && chance(profile.crashBeforePersistRate) {
                // The worst moment: what this Ready sent is out, what it must write is not.
                node.diskQueue.append((rd, now, false))
                crash(node.id, restartAfter: Int.random(in: 1...3, using: &rng) * options.tickUnits)
                return
            }
            let start = max(now, node.diskQueue.last?.completeAt ?? now)
            let completeAt = rd.needsSync ? start + Int.random(in: 1...profile.maxDiskUnits, using: &rng) : start
            // Committed entries are durable on a quorum: they may be applied before this node's
            // own write finishes — unless a snapshot must be restored first.
            let mayApply = rd.snapshot == nil && !node.diskQueue.contains { !$0.applied }
            let nothingToApply = rd.committed.isEmpty && rd.readStates.isEmpty && rd.droppedReads.isEmpty
            let applyNow = mayApply && (nothingToApply || chance(profile.applyBeforePersistRate))
            node.diskQueue.append((rd, completeAt, applyNow))
            if applyNow {
                report.appliedBeforeDurable += rd.committed.count { $0.index > node.durable.lastIndex }
                applyCommitted(rd, on: node)
            }
        }
        completeDiskWrites(node)
    }

    /// Step 4 and 5 of a Ready: its committed entries, reads and dropped reads.
    func applyCommitted(_ rd: Ready, on node: SimNode) {
        for entry in rd.committed { apply(entry, on: node) }
        for read in rd.readStates { node.waitingReads.append(read) }
        for id in rd.droppedReads { node.pendingReads[id] = nil }
        serveReads(node)
    }

    func completeDiskWrites(_ node: SimNode) {
        var progressed = false
        while node.running, let first = node.diskQueue.first, first.completeAt <= now {
            node.diskQueue.removeFirst()
            let rd = first.ready
            node.durable.persist(rd)
            node.raft.persisted(rd)
            for m in rd.messagesAfterPersist { send(m) }
            if let snap = rd.snapshot {
                do {
                    var fresh = RecordingStateMachine()
                    try fresh.restore(snap.data, at: snap.metadata.index)
                    node.stateMachine = fresh
                    // Proposals covered by the snapshot have an unknown outcome: never acknowledged.
                    node.pendingProposals = node.pendingProposals.filter { $0.key > snap.metadata.index }
                    report.snapshotsInstalled += 1
                    log("node \(node.id) installed snapshot at \(snap.metadata.index)")
                } catch {
                    violation("node \(node.id) could not restore a received snapshot: \(error)")
                }
            }
            if !first.applied { applyCommitted(rd, on: node) }
            progressed = true
        }
        if progressed { drain(node) }
    }

    func apply(_ entry: Entry, on node: SimNode) {
        if let seen = appliedAt[entry.index] {
            if seen.term != entry.term || seen.data != entry.data || seen.kind != entry.kind {
                violation("State Machine Safety: node \(node.id) applied \(entry.index)@\(entry.term) but \(entry.index)@\(seen.term) was applied elsewhere")
            }
            appliedAt[entry.index]!.appliedInTerm = min(seen.appliedInTerm, node.raft.term)
        } else {
            appliedAt[entry.index] = (entry.term, entry.data, entry.kind, node.raft.term)
        }
        _ = node.stateMachine.apply(entry)
        if let problem = node.stateMachine.anomalies.last {
            violation("node \(node.id): \(problem)")
        }
        if entry.kind == .membership, let m = Membership(decoding: entry.data), entry.index > lastMembership.index {
            // First application anywhere of a newer configuration: operators stop the servers
            // it removed.
            let removed = lastMembership.membership.members.subtracting(m.members)
            lastMembership = (entry.index, m)
            everMember.formUnion(m.members)
            if entry.index > 1 { report.membershipChanges += 1 }
            for id in removed.sorted() { decommission(id) }
        }
        if let pending = node.pendingProposals.removeValue(forKey: entry.index) {
            let value = entry.data.count == 8 ? entry.data.withUnsafeBytes { $0.loadUnaligned(as: UInt64.self) } : 0
            if pending.term == entry.term {
                guard value == pending.value else {
                    violation("proposal \(pending.value) accepted at \(entry.index)@\(pending.term) but \(value) applied there")
                    return
                }
                acked.append(value)
                ackedSet.insert(value)
                report.acknowledged += 1
            }
        }
    }

    func decommission(_ id: NodeID) {
        guard let node = nodes[id], !node.decommissioned else { return }
        node.decommissioned = true
        node.running = false
        node.diskQueue.removeAll()
        log("decommission \(id)")
    }

    func serveReads(_ node: SimNode) {
        var remaining: [ReadState] = []
        for read in node.waitingReads {
            guard node.stateMachine.appliedIndex >= read.index else {
                remaining.append(read)
                continue
            }
            guard let ackedBefore = node.pendingReads.removeValue(forKey: read.requestID) else { continue }
            let seen = Set(node.stateMachine.records.compactMap { r -> UInt64? in
                r.command.count == 8 ? r.command.withUnsafeBytes { $0.loadUnaligned(as: UInt64.self) } : nil
            })
            for value in acked[0..<ackedBefore] where !seen.contains(value) {
                violation("linearizability: read \(read.requestID) on \(node.id) at index \(read.index) misses write \(value) acknowledged before it was issued")
                break
            }
            report.readsChecked += 1
        }
        node.waitingReads = remaining
    }

    func observe(_ soft: SoftState, on node: SimNode) {
        guard soft.role == .leader else { return }
        if let existing = leaderOfTerm[soft.term], existing != node.id {
            violation("Election Safety: nodes \(existing) and \(node.id) both lead term \(soft.term)")
            return
        }
        if leaderOfTerm[soft.term] == nil { report.leadersElected += 1 }
        leaderOfTerm[soft.term] = node.id
        log("node \(node.id) leads term \(soft.term) (last index \(node.raft.lastIndex))")
        // Leader Completeness: an entry committed in a term is in the log of every leader of that
        // term and later ones. An entry applied by a node in term t was committed in t or before,
        // so a leader of term t or above must hold it. (A leader of an older term, elected late
        // on delayed votes, need not: it can commit nothing, a majority having moved on.)
        for (index, seen) in appliedAt where index >= node.raft.firstIndex && seen.appliedInTerm <= soft.term {
            guard let term = node.raft.term(at: index), term == seen.term else {
                violation("Leader Completeness: leader \(node.id) of term \(soft.term) lacks applied entry \(index)@\(seen.term)")
                return
            }
        }
    }

    // MARK: - Final checks

    func members() -> [SimNode] {
        guard let leader = currentLeader() else { return [] }
        return leader.raft.membership.members.sorted().compactMap { nodes[$0] }
    }

    func isConverged() -> Bool {
        guard let leader = currentLeader() else { return false }
        if proposeWhenLeaderKnown {
            if propose() { proposeWhenLeaderKnown = false }
            return false
        }
        guard leader.raft.commitIndex == leader.raft.lastIndex else { return false }
        let target = leader.raft.lastIndex
        for node in members() {
            guard node.running, node.stateMachine.appliedIndex == target, node.diskQueue.isEmpty else { return false }
        }
        return leader.raft.membership.learners.isEmpty
    }

    func checkFinal() {
        let group = members()
        guard let first = group.first else { return }
        report.finalIndex = first.stateMachine.appliedIndex
        for node in group.dropFirst() where node.stateMachine.records != first.stateMachine.records {
            violation("replicas differ: node \(first.id) and node \(node.id) applied different sequences")
            return
        }
        var seen = Set<UInt64>()
        for record in first.stateMachine.records {
            let value = record.command.withUnsafeBytes { $0.loadUnaligned(as: UInt64.self) }
            if !seen.insert(value).inserted {
                violation("proposal \(value) applied twice")
                return
            }
        }
        for value in acked where !seen.contains(value) {
            violation("acknowledged proposal \(value) is missing after healing")
            return
        }
        checkLogMatching()
    }

    /// Log Matching: wherever two logs hold an entry with the same index and term, the logs are
    /// identical up to it.
    func checkLogMatching() {
        let live = nodes.values.filter { $0.running }.sorted { $0.id < $1.id }
        for (i, a) in live.enumerated() {
            for b in live[(i + 1)...] {
                let lo = max(a.raft.firstIndex, b.raft.firstIndex)
                let hi = min(a.raft.lastIndex, b.raft.lastIndex)
                guard lo <= hi else { continue }
                var matchedAbove = false
                var index = hi
                while index >= lo {
                    let ea = a.raft.entry(at: index)!
                    let eb = b.raft.entry(at: index)!
                    if ea.term == eb.term { matchedAbove = true }
                    if matchedAbove && ea != eb {
                        violation("Log Matching: nodes \(a.id) and \(b.id) agree on a later entry but differ at \(index)")
                        return
                    }
                    index -= 1
                }
            }
        }
    }

    // MARK: - Reporting

    func violation(_ text: String) {
        report.violations.append("t=\(now): \(text)")
        log("VIOLATION \(text)")
    }

    func log(_ text: @autoclosure () -> String) {
        guard options.trace else { return }
        report.trace.append("t=\(now) \(text())")
    }

    func describeCluster() -> String {
        nodes.keys.sorted().map { id in
            let n = nodes[id]!
            return "\(id):\(n.running ? n.raft.role.rawValue : (n.decommissioned ? "removed" : "down")) t\(n.raft.term) li\(n.raft.lastIndex) ci\(n.raft.commitIndex) ai\(n.stateMachine.appliedIndex) \(n.raft.membership.voters.sorted())+\(n.raft.membership.learners.sorted())"
        }.joined(separator: ", ")
    }

    func describe(_ body: Message.Body) -> String {
        switch body {
        case .append(let a): return "append prev \(a.prevIndex)@\(a.prevTerm) n=\(a.entries.count) commit \(a.commit)"
        case .appendResponse(let r): return r.reject ? "append reject \(r.index) hint \(r.rejectHint)@\(r.hintTerm)" : "append ok \(r.index)"
        case .vote(let v): return "\(v.preVote ? "pre-vote" : "vote") request last \(v.lastIndex)@\(v.lastTerm)\(v.transfer ? " transfer" : "")"
        case .voteResponse(let r): return "\(r.preVote ? "pre-vote" : "vote") \(r.granted ? "granted" : "rejected")"
        case .heartbeat(let h): return "heartbeat commit \(h.commit) round \(h.readContext)"
        case .heartbeatResponse(let r): return "heartbeat ok round \(r.readContext)"
        case .snapshotChunk(let c): return "snapshot \(c.metadata.index)@\(c.metadata.term) offset \(c.offset) n=\(c.data.count)\(c.done ? " done" : "")"
        case .snapshotChunkResponse(let r): return "snapshot ack next \(r.nextOffset)"
        case .timeoutNow: return "timeout-now"
        }
    }
}
