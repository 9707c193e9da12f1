#if canImport(Glibc)
import Glibc
#elseif canImport(Musl)
import Musl
#elseif canImport(Darwin)
import Darwin
#endif
import CairnRaft

extension WriteAheadLog {
    /// Opens (creating if needed) the log in `directory`, recovers it, and returns it ready for
    /// appends together with what it holds.
    ///
    /// A torn final record is cut off and reported in ``RecoveredLog/truncatedBytes``; any other
    /// damage throws (see "Recovery" on ``WriteAheadLog``). Files whose names are not segment names
    /// are ignored.
    /// - Throws: ``StorageError`` with code `corruptRecord`, `missingSegment`, `unsupportedVersion`,
    ///   `invalidArgument` (options) or `ioFailure`.
    public static func open(directory: String, options: Options = Options()) throws -> (WriteAheadLog, RecoveredLog) {
        guard options.segmentSize >= 4 * WALRecord.segmentHeaderRecordSize, options.segmentSize <= Int(Int32.max) else {
            throw StorageError(.invalidArgument, "segmentSize \(options.segmentSize) is outside 272...\(Int32.max) bytes")
        }
        try POSIX.makeDirectories(directory)
        let found = try POSIX.listDirectory(directory)
            .compactMap { name in parseSegmentName(name).map { (name: name, sequence: $0.sequence, firstIndex: $0.firstIndex) } }
            .sorted { $0.sequence < $1.sequence }
        for (older, newer) in zip(found, found.dropFirst()) where newer.sequence != older.sequence + 1 {
            let reason = newer.sequence == older.sequence
                ? "two segments in \(directory) share sequence number \(older.sequence): \(older.name) and \(newer.name)"
                : "segments \(older.sequence + 1)..<\(newer.sequence) are missing from \(directory) "
                    + "(between \(older.name) and \(newer.name))"
            throw StorageError(.missingSegment, reason)
        }

        var replay = LogReplay()
        var segments: [Segment] = []
        var truncatedBytes = 0
        var active: (file: POSIXFile, dataEnd: Int)?
        var previousDataEnd = 0
        for (position, entry) in found.enumerated() {
            let isLast = position == found.count - 1
            let path = POSIX.join(directory, entry.name)
            let file = try POSIXFile.open(path, flags: O_RDWR)
            var keepOpen = false
            defer { if !keepOpen { try? file.close() } }
            let bytes = try file.readAll()
            let scan = try bytes.withUnsafeBytes { buffer in
                try scanSegment(
                    buffer, path: path, sequence: entry.sequence, firstIndex: entry.firstIndex, isLast: isLast,
                    isOnly: found.count == 1, replay: &replay)
            }
            truncatedBytes += scan.tornBytes
            switch scan.repair {
            case .none:
                break
            case .truncate:
                try file.truncate(to: scan.dataEnd)
                try file.syncAll()
            case .zero(let range):
                try file.writeZeros(range)
                try file.syncData()
            case .remove:
                try POSIX.remove(path)
                try POSIX.syncDirectory(directory)
                continue
            }
            segments.append(Segment(sequence: entry.sequence, firstIndex: entry.firstIndex, path: path, maxIndex: scan.maxIndex))
            previousDataEnd = scan.dataEnd
            if isLast {
                keepOpen = true
                active = (file, scan.dataEnd)
            }
        }

        var freshlyCreated = false
        if active == nil, let last = segments.last {
            // The newest segment was only a torn header; continue in the one before it.
            active = (try POSIXFile.open(last.path, flags: O_RDWR), previousDataEnd)
        }
        if active == nil {
            freshlyCreated = true
            let header = WALRecord.SegmentHeader(
                sequence: 1, preallocated: options.preallocation != .off, prevIndex: 0, prevTerm: 0, hardState: .empty)
            let (file, segment) = try createSegment(in: directory, header: header, options: options)
            segments = [segment]
            replay = LogReplay()
            active = (file, WALRecord.segmentHeaderRecordSize)
        }
        let log = WriteAheadLog(
            directory: directory, options: options, replay: replay, segments: segments, active: active!.file,
            writeOffset: active!.dataEnd)
        let recovered = RecoveredLog(
            hardState: replay.hardState, lastSnapshotMarker: replay.lastMarker, baseIndex: replay.baseIndex,
            baseTerm: replay.baseTerm, entries: replay.entries, truncatedBytes: truncatedBytes,
            freshlyCreated: freshlyCreated)
        return (log, recovered)
    }

    /// What to do to a segment's file after scanning it.
    enum Repair: Equatable {
        case none
        /// Cut the file at the end of its data.
        case truncate
        /// Zero a torn range inside a preallocated segment.
        case zero(Range<Int>)
        /// The file is only a torn segment header: delete it.
        case remove
    }

