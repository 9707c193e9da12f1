import CairnRaft
import CairnStorage
import CairnTestSupport
import Foundation
import Testing

/// A log of K synced batches followed by a final batch, written once; each case damages a copy of
/// its segment file and recovers it.
private struct CrashFixture {
    static let synced: [Batch] = [
        Batch(entries: entries(from: 1, count: 3, term: 1), hardState: HardState(term: 1, vote: 1, commit: 0)),
        Batch(entries: entries(from: 4, count: 2, term: 1), hardState: nil),
        Batch(entries: [], hardState: HardState(term: 2, vote: 0, commit: 3)),
        Batch(entries: entries(from: 4, count: 3, term: 2, size: 12), hardState: HardState(term: 2, vote: 2, commit: 4)),
    ]
    /// The batch that is torn. Its last byte is nonzero, so in a preallocated segment the torn
    /// region ends exactly where the record does.
    static let final: Batch = {
        var batch = Batch(entries: entries(from: 7, count: 3, term: 2, size: 20), hardState: HardState(term: 2, vote: 2, commit: 6))
        batch.entries[2].data[19] = 0xAB
        return batch
    }()
    /// Appended after recovery to show the log is writable and the result durable.
    static let afterwards = Batch(entries: entries(from: 7, count: 2, term: 3), hardState: HardState(term: 3, vote: 3, commit: 6))

    let root: String
    let options: WriteAheadLog.Options
    let segmentName: String
    /// The segment file after the final batch.
    let bytes: [UInt8]
    /// The end offset of each batch record, `synced.count + 1` of them.
    let recordEnds: [Int]
    var syncedEnd: Int { recordEnds[Self.synced.count - 1] }
    var finalEnd: Int { recordEnds[Self.synced.count] }

    init(root: String, preallocation: WriteAheadLog.Preallocation) throws {
        self.root = root
        options = WriteAheadLog.Options(segmentSize: 16 << 10, preallocation: preallocation)
        // Learn the record boundaries from a growing (not preallocated) segment's size.
        let layoutDirectory = root + "/layout"
        var ends: [Int] = []
        let (layout, _) = try WriteAheadLog.open(directory: layoutDirectory, options: .init(segmentSize: 16 << 10, preallocation: .off))
        let name = try segmentFiles(in: layoutDirectory)[0]
        for batch in Self.synced + [Self.final] {
            try layout.append(batch.entries, hardState: batch.hardState)
            ends.append(try fileSize(layoutDirectory + "/" + name))
        }
        try layout.close()
        segmentName = name
        recordEnds = ends

        let referenceDirectory = root + "/reference"
        let (reference, _) = try WriteAheadLog.open(directory: referenceDirectory, options: options)
        for batch in Self.synced + [Self.final] { try reference.append(batch.entries, hardState: batch.hardState) }
        try reference.close()
        bytes = try readBytes(referenceDirectory + "/" + name)
        // Same layout apart from the segment header's "preallocated" flag (byte 19) and checksum.
        let layoutBytes = try readBytes(layoutDirectory + "/" + name)
        let masked = [5, 6, 7, 8, 19]
        #expect(bytes[..<ends.last!].indices.allSatisfy { masked.contains($0) || bytes[$0] == layoutBytes[$0] })
        #expect(bytes[19] == (preallocation == .off ? 0 : 1))
    }

    var syncedModel: LogModel {
        var model = LogModel()
        for batch in Self.synced { model.apply(batch) }
        return model
    }

    /// Recovers a log whose only segment holds `damaged`.
    func open(_ damaged: [UInt8], label: String) throws -> (WriteAheadLog, RecoveredLog, String) {
        let directory = root + "/case-\(label)"
        try FileManager.default.createDirectory(atPath: directory, withIntermediateDirectories: true)
        try writeBytes(damaged, to: directory + "/" + segmentName)
        let (log, recovered) = try WriteAheadLog.open(directory: directory, options: options)
        return (log, recovered, directory)
    }

