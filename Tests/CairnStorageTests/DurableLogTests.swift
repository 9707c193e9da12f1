import CairnRaft
import CairnStorage
import CairnTestSupport
import Foundation
import Testing

private let membership = Membership(voters: [1, 2, 3])

private func snapshot(index: LogIndex, term: Term) -> Snapshot {
    Snapshot(metadata: SnapshotMetadata(index: index, term: term, membership: membership), data: Array("state@\(index)".utf8))
}

/// Small segments (one 3-entry batch of 200-byte entries each) so compaction releases files.
private let smallSegments = DurableLog.Options(wal: .init(segmentSize: 1024))

/// Appends entries `1...count` of `term`, three per batch.
/// A closed log in `directory` holding entries 1...10 of term 1 (written with ``fill``).
private func writeTenEntries(in directory: String) throws {
    let (log, _) = try DurableLog.open(directory: directory)
    try fill(log, through: 10, term: 1)
    try log.close()
}

private func fill(_ log: DurableLog, through last: LogIndex, term: Term, from first: LogIndex = 1) throws {
    var next = first
    while next <= last {
        let count = Int(min(3, last - next + 1))
        try log.append(entries: entries(from: next, count: count, term: term, size: 200), hardState: HardState(term: term, vote: 1, commit: next - 1))
        next += LogIndex(count)
    }
}

private func snapshotFileNames(in directory: String) throws -> [String] {
    try FileManager.default.contentsOfDirectory(atPath: directory).filter { $0.hasSuffix(".snap") }
}

@Suite("DurableLog")
struct DurableLogTests {
    @Test("a new store is empty; appended entries and hard state come back")
    func roundTrip() throws {
        try withTemporaryDirectory { directory in
            let (log, fresh) = try DurableLog.open(directory: directory + "/node")
            #expect(fresh.snapshot == nil && fresh.entries.isEmpty && fresh.hardState == .empty)
            try fill(log, through: 10, term: 2)
            try log.close()
            let (_, state) = try DurableLog.open(directory: directory + "/node")
            #expect(state.entries.map(\.index) == Array(1...10))
            #expect(state.entries.last == entries(from: 10, count: 1, term: 2, size: 200)[0])
            #expect(state.hardState == HardState(term: 2, vote: 1, commit: 9))
        }
    }

    @Test("compaction keeps the entries after the snapshot and releases covered segments")
    func compaction() throws {
        try withTemporaryDirectory { directory in
            let (log, _) = try DurableLog.open(directory: directory, options: smallSegments)
            try fill(log, through: 24, term: 1)
            let before = try segmentFiles(in: directory + "/wal").count
            try log.compact(snapshot(index: 13, term: 1))
            let after = try segmentFiles(in: directory + "/wal").count
            #expect(before == 8 && after == 4)  // the segments ending at indices 3, 6, 9 and 12; not the one ending at 15
            try log.close()
            let (reopened, state) = try DurableLog.open(directory: directory, options: smallSegments)
            #expect(state.snapshot == snapshot(index: 13, term: 1))
            #expect(state.entries.map(\.index) == Array(14...24))
            try reopened.append(entries: entries(from: 25, count: 1, term: 2), hardState: nil)
            try reopened.close()
            #expect(try DurableLog.open(directory: directory, options: smallSegments).1.entries.map(\.index) == Array(14...25))
        }
    }

    @Test("a snapshot prepared on another thread compacts like one saved in place; one the log moved past is refused and can be discarded")
    func preparedCompaction() async throws {
        try await withTemporaryDirectory { directory in
            let (log, _) = try DurableLog.open(directory: directory, options: smallSegments)
            try fill(log, through: 24, term: 1)
            let target = log.snapshotDirectory
            let prepared = try await Task.detached { try SnapshotStore.prepare(snapshot(index: 13, term: 1), in: target) }.value
            #expect(try snapshotFileNames(in: directory + "/snap").isEmpty, "prepared, not yet linked")
            try log.compact(prepared: prepared)
            #expect(log.snapshotMetadata?.index == 13)
            #expect(try segmentFiles(in: directory + "/wal").count == 4)

            let stale = try SnapshotStore.prepare(snapshot(index: 30, term: 1), in: target)
            #expect(throws: StorageError(.invalidArgument)) { try log.compact(prepared: stale) }
            stale.discard()
            #expect(try FileManager.default.contentsOfDirectory(atPath: directory + "/snap") == ["snapshot-0000000000000001-000000000000000d.snap"])
            try log.close()
            let (_, state) = try DurableLog.open(directory: directory, options: smallSegments)
            #expect(state.snapshot == snapshot(index: 13, term: 1))
            #expect(state.entries.map(\.index) == Array(14...24))
        }
    }

    @Test("a hard state appended without a sync is in the log after a clean reopen")
    func unsyncedCommit() throws {
        try withTemporaryDirectory { directory in
            let (log, _) = try DurableLog.open(directory: directory)
            try fill(log, through: 6, term: 3)
            try log.append(entries: [], hardState: HardState(term: 3, vote: 1, commit: 6), sync: false)
            try log.close()
            #expect(try DurableLog.open(directory: directory).1.hardState == HardState(term: 3, vote: 1, commit: 6))
        }
    }

