import CairnRaft
import CairnSimulation
import Testing

/// A Raft cluster run in-process, one scripted step at a time, in the manner of etcd-io/raft's
/// interaction tests: `campaign(1)`, `propose(1, "x")`, `stabilize()`, `isolate(3)`, …
///
/// Every node is driven the way a real shell drives it (see ``Ready``): after each event the
/// node's `Ready` is taken, its `messages` go to the mailbox at once, its writes are made durable
/// on the node's in-memory ``Disk``, `persisted(_:)` is called, and only then are its
/// `messagesAfterPersist` queued and its committed entries applied. By default the disk is
/// synchronous; ``holdDisk(_:)`` makes it slow, so a test can look at a `Ready` whose writes are
/// not yet durable (and crash the node before they are).
///
/// Nothing is delivered until the test says so (``deliverAll()``, ``deliver(where:)``,
/// ``stabilize()``, or ``tickAll(_:)``, which treats the network as instant between ticks).
/// Messages crossing a cut link, matching a drop rule or addressed to a crashed node are lost at
/// delivery time and recorded in ``lost``; ``duplicateNext(where:)`` delivers one twice.
final class ScenarioCluster {
    /// What one node's storage holds durably.
    /// A node's in-memory disk (shared with the simulator).
    typealias Disk = DurableState

    /// A directed link between two nodes.
    struct Link: Hashable {
        var from: NodeID
        var to: NodeID
    }

    /// A fault the network applies to matching messages at delivery time.
    private struct Rule {
        enum Action { case drop, duplicate }
        var action: Action
        var matches: (Message) -> Bool
        /// How many more messages it applies to; nil for "until healed".
        var remaining: Int?
    }

    private let seed: UInt64
    private let configure: (inout RaftConfiguration) -> Void
    private var nodes: [NodeID: RaftNode] = [:]
    private(set) var disks: [NodeID: Disk] = [:]
    private var down: Set<NodeID> = []
    private var diskHeld: Set<NodeID> = []
    private var blocked: Set<Link> = []
    private var rules: [Rule] = []

    /// Messages sent and not yet delivered, oldest first.
    private(set) var mailbox: [Message] = []
    /// Every message delivered so far, in delivery order.
    private(set) var delivered: [Message] = []
    /// Every message lost in the network (cut link, drop rule, recipient down).
    private(set) var lost: [Message] = []
    /// Readys taken from a node whose disk is held, not yet durable.
    private(set) var pendingWrites: [NodeID: [Ready]] = [:]
    /// Entries each node applied since it last started, in order.
    private(set) var applied: [NodeID: [Entry]] = [:]
    /// Each node's state machine: the commands it holds, by log index.
    private var stateMachines: [NodeID: [(index: LogIndex, command: String)]] = [:]
    /// Reads released to each node's shell.
    private(set) var readStates: [NodeID: [ReadState]] = [:]
    /// Reads each node gave up on.
    private(set) var droppedReads: [NodeID: [UInt64]] = [:]
    /// Snapshots each node received from a leader and installed.
    private(set) var installedSnapshots: [NodeID: [Snapshot]] = [:]
    /// Whether the shells drop every commit notice instead of sending it (as a shell that
    /// coalesces them with the next append may); counted in `droppedCommitNotices`.
    var dropsCommitNotices = false
    private(set) var droppedCommitNotices = 0

    /// A cluster of voters `1...voters`, each bootstrapped as a founding member, with an election
    /// timeout of 10 ticks, a heartbeat every tick and a seed derived from `seed` and the node id.
    /// `configure` adjusts every node's configuration (also for nodes added or restarted later).
    init(voters: Int = 3, seed: UInt64 = 1, configure: @escaping (inout RaftConfiguration) -> Void = { _ in }) {
        self.seed = seed
        self.configure = configure
        let ids = Set((1...NodeID(voters)))
        for id in ids.sorted() {
            start(id, from: RestoredState.bootstrap(voters: ids))
        }
    }

    // MARK: - Looking at nodes

    /// The node with this id (as it is now; a copy).
    subscript(_ id: NodeID) -> RaftNode {
        guard let node = nodes[id] else { preconditionFailure("no node \(id)") }
        return node
    }

    /// Every node id, running or not.
    var ids: [NodeID] { nodes.keys.sorted() }

    /// The running leader with the highest term, if any.
    var leader: NodeID? {
        ids.filter { !down.contains($0) && nodes[$0]!.role == .leader }.max { nodes[$0]!.term < nodes[$1]!.term }
    }