    /// Recovers `damaged` and checks it yields exactly the synced batches, with `expectedTruncation`
    /// bytes cut, then that the log takes an append that survives another reopen.
    func expectRecoversSyncedBatches(
        _ damaged: [UInt8], expectedTruncation: Int, label: String, sourceLocation: SourceLocation = #_sourceLocation
    ) throws {
        let (log, recovered, directory) = try open(damaged, label: label)
        defer { try? FileManager.default.removeItem(atPath: directory) }
        var model = syncedModel
        expectMatches(recovered, model, sourceLocation: sourceLocation)
        #expect(recovered.truncatedBytes == expectedTruncation, "\(label)", sourceLocation: sourceLocation)
        try log.append(Self.afterwards.entries, hardState: Self.afterwards.hardState)
        try log.close()
        model.apply(Self.afterwards)
        let (reopened, again) = try WriteAheadLog.open(directory: directory, options: options)
        try reopened.close()
        expectMatches(again, model, sourceLocation: sourceLocation)
        #expect(again.truncatedBytes == 0, "\(label)", sourceLocation: sourceLocation)
    }
}

/// The number of bytes from `start` up to and including the last nonzero byte before `end`.
private func nonzeroExtent(_ bytes: [UInt8], from start: Int, to end: Int) -> Int {
    (bytes[start..<end].lastIndex { $0 != 0 }).map { $0 + 1 - start } ?? 0
}

@Suite("WriteAheadLog crash recovery")
struct WriteAheadLogCrashTests {
    @Test("a final batch cut at every byte offset is dropped, and only it", arguments: WriteAheadLog.Preallocation.allCases)
    func truncatedFinalBatch(preallocation: WriteAheadLog.Preallocation) async throws {
        try await inBackground {
            try withTemporaryDirectory { root in
                let fixture = try CrashFixture(root: root, preallocation: preallocation)
                #expect(fixture.finalEnd - fixture.syncedEnd > 100)
                for offset in fixture.syncedEnd..<fixture.finalEnd {
                    let cut = Array(fixture.bytes[..<offset])
                    let expected = preallocation == .off
                        ? offset - fixture.syncedEnd : nonzeroExtent(fixture.bytes, from: fixture.syncedEnd, to: offset)
                    try fixture.expectRecoversSyncedBatches(cut, expectedTruncation: expected, label: "cut-\(offset)")
                }
            }
        }
    }

    @Test(
        "a final batch whose write stopped at every byte offset of a preallocated segment is dropped",
        arguments: [WriteAheadLog.Preallocation.fallocate, .zeroFill])
    func partiallyWrittenPreallocatedBatch(preallocation: WriteAheadLog.Preallocation) async throws {
        try await inBackground {
            try withTemporaryDirectory { root in
                let fixture = try CrashFixture(root: root, preallocation: preallocation)
                #expect(fixture.bytes.count == 16 << 10)
                for offset in fixture.syncedEnd..<fixture.finalEnd {
                    var torn = fixture.bytes
                    for i in offset..<fixture.finalEnd { torn[i] = 0 }
                    let expected = nonzeroExtent(fixture.bytes, from: fixture.syncedEnd, to: offset)
                    try fixture.expectRecoversSyncedBatches(torn, expectedTruncation: expected, label: "zero-\(offset)")
                }
            }
        }
    }

    @Test("a final batch with a damaged byte at every offset is dropped, and only it", arguments: WriteAheadLog.Preallocation.allCases)
    func damagedFinalBatch(preallocation: WriteAheadLog.Preallocation) async throws {
        try await inBackground {
            try withTemporaryDirectory { root in
                let fixture = try CrashFixture(root: root, preallocation: preallocation)
                for offset in fixture.syncedEnd..<fixture.finalEnd {
                    var damaged = fixture.bytes
                    damaged[offset] ^= 0xFF
                    try fixture.expectRecoversSyncedBatches(
                        damaged, expectedTruncation: fixture.finalEnd - fixture.syncedEnd, label: "flip-\(offset)")
                }
            }
        }
    }

