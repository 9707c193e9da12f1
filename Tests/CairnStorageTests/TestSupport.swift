import CairnRaft
import CairnStorage
import Foundation
import Testing

/// Runs `body` with a fresh directory under the system temporary directory, removed afterwards.
func withTemporaryDirectory(_ body: (String) throws -> Void) throws {
    let url = FileManager.default.temporaryDirectory
        .appendingPathComponent("cairn-storage-tests-\(UUID().uuidString)", isDirectory: true)
    try FileManager.default.createDirectory(at: url, withIntermediateDirectories: true)
    defer { try? FileManager.default.removeItem(at: url) }
    try body(url.path)
}

/// ``withTemporaryDirectory(_:)`` for an asynchronous body.
func withTemporaryDirectory(_ body: (String) async throws -> Void) async throws {
    let url = FileManager.default.temporaryDirectory
        .appendingPathComponent("cairn-storage-tests-\(UUID().uuidString)", isDirectory: true)
    try FileManager.default.createDirectory(at: url, withIntermediateDirectories: true)
    defer { try? FileManager.default.removeItem(at: url) }
    try await body(url.path)
}

/// One call to `append`.
struct Batch {
    var entries: [Entry]
    var hardState: HardState?
}

/// `count` entries starting at `index`, with recognisable payloads of `size` bytes.
func entries(from index: LogIndex, count: Int, term: Term, size: Int = 8) -> [Entry] {
    (0..<count).map { offset in
        let i = index + LogIndex(offset)
        let data = (0..<size).map { UInt8(truncatingIfNeeded: Int(i) &* 7 &+ Int(term) &* 13 &+ $0 &+ 1) }
        return Entry(term: term, index: i, kind: offset % 3 == 2 ? .membership : .normal, data: data)
    }
}

/// The reference semantics of the log, kept as simply as possible: what a correct recovery returns.
struct LogModel {
    var hardState = HardState.empty
    var baseIndex: LogIndex = 0
    var baseTerm: Term = 0
    var entries: [Entry] = []

    var lastIndex: LogIndex { baseIndex + LogIndex(entries.count) }

    mutating func apply(_ batch: Batch) {
        if let state = batch.hardState { hardState = state }
        guard let first = batch.entries.first else { return }
        entries.removeAll { $0.index >= first.index }
        entries.append(contentsOf: batch.entries)
    }

    mutating func reset(to metadata: SnapshotMetadata) {
        baseIndex = metadata.index
        baseTerm = metadata.term
        entries = []
    }

    func term(at index: LogIndex) -> Term? {
        index == baseIndex ? baseTerm : entries.first { $0.index == index }?.term
    }
}

/// Checks that `recovered` is `model`, allowing a released prefix: the recovered base may be
/// later than the model's, as long as what remains agrees.
func expectMatches(_ recovered: RecoveredLog, _ model: LogModel, sourceLocation: SourceLocation = #_sourceLocation) {
    #expect(recovered.hardState == model.hardState, sourceLocation: sourceLocation)
    #expect(recovered.lastIndex == model.lastIndex, sourceLocation: sourceLocation)
    #expect(recovered.baseIndex >= model.baseIndex, sourceLocation: sourceLocation)
    #expect(recovered.entries == model.entries.filter { $0.index > recovered.baseIndex }, sourceLocation: sourceLocation)
    let expectedBaseTerm = recovered.baseIndex == model.baseIndex ? model.baseTerm : model.term(at: recovered.baseIndex)
    #expect(recovered.baseTerm == expectedBaseTerm, sourceLocation: sourceLocation)
}

/// The `.wal` files in a directory, oldest first.
func segmentFiles(in directory: String) throws -> [String] {
    try FileManager.default.contentsOfDirectory(atPath: directory).filter { $0.hasSuffix(".wal") }.sorted()
}

func fileSize(_ path: String) throws -> Int {
    (try FileManager.default.attributesOfItem(atPath: path)[.size] as! NSNumber).intValue
}

func readBytes(_ path: String) throws -> [UInt8] {
    [UInt8](try Data(contentsOf: URL(fileURLWithPath: path)))
}

func writeBytes(_ bytes: [UInt8], to path: String) throws {
    try Data(bytes).write(to: URL(fileURLWithPath: path))
}

/// Copies every file of `source` into a new directory `destination`.
func copyDirectory(_ source: String, to destination: String) throws {
    try FileManager.default.copyItem(atPath: source, toPath: destination)
}