    /// The node's status.
    func status(_ id: NodeID) -> RaftStatus { self[id].status }

    /// The terms of the node's log entries after its snapshot point, in order.
    func logTerms(_ id: NodeID) -> [Term] { self[id].entries.map(\.term) }

    /// The application commands in the node's log (after its snapshot point), in order.
    func loggedCommands(_ id: NodeID) -> [String] {
        self[id].entries.filter { $0.kind == .normal }.map { String(decoding: $0.data, as: UTF8.self) }
    }

    /// The commands the node's state machine holds (from a snapshot and from applied entries).
    func commands(_ id: NodeID) -> [String] { stateMachines[id, default: []].map(\.command) }

    /// Whether the node is running.
    func isUp(_ id: NodeID) -> Bool { !down.contains(id) }

    /// Delivered messages of a kind, optionally only those from or to one node.
    func delivered(_ kind: Message.Kind, from: NodeID? = nil, to: NodeID? = nil) -> [Message] {
        delivered.filter { $0.kind == kind && (from == nil || $0.from == from) && (to == nil || $0.to == to) }
    }

    /// Queued (sent, undelivered) messages of a kind, optionally only those from or to one node.
    func queued(_ kind: Message.Kind, from: NodeID? = nil, to: NodeID? = nil) -> [Message] {
        mailbox.filter { $0.kind == kind && (from == nil || $0.from == from) && (to == nil || $0.to == to) }
    }

    // MARK: - Events

    /// Runs `body` on the node directly, without taking its Ready afterwards.
    @discardableResult
    func withNode<R>(_ id: NodeID, _ body: (inout RaftNode) -> R) -> R {
        guard var node = nodes[id] else { preconditionFailure("no node \(id)") }
        let result = body(&node)
        nodes[id] = node
        return result
    }

    /// Runs `body` on the running node, then handles its Ready.
    @discardableResult
    func on<R>(_ id: NodeID, _ body: (inout RaftNode) -> R) -> R {
        precondition(isUp(id), "node \(id) is down")
        let result = withNode(id, body)
        process(id)
        return result
    }

    /// The node starts an election now.
    func campaign(_ id: NodeID) { on(id) { $0.campaign() } }

    /// Elects `id`, if it can win: it campaigns, then the cluster stabilizes.
    func elect(_ id: NodeID) {
        campaign(id)
        stabilize()
    }

    /// Proposes one command on the node.
    @discardableResult
    func propose(_ id: NodeID, _ command: String) -> ProposalOutcome {
        on(id) { $0.propose(Array(command.utf8)) }
    }

    /// Proposes several commands as one batch on the node.
    @discardableResult
    func propose(_ id: NodeID, batch commands: [String]) -> ProposalOutcome {
        on(id) { $0.propose(batch: commands.map { Array($0.utf8) }) }
    }

    /// Proposes a membership change on the node.
    @discardableResult
    func change(_ id: NodeID, _ change: Membership.Change) -> ProposalOutcome {
        on(id) { $0.proposeMembershipChange(change) }
    }

    /// Asks the node to hand leadership to `target`.
    @discardableResult
    func transfer(_ id: NodeID, to target: NodeID) -> TransferOutcome {
        on(id) { $0.transferLeadership(to: target) }
    }

    /// Asks the node for a ReadIndex read.
    @discardableResult
    func readIndex(_ id: NodeID, _ requestID: UInt64) -> ReadOutcome {
        on(id) { $0.readIndex(requestID) }
    }

    /// Asks the node for a lease read.
    @discardableResult
    func leaseRead(_ id: NodeID, _ requestID: UInt64) -> ReadOutcome {
        on(id) { $0.leaseRead(requestID) }
    }

    /// Ticks one node `times` times, handling its Ready after each tick; delivers nothing.
    func tick(_ id: NodeID, _ times: Int = 1) {
        guard isUp(id) else { return }
        for _ in 0..<times { on(id) { $0.tick() } }
    }

    /// `times` rounds of: every running node ticks once, then the cluster stabilizes.
    func tickAll(_ times: Int = 1) {
        for _ in 0..<times {
            for id in ids where isUp(id) { on(id) { $0.tick() } }
            stabilize()
        }
    }

    /// Ticks every running node, one round at a time (stabilizing after each), until `done`
    /// holds; returns the rounds taken, or nil if `limit` rounds were not enough.
    @discardableResult
    func tickAll(until done: () -> Bool, limit: Int = 200) -> Int? {
        for round in 0...limit {
            if done() { return round }
            if round < limit { tickAll(1) }
        }
        return nil
    }