    @Test(
        "a damaged byte anywhere before the final batch refuses to open, naming the file and the record's offset",
        arguments: [WriteAheadLog.Preallocation.off, .zeroFill])
    func damagedEarlierRecord(preallocation: WriteAheadLog.Preallocation) async throws {
        try await inBackground {
            try withTemporaryDirectory { root in
                let fixture = try CrashFixture(root: root, preallocation: preallocation)
                let recordStarts = [0, 68] + fixture.recordEnds.dropLast()
                for offset in 0..<fixture.syncedEnd {
                    let recordStart = recordStarts.last { $0 <= offset }!
                    var damaged = fixture.bytes
                    damaged[offset] ^= 0xFF
                    let error = #expect(throws: StorageError(.corruptRecord)) {
                        _ = try fixture.open(damaged, label: "middle-\(offset)")
                    }
                    #expect(error?.reason.contains(fixture.segmentName) == true)
                    #expect(error?.reason.contains("byte offset \(recordStart):") == true, "\(error?.reason ?? "")")
                    try FileManager.default.removeItem(atPath: root + "/case-middle-\(offset)")
                }
                // Batch 1 of K specifically: its start is named.
                var damaged = fixture.bytes
                damaged[fixture.recordEnds[0] + 20] ^= 0x01
                let error = #expect(throws: StorageError(.corruptRecord)) { _ = try fixture.open(damaged, label: "batch1") }
                #expect(error?.reason.contains("\(fixture.segmentName): record at byte offset \(fixture.recordEnds[0]):") == true)
            }
        }
    }

    @Test("garbage after a preallocated segment's zero header is cut unless it contains a valid record")
    func garbageAfterZeroHeader() throws {
        try withTemporaryDirectory { root in
            let fixture = try CrashFixture(root: root, preallocation: .fallocate)
            // A write whose first sector was lost but whose second landed: torn, cut.
            var torn = fixture.bytes
            for i in fixture.syncedEnd..<(fixture.syncedEnd + 16) { torn[i] = 0 }
            try fixture.expectRecoversSyncedBatches(
                torn, expectedTruncation: fixture.finalEnd - fixture.syncedEnd, label: "lost-first-sector")
            // A valid record far after the end of data: corruption.
            var misplaced = fixture.bytes
            for i in fixture.syncedEnd..<fixture.finalEnd { misplaced[i] = 0 }
            misplaced.replaceSubrange(8000..<(8000 + fixture.finalEnd - fixture.syncedEnd), with: fixture.bytes[fixture.syncedEnd..<fixture.finalEnd])
            let error = #expect(throws: StorageError(.corruptRecord)) { _ = try fixture.open(misplaced, label: "misplaced") }
            #expect(error?.reason.contains("byte offset \(fixture.syncedEnd):") == true)
            #expect(error?.reason.contains("valid record follows at byte offset 8000") == true)
        }
    }
}

@Suite("WriteAheadLog damage to older segments")
struct WriteAheadLogSegmentDamageTests {
    /// Four segments, one batch each.
    private func makeLog(in directory: String) throws -> (names: [String], model: LogModel) {
        let (log, _) = try WriteAheadLog.open(directory: directory, options: .init(segmentSize: 1024))
        var model = LogModel()
        for round in 0..<4 {
            let batch = Batch(
                entries: entries(from: LogIndex(round * 3 + 1), count: 3, term: 1, size: 200),
                hardState: HardState(term: 1, vote: 1, commit: LogIndex(round * 3)))
            try log.append(batch.entries, hardState: batch.hardState)
            model.apply(batch)
        }
        try log.close()
        let names = try segmentFiles(in: directory)
        #expect(names.count == 4)
        return (names, model)
    }

