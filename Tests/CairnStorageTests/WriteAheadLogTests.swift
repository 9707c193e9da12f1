import CairnRaft
import CairnStorage
import Foundation
import Testing

/// A mixed history: appends, a hard-state-only append, an overwritten suffix, a snapshot reset.
private func mixedHistory() -> [(Batch?, SnapshotMetadata?)] {
    let membership = Membership(voters: [1, 2, 3], learners: [4])
    return [
        (Batch(entries: entries(from: 1, count: 3, term: 1), hardState: HardState(term: 1, vote: 1, commit: 0)), nil),
        (Batch(entries: entries(from: 4, count: 4, term: 1), hardState: nil), nil),
        (Batch(entries: [], hardState: HardState(term: 2, vote: 0, commit: 3)), nil),
        (Batch(entries: entries(from: 5, count: 2, term: 2, size: 40), hardState: HardState(term: 2, vote: 2, commit: 3)), nil),
        (nil, SnapshotMetadata(index: 20, term: 3, membership: membership)),
        (Batch(entries: entries(from: 21, count: 5, term: 3, size: 100), hardState: HardState(term: 3, vote: 2, commit: 20)), nil),
        (Batch(entries: entries(from: 24, count: 1, term: 4, size: 0), hardState: nil), nil),
    ]
}

/// Applies a history to a log and to the model.
private func play(_ history: [(Batch?, SnapshotMetadata?)], on log: WriteAheadLog, model: inout LogModel) throws {
    for (batch, marker) in history {
        if let batch {
            try log.append(batch.entries, hardState: batch.hardState)
            model.apply(batch)
        }
        if let marker {
            try log.resetToSnapshot(marker)
            model.reset(to: marker)
        }
    }
}

@Suite("WriteAheadLog")
struct WriteAheadLogTests {
    @Test("a new log is empty and says it was created")
    func freshLog() throws {
        try withTemporaryDirectory { directory in
            let (log, recovered) = try WriteAheadLog.open(directory: directory + "/wal")
            #expect(recovered.freshlyCreated)
            #expect(recovered.entries.isEmpty && recovered.hardState == .empty && recovered.truncatedBytes == 0)
            #expect(log.lastIndex == 0 && log.segmentCount == 1)
            try log.close()
            let (_, again) = try WriteAheadLog.open(directory: directory + "/wal")
            #expect(!again.freshlyCreated)
        }
    }

    @Test("entries, overwrites, hard-state-only appends and snapshot markers survive a reopen")
    func roundTrip() throws {
        try withTemporaryDirectory { directory in
            var model = LogModel()
            let (log, _) = try WriteAheadLog.open(directory: directory)
            try play(mixedHistory(), on: log, model: &model)
            #expect(log.lastIndex == model.lastIndex)
            try log.close()

            let (reopened, recovered) = try WriteAheadLog.open(directory: directory)
            #expect(recovered.baseIndex == 20 && recovered.baseTerm == 3)
            #expect(recovered.lastSnapshotMarker?.membership == Membership(voters: [1, 2, 3], learners: [4]))
            #expect(recovered.entries.map(\.index) == Array(21...24))
            #expect(recovered.entries.last?.term == 4)
            expectMatches(recovered, model)
            #expect(recovered.truncatedBytes == 0)

            let more = Batch(entries: entries(from: 25, count: 2, term: 4), hardState: HardState(term: 4, vote: 3, commit: 24))
            try reopened.append(more.entries, hardState: more.hardState)
            model.apply(more)
            try reopened.close()
            let (_, final) = try WriteAheadLog.open(directory: directory)
            expectMatches(final, model)
        }
    }

