import CairnRaft
import CairnStorage
import Foundation
import Testing

private func snapshot(index: LogIndex, term: Term, size: Int = 300) -> Snapshot {
    Snapshot(
        metadata: SnapshotMetadata(index: index, term: term, membership: Membership(voters: [1, 2, 3], learners: [7])),
        data: (0..<size).map { UInt8(truncatingIfNeeded: $0 &* 17 &+ Int(index)) })
}

private func snapshotFiles(in directory: String) throws -> [String] {
    try FileManager.default.contentsOfDirectory(atPath: directory).filter { $0.hasSuffix(".snap") }.sorted()
}

@Suite("SnapshotStore")
struct SnapshotStoreTests {
    @Test("an empty store has no snapshot")
    func empty() throws {
        try withTemporaryDirectory { directory in
            let latest = try SnapshotStore(directory: directory + "/snap").loadLatest()
            #expect(latest == nil)
        }
    }

    @Test("a saved snapshot loads back identical, under its term-and-index name", arguments: [0, 1, 100_000])
    func roundTrip(size: Int) throws {
        try withTemporaryDirectory { directory in
            let store = try SnapshotStore(directory: directory)
            let saved = snapshot(index: 0x1234, term: 7, size: size)
            try store.save(saved)
            #expect(try snapshotFiles(in: directory) == ["snapshot-0000000000000007-0000000000001234.snap"])
            #expect(try SnapshotStore(directory: directory).loadLatest() == saved)
        }
    }

    @Test("the latest is the highest index, whatever the order of saving")
    func picksHighestIndex() throws {
        try withTemporaryDirectory { directory in
            let store = try SnapshotStore(directory: directory, retainCount: 3)
            try store.save(snapshot(index: 50, term: 2))
            try store.save(snapshot(index: 20, term: 9))
            #expect(try store.loadLatest() == snapshot(index: 50, term: 2))
        }
    }

    @Test("a damaged byte anywhere, or a cut anywhere, is detected and never returned")
    func detectsCorruption() throws {
        try withTemporaryDirectory { directory in
            try SnapshotStore(directory: directory).save(snapshot(index: 9, term: 3, size: 64))
            let name = try snapshotFiles(in: directory)[0]
            let path = directory + "/" + name
            let original = try readBytes(path)
            for offset in original.indices {
                var damaged = original
                damaged[offset] ^= 0x01
                try writeBytes(damaged, to: path)
                let error = #expect(throws: StorageError.self) { try SnapshotStore(directory: directory).loadLatest() }
                #expect(error?.code == .badSnapshotChecksum || error?.code == .corruptSnapshot)
                #expect(error?.reason.contains(name) == true)
            }
            for length in 0..<original.count {
                try writeBytes(Array(original[..<length]), to: path)
                #expect(throws: StorageError.self) { try SnapshotStore(directory: directory).loadLatest() }
            }
        }
    }

    @Test("a damaged newest snapshot is an error naming it and the older one, not a silent fallback")
    func damagedNewest() throws {
        try withTemporaryDirectory { directory in
            let store = try SnapshotStore(directory: directory)
            try store.save(snapshot(index: 10, term: 1))
            try store.save(snapshot(index: 20, term: 1))
            let names = try snapshotFiles(in: directory)
            var damaged = try readBytes(directory + "/" + names[1])
            damaged[100] ^= 0x40
            try writeBytes(damaged, to: directory + "/" + names[1])
            let error = #expect(throws: StorageError(.badSnapshotChecksum)) { try store.loadLatest() }
            #expect(error?.reason.contains(names[1]) == true && error?.reason.contains(names[0]) == true)
            // Moving the bad file aside falls back, as the error says.
            try FileManager.default.removeItem(atPath: directory + "/" + names[1])
            #expect(try store.loadLatest() == snapshot(index: 10, term: 1))
        }
    }

    @Test("a file whose contents do not match its name is rejected")
    func nameMismatch() throws {
        try withTemporaryDirectory { directory in
            try SnapshotStore(directory: directory).save(snapshot(index: 9, term: 3))
            try FileManager.default.moveItem(
                atPath: directory + "/snapshot-0000000000000003-0000000000000009.snap",
                toPath: directory + "/snapshot-0000000000000003-000000000000000a.snap")
            #expect(throws: StorageError(.corruptSnapshot)) { try SnapshotStore(directory: directory).loadLatest() }
        }
    }

    @Test("leftover temporary files are removed on open and never loaded")
    func temporaryLeftovers() throws {
        try withTemporaryDirectory { directory in
            try SnapshotStore(directory: directory).save(snapshot(index: 5, term: 1))
            let leftover = directory + "/snapshot-0000000000000009-00000000000000ff.snap.tmp"
            try writeBytes([1, 2, 3], to: leftover)
            let store = try SnapshotStore(directory: directory)
            #expect(!FileManager.default.fileExists(atPath: leftover))
            try writeBytes([1, 2, 3], to: leftover)  // one appearing later is ignored
            #expect(try store.loadLatest() == snapshot(index: 5, term: 1))
        }
    }

    @Test("only the newest N snapshots are kept", arguments: [1, 2, 3])
    func retention(count: Int) throws {
        try withTemporaryDirectory { directory in
            let store = try SnapshotStore(directory: directory, retainCount: count)
            for index in 1...5 { try store.save(snapshot(index: LogIndex(index * 10), term: 1, size: 10)) }
            let expected = (1...5).suffix(count).map { "snapshot-0000000000000001-\(String(format: "%016x", $0 * 10)).snap" }
            #expect(try snapshotFiles(in: directory) == expected)
            #expect(try store.loadLatest()?.metadata.index == 50)
        }
    }

    @Test("retaining no snapshots is rejected")
    func retainZero() throws {
        try withTemporaryDirectory { directory in
            #expect(throws: StorageError(.invalidArgument)) { try SnapshotStore(directory: directory, retainCount: 0) }
        }
    }
}