    private func expectCorrupt(_ directory: String, naming name: String, sourceLocation: SourceLocation = #_sourceLocation) {
        let error = #expect(throws: StorageError(.corruptRecord), sourceLocation: sourceLocation) {
            _ = try WriteAheadLog.open(directory: directory, options: .init(segmentSize: 1024))
        }
        #expect(error?.reason.contains(name) == true, "\(error?.reason ?? "")", sourceLocation: sourceLocation)
    }

    @Test("a damaged byte anywhere in an older segment refuses to open")
    func damagedOlderSegment() async throws {
        try await inBackground {
            try withTemporaryDirectory { root in
                let (names, _) = try makeLog(in: root + "/log")
                let original = try readBytes(root + "/log/" + names[1])
                for offset in original.indices {
                    var damaged = original
                    damaged[offset] ^= 0x10
                    try writeBytes(damaged, to: root + "/log/" + names[1])
                    expectCorrupt(root + "/log", naming: names[1])
                }
            }
        }
    }

    @Test("the last record of a closed segment is not a torn tail: cut or damaged, it refuses to open")
    func tailOfClosedSegment() throws {
        try withTemporaryDirectory { root in
            let (names, _) = try makeLog(in: root + "/log")
            let path = root + "/log/" + names[2]
            let original = try readBytes(path)
            try writeBytes(Array(original.dropLast()), to: path)
            expectCorrupt(root + "/log", naming: names[2])
            var damaged = original
            damaged[damaged.count - 1] ^= 0xFF
            try writeBytes(damaged, to: path)
            expectCorrupt(root + "/log", naming: names[2])
            try writeBytes(original + [UInt8](repeating: 0, count: 100), to: path)  // an untruncated zero tail
            expectCorrupt(root + "/log", naming: names[2])
        }
    }

    @Test("a missing middle segment refuses to open")
    func missingSegment() throws {
        try withTemporaryDirectory { root in
            let (names, _) = try makeLog(in: root + "/log")
            try FileManager.default.removeItem(atPath: root + "/log/" + names[1])
            let error = #expect(throws: StorageError(.missingSegment)) { _ = try WriteAheadLog.open(directory: root + "/log") }
            #expect(error?.reason.contains(names[2]) == true)
        }
    }

    @Test("a damaged header of the newest segment, with records after it, refuses to open")
    func damagedNewestHeader() throws {
        try withTemporaryDirectory { root in
            let (names, _) = try makeLog(in: root + "/log")
            let path = root + "/log/" + names[3]
            var damaged = try readBytes(path)
            damaged[12] ^= 0xFF
            try writeBytes(damaged, to: path)
            expectCorrupt(root + "/log", naming: names[3])
        }
    }

    @Test("a torn first batch of a new segment is cut at every byte offset, and the log continues")
    func tornBatchInNewestSegment() async throws {
        try await inBackground {
            try withTemporaryDirectory { root in
                let (names, _) = try makeLog(in: root + "/log")
                var synced = LogModel()
                for round in 0..<3 {
                    synced.apply(Batch(
                        entries: entries(from: LogIndex(round * 3 + 1), count: 3, term: 1, size: 200),
                        hardState: HardState(term: 1, vote: 1, commit: LogIndex(round * 3))))
                }
                let newest = try readBytes(root + "/log/" + names[3])
                let dataEnd = try fileSize(root + "/log/" + names[2])  // identical segment, cut to its data at rotation
                for offset in 68..<dataEnd {
                    let directory = root + "/case-\(offset)"
                    try copyDirectory(root + "/log", to: directory)
                    try writeBytes(Array(newest[..<offset]), to: directory + "/" + names[3])
                    let (log, recovered) = try WriteAheadLog.open(directory: directory, options: .init(segmentSize: 1024))
                    expectMatches(recovered, synced)
                    #expect(recovered.truncatedBytes == (newest[68..<offset].lastIndex { $0 != 0 }).map { $0 + 1 - 68 } ?? 0)
                    var model = synced
                    let more = Batch(entries: entries(from: 10, count: 1, term: 2), hardState: HardState(term: 2, vote: 2, commit: 9))
                    try log.append(more.entries, hardState: more.hardState)
                    model.apply(more)
                    try log.close()
                    expectMatches(try WriteAheadLog.open(directory: directory).1, model)
                    try FileManager.default.removeItem(atPath: directory)
                }
            }
        }
    }

    @Test("a newest segment holding only a torn header (a crash while rotating) is removed", arguments: [0, 5, 17])
    func tornNewSegment(length: Int) throws {
        try withTemporaryDirectory { root in
            let (names, synced) = try makeLog(in: root + "/log")
            var model = synced
            let header = try readBytes(root + "/log/" + names[3]).prefix(length)
            // Rotation first cuts the preallocated segment to its data (the size of the identical
            // segment before it), and only then creates the next one, which the crash tore.
            let dataEnd = try fileSize(root + "/log/" + names[2])
            #expect(try fileSize(root + "/log/" + names[3]) == 1024)
            try FileHandle(forWritingTo: URL(fileURLWithPath: root + "/log/" + names[3])).truncate(atOffset: UInt64(dataEnd))
            let torn = "0000000000000005-000000000000000d.wal"
            try writeBytes(Array(header), to: root + "/log/" + torn)
            let (log, recovered) = try WriteAheadLog.open(directory: root + "/log", options: .init(segmentSize: 1024))
            expectMatches(recovered, model)
            #expect(recovered.truncatedBytes == length)
            #expect(try segmentFiles(in: root + "/log") == names)
            let more = Batch(entries: entries(from: 13, count: 3, term: 2, size: 200), hardState: nil)
            try log.append(more.entries, hardState: nil)  // rotates into a new segment 5
            model.apply(more)
            try log.close()
            #expect(try segmentFiles(in: root + "/log") == names + [torn])
            expectMatches(try WriteAheadLog.open(directory: root + "/log").1, model)
        }
    }
}
