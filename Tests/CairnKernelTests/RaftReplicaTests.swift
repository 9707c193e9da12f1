import CairnKernel
import CairnRaft
import CairnStorage
import Foundation
import Testing

/// Replicas on real disks, wired together in memory: the kernel's storage wiring end to end.
/// With `backgroundWrites`, every replica writes a leader's log on its writer thread, and
/// ``settle()`` takes finished writes in as a consensus loop does.
final class DiskCluster {
    let root: String
    var replicas: [NodeID: RaftReplica<RecordingStateMachine>] = [:]
    var down: Set<NodeID> = []
    let voters: Set<NodeID>
    let backgroundWrites: Bool
    let segmentSize: Int
    /// Signalled by each replica's writer thread whenever a background write finished.
    private(set) var writeSignals: [NodeID: WriteSignal] = [:]

    init(voters: Set<NodeID>, backgroundWrites: Bool = false, segmentSize: Int = 4096) throws {
        root = FileManager.default.temporaryDirectory.appendingPathComponent("cairn-kernel-\(UUID().uuidString)").path
        self.voters = voters
        self.backgroundWrites = backgroundWrites
        self.segmentSize = segmentSize
        for id in voters.sorted() { try start(id) }
    }

    deinit { try? FileManager.default.removeItem(atPath: root) }

    func configuration(_ id: NodeID) -> RaftConfiguration {
        var c = RaftConfiguration(id: id, randomSeed: id * 31)
        c.snapshotChunkSize = 100
        return c
    }

    func start(_ id: NodeID, bootstrap: Bool = true) throws {
        let signal = WriteSignal()
        writeSignals[id] = signal
        var onBackgroundWrite: (@Sendable () -> Void)? = nil
        if backgroundWrites { onBackgroundWrite = { signal.finished() } }
        replicas[id] = try RaftReplica(
            configuration: configuration(id), directory: "\(root)/n\(id)",
            bootstrapVoters: bootstrap ? voters : nil,
            storageOptions: .init(wal: .init(segmentSize: segmentSize, preallocation: .off)),
            onBackgroundWrite: onBackgroundWrite
        ) { RecordingStateMachine() }
        down.remove(id)
    }

    /// Waits for `id`'s writer to report a finished write (at most 10 s, so a broken writer fails
    /// the test instead of hanging it) and takes it in.
    func finishBackgroundWrite(_ id: NodeID) throws {
        guard writeSignals[id]!.semaphore.wait(timeout: .now() + 10) == .success else { throw CancellationError() }
        try replicas[id]!.backgroundWriteFinished()
    }

    /// Takes in `id`'s background writes until none is in flight or queued.
    func drainBackgroundWrites(_ id: NodeID) throws {
        while replicas[id]!.hasBackgroundWrites { try finishBackgroundWrite(id) }
    }

    func stop(_ id: NodeID) throws {
        try replicas[id]?.close()
        replicas[id] = nil
        down.insert(id)
    }

    /// Delivers until nothing moves and no background write is left; returns the applied results seen.
    @discardableResult
    func settle() throws -> [NodeID: [[UInt8]]] {
        var results: [NodeID: [[UInt8]]] = [:]
        var moved = true
        while moved {
            moved = false
            for id in replicas.keys.sorted() {
                let out = try replicas[id]!.advance()
                results[id, default: []].append(contentsOf: out.applied.map(\.result))
                for m in out.messages {
                    moved = true
                    replicas[m.to]?.step(m)
                }
            }
            for id in replicas.keys.sorted() where replicas[id]!.hasBackgroundWrites {
                try finishBackgroundWrite(id)
                moved = true
            }
        }
        return results
    }

    func electLeader() throws -> NodeID {
        for _ in 0..<200 {
            for id in replicas.keys.sorted() { replicas[id]!.tick() }
            try settle()
            if let leader = leader() { return leader }
        }
        throw CancellationError()
    }

    func leader() -> NodeID? {
        replicas.first { $0.value.raft.role == .leader }?.key
    }

    func write(_ values: [String]) throws {
        guard let leader = leader() else { throw CancellationError() }
        let outcome = replicas[leader]!.propose(values.map { Array($0.utf8) })
        guard case .accepted = outcome else { throw CancellationError() }
        try settle()
    }

    func commands(_ id: NodeID) -> [String] {
        replicas[id]!.stateMachine.records.map { String(decoding: $0.command, as: UTF8.self) }
    }
}

/// Counts the background writes a replica's writer thread finished, and wakes a waiter for each.
final class WriteSignal: @unchecked Sendable {
    let semaphore = DispatchSemaphore(value: 0)
    private let lock = NSLock()
    private var finishedCount = 0

    /// Called on the writer's thread.
    func finished() {
        lock.withLock { finishedCount += 1 }
        semaphore.signal()
    }

    var count: Int { lock.withLock { finishedCount } }
}