    @Test("compacting to an entry the log does not hold is rejected before anything is written")
    func compactionNeedsTheEntry() throws {
        try withTemporaryDirectory { directory in
            let (log, _) = try DurableLog.open(directory: directory)
            try fill(log, through: 5, term: 2)
            #expect(throws: StorageError(.invalidArgument)) { try log.compact(snapshot(index: 6, term: 2)) }
            #expect(throws: StorageError(.invalidArgument)) { try log.compact(snapshot(index: 5, term: 1)) }
            #expect(try FileManager.default.contentsOfDirectory(atPath: directory + "/snap").isEmpty)
        }
    }

    @Test("an installed snapshot's marker discards the old, conflicting suffix")
    func installDiscardsConflictingSuffix() throws {
        try withTemporaryDirectory { directory in
            let (log, _) = try DurableLog.open(directory: directory, options: smallSegments)
            try fill(log, through: 10, term: 1)
            try log.installSnapshot(snapshot(index: 8, term: 2))  // entry 8 has term 1: conflict
            try log.close()
            let (reopened, state) = try DurableLog.open(directory: directory, options: smallSegments)
            #expect(state.snapshot?.metadata.index == 8)
            #expect(state.entries.isEmpty)
            try reopened.append(entries: entries(from: 9, count: 2, term: 2), hardState: HardState(term: 2, vote: 0, commit: 8))
            try reopened.close()
            let (_, final) = try DurableLog.open(directory: directory, options: smallSegments)
            #expect(final.entries == entries(from: 9, count: 2, term: 2))
        }
    }

    @Test(
        "a snapshot saved without its marker (a crash in between) drops the log from its index on",
        arguments: [(LogIndex(8), Term(2)), (20, 3)])
    func snapshotWithoutMarker(index: LogIndex, term: Term) async throws {
        try await inBackground {
            try withTemporaryDirectory { directory in
                try writeTenEntries(in: directory)
                // The crash: the snapshot file is durable, the marker never written.
                try SnapshotStore(directory: directory + "/snap").save(snapshot(index: index, term: term))
                let (log, state) = try DurableLog.open(directory: directory)
                #expect(state.snapshot?.metadata == snapshot(index: index, term: term).metadata)
                #expect(state.entries.isEmpty)
                #expect(state.hardState == HardState(term: 1, vote: 1, commit: 9))
                try log.append(entries: entries(from: index + 1, count: 1, term: term), hardState: nil)
                try log.close()
                // The marker written during recovery makes the result stick.
                let (_, again) = try WriteAheadLog.open(directory: directory + "/wal")
                #expect(again.lastSnapshotMarker?.index == index)
                #expect(try DurableLog.open(directory: directory).1.entries == entries(from: index + 1, count: 1, term: term))
            }
        }
    }

    @Test("a snapshot saved without a marker whose term matches the log keeps the entries after it")
    func snapshotWithoutMarkerMatchingTerm() async throws {
        try await inBackground {
            try withTemporaryDirectory { directory in
                try writeTenEntries(in: directory)
                try SnapshotStore(directory: directory + "/snap").save(snapshot(index: 6, term: 1))
                let (_, state) = try DurableLog.open(directory: directory)
                #expect(state.entries.map(\.index) == Array(7...10))
            }
        }
    }

    @Test("a log that starts after the snapshot ends is a gap")
    func gap() throws {
        try withTemporaryDirectory { directory in
            let (log, _) = try DurableLog.open(directory: directory, options: smallSegments)
            try fill(log, through: 24, term: 1)
            try log.compact(snapshot(index: 3, term: 1))
            try log.compact(snapshot(index: 20, term: 1))
            try log.close()
            // Losing the newest snapshot leaves the one at 3, but entries 4... were released.
            try FileManager.default.removeItem(atPath: directory + "/snap/snapshot-0000000000000001-0000000000000014.snap")
            let error = #expect(throws: StorageError(.gapInLog)) { try DurableLog.open(directory: directory, options: smallSegments) }
            #expect(error?.reason.contains("snapshot ends at index 3") == true)
        }
    }

    @Test("a log reset to a snapshot that is gone refuses to open")
    func missingSnapshot() async throws {
        try await inBackground {
            try withTemporaryDirectory { directory in
                let (log, _) = try DurableLog.open(directory: directory)
                try fill(log, through: 4, term: 1)
                try log.installSnapshot(snapshot(index: 30, term: 4))
                try log.close()
                for name in try FileManager.default.contentsOfDirectory(atPath: directory + "/snap") {
                    try FileManager.default.removeItem(atPath: directory + "/snap/" + name)
                }
                #expect(throws: StorageError(.missingSnapshot)) { try DurableLog.open(directory: directory) }
            }
        }
    }

    @Test("a snapshot without any log refuses to open, and keeps refusing")
    func missingLog() throws {
        try withTemporaryDirectory { directory in
            let (log, _) = try DurableLog.open(directory: directory)
            try fill(log, through: 4, term: 1)
            try log.compact(snapshot(index: 4, term: 1))
            try log.close()
            try FileManager.default.removeItem(atPath: directory + "/wal")
            #expect(throws: StorageError(.missingSegment)) { try DurableLog.open(directory: directory) }
            #expect(throws: StorageError(.missingSegment)) { try DurableLog.open(directory: directory) }
        }
    }
}