    /// Compacts the node's log through `index`, the node's state machine image at `index` as the
    /// snapshot data (`padding` extra bytes make it larger), and stores the snapshot on its disk.
    @discardableResult
    func compact(_ id: NodeID, through index: LogIndex, padding: Int = 0) -> CompactionOutcome {
        let image = stateMachines[id, default: []].filter { $0.index <= index }
        let data = Self.encode(image) + [UInt8](repeating: 0, count: padding)
        let outcome = withNode(id) { $0.compact(index: index, data: data) }
        if case .compacted(let metadata) = outcome {
            disks[id]!.compact(Snapshot(metadata: metadata, data: data))
        }
        return outcome
    }

    /// Adds a node that has never run (empty storage), e.g. before adding it as a learner.
    func addNode(_ id: NodeID) {
        precondition(nodes[id] == nil, "node \(id) exists")
        start(id, from: RestoredState())
    }

    /// Puts a message on the wire as if its sender had sent it.
    func inject(_ message: Message) { mailbox.append(message) }

    // MARK: - Disks

    /// The node's disk stops completing writes: its Readys are still taken and their `messages`
    /// sent, but they wait in ``pendingWrites`` until ``releaseDisk(_:)``.
    func holdDisk(_ id: NodeID) { diskHeld.insert(id) }

    /// Completes the node's pending writes in order, as a shell does, and handles what follows.
    func releaseDisk(_ id: NodeID) {
        diskHeld.remove(id)
        let writes = pendingWrites.removeValue(forKey: id) ?? []
        for rd in writes { complete(id, rd) }
        process(id)
    }

    // MARK: - Crashes

    /// The node stops; writes not yet durable are lost, and so are messages sent to it.
    func crash(_ id: NodeID) {
        down.insert(id)
        diskHeld.remove(id)
        pendingWrites[id] = nil
    }

    /// The node starts again from what its disk holds (crashing it first if it is running). A
    /// process restart finds everything written; after a machine crash (`machineCrash`) what was
    /// written without a sync is gone too.
    func restart(_ id: NodeID, machineCrash: Bool = false) {
        crash(id)
        if machineCrash { disks[id]!.loseUnsynced() }
        start(id, from: disks[id]!.restored)
    }

    // MARK: - Network

    /// Cuts every link to and from the node.
    func isolate(_ id: NodeID) {
        for other in ids where other != id {
            blocked.insert(Link(from: id, to: other))
            blocked.insert(Link(from: other, to: id))
        }
    }

    /// Cuts every link between the two groups, both ways.
    func partition(_ a: [NodeID], _ b: [NodeID]) {
        for x in a {
            for y in b {
                blocked.insert(Link(from: x, to: y))
                blocked.insert(Link(from: y, to: x))
            }
        }
    }

    /// Cuts one direction of one link.
    func cut(from: NodeID, to: NodeID) { blocked.insert(Link(from: from, to: to)) }

    /// Restores every link and removes every drop rule.
    func heal() {
        blocked.removeAll()
        rules.removeAll()
    }

    /// Loses every message matching `predicate` from now until ``heal()``.
    func dropMessages(where predicate: @escaping (Message) -> Bool) {
        rules.append(Rule(action: .drop, matches: predicate, remaining: nil))
    }

    /// Loses the next `count` messages matching `predicate`.
    func dropNext(_ count: Int = 1, where predicate: @escaping (Message) -> Bool) {
        rules.append(Rule(action: .drop, matches: predicate, remaining: count))
    }

    /// Delivers the next message matching `predicate`, and delivers it again later: a copy goes
    /// to the back of the mailbox.
    func duplicateNext(where predicate: @escaping (Message) -> Bool) {
        rules.append(Rule(action: .duplicate, matches: predicate, remaining: 1))
    }

    /// Removes queued messages matching `predicate` without delivering them; returns how many.
    @discardableResult
    func discardQueued(where predicate: (Message) -> Bool) -> Int {
        let before = mailbox.count
        lost.append(contentsOf: mailbox.filter(predicate))
        mailbox.removeAll(where: predicate)
        return before - mailbox.count
    }

    // MARK: - Delivery