    @Test("a hard state whose commit index alone moved costs no write; it rides with the next record, and a crash before that recovers the older commit")
    func commitIndexWaitsForTheNextRecord() throws {
        try withTemporaryDirectory { directory in
            let live = directory + "/live"
            let growing = WriteAheadLog.Options(segmentSize: 1 << 20, preallocation: .off)
            let (log, _) = try WriteAheadLog.open(directory: live, options: growing)
            try log.append(entries(from: 1, count: 3, term: 1), hardState: HardState(term: 1, vote: 1, commit: 0))
            let segment = live + "/" + (try segmentFiles(in: live)[0])
            let written = try fileSize(segment)

            try log.append([], hardState: HardState(term: 1, vote: 1, commit: 2), sync: false)
            try log.append([], hardState: HardState(term: 1, vote: 1, commit: 3), sync: false)
            #expect(try fileSize(segment) == written)
            try copyDirectory(live, to: directory + "/crash-before")
            let before = try WriteAheadLog.open(directory: directory + "/crash-before", options: growing).1
            #expect(before.hardState == HardState(term: 1, vote: 1, commit: 0))
            #expect(before.entries.map(\.index) == [1, 2, 3])

            try log.append(entries(from: 4, count: 1, term: 1), hardState: nil)
            try copyDirectory(live, to: directory + "/crash-after")
            let after = try WriteAheadLog.open(directory: directory + "/crash-after", options: growing).1
            #expect(after.hardState == HardState(term: 1, vote: 1, commit: 3))
            #expect(after.entries.map(\.index) == [1, 2, 3, 4])

            // A new term is never held back, even when given without a sync.
            let beforeTerm = try fileSize(segment)
            try log.append([], hardState: HardState(term: 2, vote: 0, commit: 3), sync: false)
            #expect(try fileSize(segment) > beforeTerm)

            // Closing writes a commit index that is still waiting.
            try log.append([], hardState: HardState(term: 2, vote: 0, commit: 4), sync: false)
            try log.close()
            #expect(try WriteAheadLog.open(directory: live, options: growing).1.hardState == HardState(term: 2, vote: 0, commit: 4))
        }
    }

    @Test("an overwrite replaces exactly the suffix from its first index")
    func overwriteSuffix() throws {
        try withTemporaryDirectory { directory in
            let (log, _) = try WriteAheadLog.open(directory: directory)
            try log.append(entries(from: 1, count: 10, term: 1), hardState: nil)
            try log.append(entries(from: 6, count: 2, term: 2), hardState: nil)
            #expect(log.lastIndex == 7 && log.term(at: 5) == 1 && log.term(at: 6) == 2 && log.term(at: 8) == nil)
            try log.close()
            let (_, recovered) = try WriteAheadLog.open(directory: directory)
            #expect(recovered.entries == entries(from: 1, count: 5, term: 1) + entries(from: 6, count: 2, term: 2))
        }
    }

