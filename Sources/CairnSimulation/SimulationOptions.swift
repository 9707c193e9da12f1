import CairnRaft

/// What a simulated run does: cluster size, how long, and which faults it injects.
///
/// Time advances in units; every node ticks once per ``tickUnits`` units (each with its own
/// phase), messages take a few units, and disk writes complete a few units after they start.
/// Everything random is drawn from one generator seeded with ``seed``, so a seed replays exactly.
public struct SimulationOptions: Sendable, Hashable {
    /// The seed: equal seeds give identical runs.
    public var seed: UInt64
    /// Voters at bootstrap (3 or 5).
    public var nodeCount: Int = 3
    /// Ticks of the fault phase.
    public var faultTicks: Int = 300
    /// Ticks the healed cluster gets to converge before that counts as a liveness failure.
    public var convergeTicks: Int = 1_500
    /// Time units per tick.
    public var tickUnits: Int = 10
    /// Probability, per tick, that the client proposes a batch to the leader.
    public var proposalRate: Double = 0.35
    /// Probability, per tick, that a client issues a linearizable read.
    public var readRate: Double = 0.1
    /// Per-message probabilities of loss and duplication.
    public var lossRate: Double = 0.03
    public var duplicateRate: Double = 0.02
    /// Probability that a commit notice (``CairnRaft/Ready/commitNotices``) is dropped, as a shell
    /// that coalesces it with the next append would; applies with or without other faults.
    public var commitNoticeDropRate: Double = 0.5
    /// Inject crashes (losing everything not yet durable) and restarts.
    public var crashes: Bool = true
    /// Inject symmetric and asymmetric partitions.
    public var partitions: Bool = true
    /// Compact logs into snapshots now and then (so lagging nodes need InstallSnapshot).
    public var snapshots: Bool = true
    /// Add learners (auto-promoted) and remove voters, leaders included.
    public var membershipChanges: Bool = true
    /// Ask for leadership transfers now and then.
    public var transfers: Bool = true
    /// Record a human-readable trace of every event.
    public var trace: Bool = false

    /// Creates options with the defaults above.
    public init(seed: UInt64, nodeCount: Int = 3) {
        self.seed = seed
        self.nodeCount = nodeCount
    }
}

/// What a simulated run found.
public struct SimulationReport: Sendable {
    /// The options the run used.
    public var options: SimulationOptions
    /// Every safety or liveness violation, each a sentence; empty when the run passed.
    public var violations: [String] = []
    /// Proposals acknowledged to the client.
    public var acknowledged = 0
    /// Linearizable reads answered and checked.
    public var readsChecked = 0
    /// Leaders elected (distinct terms with a leader).
    public var leadersElected = 0
    /// Crashes injected.
    public var crashes = 0
    /// Snapshots installed on followers through InstallSnapshot.
    public var snapshotsInstalled = 0
    /// Membership changes applied.
    public var membershipChanges = 0
    /// Messages delivered.
    public var messagesDelivered = 0
    /// Entries a node applied before its own write of them was durable (committed on the
    /// others' acknowledgements, as a leader writing in the background does).
    public var appliedBeforeDurable = 0
    /// The final log index the cluster converged on.
    public var finalIndex: LogIndex = 0
    /// The fault and tuning profile this seed drew.
    public var profile: SimulationProfile? = nil
    /// The trace, when asked for.
    public var trace: [String] = []

    /// Whether no invariant was violated.
    public var passed: Bool { violations.isEmpty }

    /// A one-line command that replays this run.
    public var replayCommand: String {
        "swift run -c release cairn-sim --seed \(options.seed) --nodes \(options.nodeCount) --trace"
    }
}

/// Per-seed variation, drawn from the seed: how hard faults hit and how Raft is tuned, so that a
/// sweep covers gentle and brutal runs, one-entry and large appends, stop-and-wait and deep
/// pipelines, fast restarts (which expose votes or acknowledgements sent before they were
/// durable) and slow disks (which widen that window).
public struct SimulationProfile: Sendable, Hashable, CustomStringConvertible {
    /// Probability per tick of crashing a node.
    public var crashRate: Double
    /// Probability, per Ready with writes, of crashing right after its messages went out and
    /// before its writes are durable.
    public var crashBeforePersistRate: Double
    /// Ticks a crashed node stays down.
    public var restartTicks: ClosedRange<Int>
    /// Probability per tick of starting a partition.
    public var partitionRate: Double
    /// The longest a disk write takes, in time units.
    public var maxDiskUnits: Int
    /// Probability, per Ready with committed entries, of applying them as soon as the Ready is
    /// taken rather than once its writes are durable (as a leader does whose followers made
    /// the entries durable before its own write finished).
    public var applyBeforePersistRate: Double
    /// Raft tunables.
    public var electionTimeout: Int
    public var maxAppendBytes: Int
    public var maxInflightAppends: Int
    public var snapshotChunkSize: Int

    init(drawingFrom rng: inout SeededRandom) {
        func pick<T>(_ choices: [T]) -> T { choices[Int(rng.next() % UInt64(choices.count))] }
        crashRate = pick([0.005, 0.012, 0.04])
        restartTicks = pick([1...3, 3...60, 10...30])
        crashBeforePersistRate = pick([0, 0.002, 0.01])
        partitionRate = pick([0.01, 0.015, 0.05])
        maxDiskUnits = pick([2, 4, 25])
        electionTimeout = pick([5, 10, 10])
        maxAppendBytes = pick([1, 96, 4_096])
        maxInflightAppends = pick([1, 4, 64])
        snapshotChunkSize = pick([64, 256, 4_096])
        applyBeforePersistRate = pick([0, 0.5, 1])
    }

    public var description: String {
        "crash \(crashRate)/tick, crash before persist \(crashBeforePersistRate), restart after \(restartTicks) ticks, partition \(partitionRate)/tick, disk <= \(maxDiskUnits) units, apply before persist \(applyBeforePersistRate), election \(electionTimeout) ticks, append <= \(maxAppendBytes) B, inflight \(maxInflightAppends), chunk \(snapshotChunkSize) B"
    }
}