    /// Delivers the queued messages matching `predicate` (the rest stay queued), each recipient
    /// handling its Ready at once; what they send in answer is queued, not delivered. Returns
    /// how many were delivered.
    @discardableResult
    func deliver(where predicate: (Message) -> Bool) -> Int {
        let batch = mailbox.filter(predicate)
        mailbox.removeAll(where: predicate)
        var count = 0
        for m in batch {
            switch fate(of: m) {
            case .lost:
                lost.append(m)
                continue
            case .duplicated:
                mailbox.append(m)
            case .delivered:
                break
            }
            delivered.append(m)
            count += 1
            on(m.to) { $0.step(m) }
        }
        return count
    }

    /// Delivers every queued message once (answers stay queued).
    @discardableResult
    func deliverAll() -> Int { deliver { _ in true } }

    /// Handles Readys and delivers messages until nothing moves: no message queued and no node
    /// with work (nodes whose disk is held keep their writes pending).
    func stabilize(sourceLocation: SourceLocation = #_sourceLocation) {
        for _ in 0..<10_000 {
            for id in ids { process(id) }
            if mailbox.isEmpty { return }
            deliverAll()
        }
        Issue.record("the cluster did not stabilize", sourceLocation: sourceLocation)
    }

    // MARK: - The shell

    private func start(_ id: NodeID, from state: RestoredState) {
        var config = RaftConfiguration(id: id, randomSeed: seed &* 1_000_003 &+ id &* 7_919)
        config.electionTimeout = 10
        config.heartbeatInterval = 1
        configure(&config)
        nodes[id] = RaftNode(configuration: config, restoring: state)
        disks[id] = Disk(state)
        down.remove(id)
        applied[id] = []
        stateMachines[id] = state.snapshot.map { Self.decode($0.data) } ?? []
        process(id)
    }

    /// Takes the node's Readys: sends `messages`, then persists (or queues the write when the
    /// disk is held).
    private func process(_ id: NodeID) {
        guard isUp(id) else { return }
        while nodes[id]!.hasReady {
            let rd = withNode(id) { $0.ready() }
            mailbox.append(contentsOf: rd.messages)
            // Step 6: commit notices are droppable (a shell coalesces them with its next append).
            if dropsCommitNotices { droppedCommitNotices += rd.commitNotices.count } else { mailbox.append(contentsOf: rd.commitNotices) }
            if diskHeld.contains(id) {
                pendingWrites[id, default: []].append(rd)
            } else {
                complete(id, rd)
            }
        }
    }

    /// Steps 2–5 of the Ready contract for one Ready.
    private func complete(_ id: NodeID, _ rd: Ready) {
        disks[id]!.persist(rd)
        withNode(id) { $0.persisted(rd) }
        mailbox.append(contentsOf: rd.messagesAfterPersist)
        if let snap = rd.snapshot {
            installedSnapshots[id, default: []].append(snap)
            stateMachines[id] = Self.decode(snap.data)
        }
        for entry in rd.committed {
            applied[id, default: []].append(entry)
            if entry.kind == .normal {
                stateMachines[id, default: []].append((entry.index, String(decoding: entry.data, as: UTF8.self)))
            }
        }
        readStates[id, default: []].append(contentsOf: rd.readStates)
        droppedReads[id, default: []].append(contentsOf: rd.droppedReads)
    }

    private enum Fate { case lost, delivered, duplicated }

    /// What the network does with `m`, counting it against the rules it matches.
    private func fate(of m: Message) -> Fate {
        guard nodes[m.to] != nil, isUp(m.to), !blocked.contains(Link(from: m.from, to: m.to)) else { return .lost }
        for i in rules.indices where rules[i].remaining != 0 && rules[i].matches(m) {
            if let left = rules[i].remaining { rules[i].remaining = left - 1 }
            switch rules[i].action {
            case .drop: return .lost
            case .duplicate: return .duplicated
            }
        }
        return .delivered
    }

    /// The snapshot image: one `index command` line per command (commands hold no newline).
    private static func encode(_ image: [(index: LogIndex, command: String)]) -> [UInt8] {
        Array(image.map { "\($0.index) \($0.command)\n" }.joined().utf8)
    }

    private static func decode(_ data: [UInt8]) -> [(index: LogIndex, command: String)] {
        let text = String(decoding: data.filter { $0 != 0 }, as: UTF8.self)
        return text.split(separator: "\n").compactMap { line in
            guard let space = line.firstIndex(of: " "), let index = LogIndex(line[..<space]) else { return nil }
            return (index, String(line[line.index(after: space)...]))
        }
    }
}