    @Test("invalid appends are rejected without writing, and the log stays usable")
    func rejectsInvalidAppends() throws {
        try withTemporaryDirectory { directory in
            let (log, _) = try WriteAheadLog.open(directory: directory)
            try log.append(entries(from: 1, count: 3, term: 2), hardState: nil)
            #expect(throws: StorageError(.invalidArgument)) { try log.append(entries(from: 5, count: 1, term: 2), hardState: nil) }
            #expect(throws: StorageError(.invalidArgument)) {
                try log.append([Entry(term: 2, index: 4), Entry(term: 2, index: 6)], hardState: nil)
            }
            #expect(throws: StorageError(.invalidArgument)) { try log.append(entries(from: 4, count: 1, term: 1), hardState: nil) }
            #expect(throws: StorageError(.invalidArgument)) {
                try log.append([Entry(term: 3, index: 4), Entry(term: 2, index: 5)], hardState: nil)
            }
            try log.resetToSnapshot(SnapshotMetadata(index: 10, term: 3, membership: Membership(voters: [1])))
            #expect(throws: StorageError(.invalidArgument)) { try log.append(entries(from: 10, count: 1, term: 3), hardState: nil) }
            try log.append(entries(from: 11, count: 1, term: 3), hardState: nil)
            try log.close()
            #expect(throws: StorageError(.closed)) { try log.append(entries(from: 12, count: 1, term: 3), hardState: nil) }
            let (_, recovered) = try WriteAheadLog.open(directory: directory)
            #expect(recovered.baseIndex == 10 && recovered.entries == entries(from: 11, count: 1, term: 3))
        }
    }

    @Test(
        "segments rotate at the size limit, are named by sequence and first index, and reopen intact",
        arguments: WriteAheadLog.Preallocation.allCases)
    func rotation(preallocation: WriteAheadLog.Preallocation) throws {
        try withTemporaryDirectory { directory in
            let options = WriteAheadLog.Options(segmentSize: 4096, preallocation: preallocation)
            var model = LogModel()
            let (log, _) = try WriteAheadLog.open(directory: directory, options: options)
            var next: LogIndex = 1
            for round in 0..<60 {
                let batch = Batch(
                    entries: entries(from: next, count: 1 + round % 4, term: 1 + LogIndex(round / 20), size: 150),
                    hardState: HardState(term: 1 + LogIndex(round / 20), vote: 1, commit: next - 1))
                try log.append(batch.entries, hardState: batch.hardState)
                model.apply(batch)
                next = model.lastIndex + 1
            }
            let names = try segmentFiles(in: directory)
            #expect(names.count == log.segmentCount)
            #expect(names.count >= 5)
            for (position, name) in names.enumerated() {
                let parts = name.dropLast(4).split(separator: "-")
                #expect(UInt64(parts[0], radix: 16) == UInt64(position + 1))
                #expect(parts[0].count == 16 && parts[1].count == 16)
                let size = try fileSize(directory + "/" + name)
                if position < names.count - 1 {
                    #expect(size <= 4096, "closed segment \(name) is \(size) bytes")
                } else if preallocation != .off {
                    #expect(size == 4096)
                }
            }
            // Each segment's name gives the index of the first entry written to it.
            let firstIndices = names.map { UInt64($0.dropLast(4).split(separator: "-")[1], radix: 16)! }
            #expect(firstIndices == firstIndices.sorted() && firstIndices.first == 1)
            try log.close()
            let (_, recovered) = try WriteAheadLog.open(directory: directory, options: options)
            #expect(recovered.baseIndex == 0)
            expectMatches(recovered, model)
        }
    }

    @Test("releaseSegments deletes exactly the oldest segments wholly at or below the index")
    func releaseSegments() throws {
        try withTemporaryDirectory { directory in
            let options = WriteAheadLog.Options(segmentSize: 1024)
            let (log, _) = try WriteAheadLog.open(directory: directory, options: options)
            var model = LogModel()
            // Each batch is 3 entries of 200 bytes: one batch per segment.
            for round in 0..<8 {
                let batch = Batch(entries: entries(from: LogIndex(round * 3 + 1), count: 3, term: 1, size: 200), hardState: nil)
                try log.append(batch.entries, hardState: HardState(term: 1, vote: 2, commit: LogIndex(round * 3)))
                model.apply(Batch(entries: batch.entries, hardState: HardState(term: 1, vote: 2, commit: LogIndex(round * 3))))
            }
            let before = try segmentFiles(in: directory)
            #expect(before.count == 8)

            try log.releaseSegments(through: 8)  // segments 1 and 2 end at indices 3 and 6, segment 3 at 9
            #expect(try segmentFiles(in: directory) == Array(before.dropFirst(2)))
            try log.releaseSegments(through: 9)
            #expect(try segmentFiles(in: directory) == Array(before.dropFirst(3)))
            try log.releaseSegments(through: .max)  // never the active segment
            #expect(try segmentFiles(in: directory) == [before.last!])
            try log.close()

            let (reopened, recovered) = try WriteAheadLog.open(directory: directory, options: options)
            #expect(recovered.baseIndex == 21 && recovered.baseTerm == 1)
            expectMatches(recovered, model)
            let more = Batch(entries: entries(from: 25, count: 1, term: 2), hardState: nil)
            try reopened.append(more.entries, hardState: nil)
            model.apply(more)
            try reopened.close()
            expectMatches(try WriteAheadLog.open(directory: directory, options: options).1, model)
        }
    }

    @Test("a released prefix still recovers when a later segment overwrote entries from it")
    func releaseAfterOverwrite() throws {
        try withTemporaryDirectory { directory in
            let options = WriteAheadLog.Options(segmentSize: 1024)
            let (log, _) = try WriteAheadLog.open(directory: directory, options: options)
            var model = LogModel()
            let history = [
                Batch(entries: entries(from: 1, count: 3, term: 1, size: 200), hardState: HardState(term: 1, vote: 1, commit: 0)),
                Batch(entries: entries(from: 4, count: 3, term: 1, size: 200), hardState: nil),
                // Overwrites 5...6 (in segment 2) from segment 3.
                Batch(entries: entries(from: 5, count: 3, term: 2, size: 200), hardState: HardState(term: 2, vote: 3, commit: 4)),
                Batch(entries: entries(from: 8, count: 3, term: 2, size: 200), hardState: nil),
            ]
            for batch in history {
                try log.append(batch.entries, hardState: batch.hardState)
                model.apply(batch)
            }
            #expect(log.segmentCount == 4)
            try log.releaseSegments(through: 6)  // segments 1 and 2 (entries <= 6)
            #expect(log.segmentCount == 2)
            try log.close()
            let (_, recovered) = try WriteAheadLog.open(directory: directory, options: options)
            #expect(recovered.baseIndex == 4 && recovered.baseTerm == 1)
            expectMatches(recovered, model)
        }
    }
}