@Suite("Raft replica on disk")
struct RaftReplicaTests {
    @Test("three replicas elect a leader and every one applies the same writes", arguments: [false, true])
    func replicates(backgroundWrites: Bool) throws {
        let cluster = try DiskCluster(voters: [1, 2, 3], backgroundWrites: backgroundWrites)
        _ = try cluster.electLeader()
        try cluster.write(["a", "b"])
        try cluster.write(["c"])
        for id: NodeID in [1, 2, 3] {
            #expect(cluster.commands(id) == ["a", "b", "c"])
        }
    }

    @Test("a whole cluster restarted from its disks keeps every acknowledged write", arguments: [false, true])
    func survivesFullRestart(backgroundWrites: Bool) throws {
        let cluster = try DiskCluster(voters: [1, 2, 3], backgroundWrites: backgroundWrites)
        _ = try cluster.electLeader()
        try cluster.write((1...20).map { "w\($0)" })
        let terms = [NodeID: Term](uniqueKeysWithValues: [1, 2, 3].map { ($0, cluster.replicas[$0]!.raft.term) })
        for id: NodeID in [1, 2, 3] { try cluster.stop(id) }
        for id: NodeID in [1, 2, 3] { try cluster.start(id) }
        for id: NodeID in [1, 2, 3] {
            #expect(cluster.replicas[id]!.raft.term == terms[id])
            #expect(cluster.replicas[id]!.raft.lastIndex >= 22)
        }
        _ = try cluster.electLeader()
        try cluster.write(["after"])
        for id: NodeID in [1, 2, 3] {
            #expect(cluster.commands(id) == (1...20).map { "w\($0)" } + ["after"])
        }
    }

    @Test("a follower that was down catches up through a chunked snapshot written to its disk", arguments: [false, true])
    func catchesUpThroughSnapshot(backgroundWrites: Bool) throws {
        let cluster = try DiskCluster(voters: [1, 2, 3], backgroundWrites: backgroundWrites)
        let leader = try cluster.electLeader()
        let lagging = ([1, 2, 3] as [NodeID]).first { $0 != leader }!
        try cluster.stop(lagging)
        try cluster.write((1...30).map { "v\($0)" })
        let snapshot = try #require(try cluster.replicas[leader]!.compact())
        #expect(snapshot.index >= 31)
        #expect(cluster.replicas[leader]!.raft.firstIndex == snapshot.index + 1)
        try cluster.write(["tail"])

        try cluster.start(lagging)
        for _ in 0..<5 {
            for id in cluster.replicas.keys.sorted() { cluster.replicas[id]!.tick() }
            try cluster.settle()
        }
        #expect(cluster.commands(lagging) == (1...30).map { "v\($0)" } + ["tail"])
        #expect(cluster.replicas[lagging]!.storage.snapshotMetadata?.index == snapshot.index)

        // And it comes back from its own disk with the snapshot and the entries after it.
        try cluster.stop(lagging)
        try cluster.start(lagging)
        #expect(cluster.commands(lagging) == (1...30).map { "v\($0)" })
        #expect(cluster.replicas[lagging]!.raft.firstIndex == snapshot.index + 1)
        try cluster.settle()
        #expect(cluster.commands(lagging) == (1...30).map { "v\($0)" } + ["tail"])
    }

    @Test("a single-node replica commits on its own and recovers after a restart", arguments: [false, true])
    func singleNode(backgroundWrites: Bool) throws {
        let cluster = try DiskCluster(voters: [1], backgroundWrites: backgroundWrites)
        _ = try cluster.electLeader()
        try cluster.write(["only"])
        #expect(cluster.commands(1) == ["only"])
        try cluster.stop(1)
        try cluster.start(1)
        try cluster.settle()
        #expect(cluster.commands(1) == ["only"])
    }

    @Test("a corrupt log refuses to start instead of losing acknowledged writes")
    func corruptLogRefusesToStart() throws {
        let cluster = try DiskCluster(voters: [1])
        _ = try cluster.electLeader()
        for i in 1...5 { try cluster.write(["entry-\(i)"]) }
        try cluster.stop(1)
        let walDir = "\(cluster.root)/n1/wal"
        let segment = try #require(try FileManager.default.contentsOfDirectory(atPath: walDir).sorted().first)
        let path = "\(walDir)/\(segment)"
        var bytes = try [UInt8](Data(contentsOf: URL(fileURLWithPath: path)))
        // Flip a byte inside the first entry's payload: a record before the tail is now bad.
        let needle = Array("entry-1".utf8)
        let at = try #require((0...(bytes.count - needle.count)).first { Array(bytes[$0..<$0 + needle.count]) == needle })
        bytes[at] ^= 0xFF
        try Data(bytes).write(to: URL(fileURLWithPath: path))
        let error = try #require(throws: StorageError.self) { try cluster.start(1) }
        #expect(error.code == .corruptRecord)
        #expect(error.reason.contains(segment))
    }
}