    struct SegmentScan {
        /// The end of the last valid record.
        var dataEnd: Int
        var maxIndex: LogIndex
        var tornBytes: Int
        var repair: Repair
    }

    /// Replays one segment's records into `replay` and decides where its data ends.
    static func scanSegment(
        _ bytes: UnsafeRawBufferPointer, path: String, sequence: UInt64, firstIndex: LogIndex, isLast: Bool,
        isOnly: Bool, replay: inout LogReplay
    ) throws -> SegmentScan {
        func corrupt(_ offset: Int, _ what: String) -> StorageError {
            StorageError(.corruptRecord, "\(path): record at byte offset \(offset): \(what)")
        }
        var header: WALRecord.SegmentHeader?
        var maxIndex: LogIndex = 0
        var offset = 0
        while let frame = WALRecord.frame(in: bytes, at: offset) {
            do throws(WALRecord.DecodeError) {
                switch (frame.kind, header) {
                case (.segmentHeader, nil):
                    let decoded = try WALRecord.decodeSegmentHeader(bytes, frame.payload)
                    guard decoded.sequence == sequence, decoded.prevIndex &+ 1 == firstIndex else {
                        throw .malformed(
                            "the segment header (sequence \(decoded.sequence), starting after index \(decoded.prevIndex)) "
                                + "does not match the file name")
                    }
                    if let problem = replay.apply(decoded) { throw .malformed(problem) }
                    header = decoded
                case (_, nil):
                    throw .malformed("the segment does not start with a segment header")
                case (.segmentHeader, _):
                    throw .malformed("a second segment header")
                case (.batch, _):
                    let batch = try WALRecord.decodeBatch(bytes, frame.payload)
                    if let problem = replay.apply(batch) { throw .malformed(problem) }
                    maxIndex = max(maxIndex, batch.entries.last?.index ?? 0)
                case (.snapshotMarker, _):
                    let marker = try WALRecord.decodeMarker(bytes, frame.payload)
                    replay.apply(marker)
                    maxIndex = max(maxIndex, marker.index)
                }
            } catch {
                switch error {
                case .malformed(let what): throw corrupt(offset, what)
                case .unsupportedVersion(let version):
                    throw StorageError(
                        .unsupportedVersion, "\(path): segment format version \(version) is not supported (expected \(WALRecord.version))")
                }
            }
            offset = frame.end
        }

        // `offset` is the end of the valid records: the end of the file, or an invalid record.
        if header != nil && offset == bytes.count {
            return SegmentScan(dataEnd: offset, maxIndex: maxIndex, tornBytes: 0, repair: .none)
        }
        let why = header == nil && bytes.isEmpty ? "the file is empty" : WALRecord.diagnose(bytes, at: offset)
        guard isLast else {
            throw corrupt(offset, "\(why); the segment is not the newest, so this is damage, not a torn write")
        }
        let lastNonZero = endOfNonZeroBytes(bytes)
        if let header, header.preallocated, lastNonZero <= offset {
            // The zero tail of a preallocated segment: a clean end.
            return SegmentScan(dataEnd: offset, maxIndex: maxIndex, tornBytes: 0, repair: .none)
        }
        if let next = WALRecord.firstValidFrame(in: bytes, from: offset + 1) {
            throw corrupt(
                offset, "\(why), but a valid record follows at byte offset \(next): refusing to drop acknowledged data")
        }
        guard let header else {
            // Only a torn segment header: the segment never held data.
            guard isOnly ? sequence == 1 : true else {
                throw corrupt(0, "\(why) in the only segment (sequence \(sequence)), whose header carried the hard state")
            }
            return SegmentScan(dataEnd: 0, maxIndex: 0, tornBytes: lastNonZero, repair: .remove)
        }
        if header.preallocated {
            return SegmentScan(
                dataEnd: offset, maxIndex: maxIndex, tornBytes: lastNonZero - offset, repair: .zero(offset..<lastNonZero))
        }
        return SegmentScan(dataEnd: offset, maxIndex: maxIndex, tornBytes: bytes.count - offset, repair: .truncate)
    }
}

/// One past the last nonzero byte of `bytes` (0 when all are zero), scanning eight bytes at a time
/// from the end: a preallocated segment is mostly zeros.
func endOfNonZeroBytes(_ bytes: UnsafeRawBufferPointer) -> Int {
    var end = bytes.count
    while end % 8 != 0 {
        if bytes[end - 1] != 0 { return end }
        end -= 1
    }
    while end >= 8, bytes.loadUnaligned(fromByteOffset: end - 8, as: UInt64.self) == 0 { end -= 8 }
    while end > 0, bytes[end - 1] == 0 { end -= 1 }
    return end
}
