#if canImport(Glibc)
import Glibc
#elseif canImport(Musl)
import Musl
#elseif canImport(Darwin)
import Darwin
#endif
import CairnRaft

/// The durable, segmented write-ahead log of Raft entries, hard state and snapshot resets.
///
/// ## Use
/// Open it with ``open(directory:options:)``, which recovers what is on disk, then call
/// ``append(_:hardState:)`` once per Raft `Ready`: every call writes one record with one `pwrite`
/// and makes it durable with exactly one `fdatasync` before returning (group commit: batch as many
/// entries per call as you can). Only after it returns may the node send the messages that depend
/// on it (votes, acknowledgements). An entry at index `i` replaces every entry `>= i` written
/// before it, as Raft's log-matching rule requires.
///
/// The log is owned by one task; it is deliberately not `Sendable`. After a failed write or sync
/// it refuses every further write (the kernel's page cache can no longer be trusted): reopen it,
/// and recovery decides what is durable.
///
/// ## Files
/// A directory of segments named `%016x-%016x.wal` (sequence number, index of the first entry the
/// segment was opened for), sequence numbers consecutive from the oldest remaining one. Only the
/// newest segment is written; once the next record would make it exceed
/// ``Options-swift.struct/segmentSize`` a new one is created (and the directory synced). Closed
/// segments end exactly at their last record.
///
/// ## Records
/// Every record is `u32 payloadLength, u8 type, u32 crc32c(type byte ++ payload)`, then the
/// payload, all little-endian. Types:
/// - `1` segment header, the first record of every segment: magic `CAIRNWAL`, `u16` version,
///   `u8` flags (bit 0: preallocated), `u64` sequence, the log's last index and term when the
///   segment was created, and the hard state then — so the log recovers after older segments are
///   released.
/// - `2` batch, one per ``append(_:hardState:)``: `u8` flags (bit 0: hard state follows),
///   optional `u64 term, vote, commit`, `u32` entry count, and if nonzero `u64` first index,
///   `u64` term of the entry before it, then per entry `u64 term, u8 kind, u32 length, data`.
/// - `3` snapshot marker, from ``resetToSnapshot(_:)``: `u64 index, u64 term`, encoded membership.
///   Every entry before it is discarded; the log continues at `index + 1`.
///
/// ## Recovery
/// Records are replayed in order. The first invalid record (short, unknown type, bad checksum)
/// of the *newest* segment ends the log if nothing valid follows it anywhere in the file: that is
/// a torn write whose append never returned, and it is cut off (truncated, or zeroed in a
/// preallocated segment) and reported as ``RecoveredLog/truncatedBytes``. An invalid record
/// followed by a valid one, or any invalid record in an older segment, or a missing segment, is
/// damage to acknowledged data: ``open(directory:options:)`` throws ``StorageError/Code/corruptRecord``
/// (or ``StorageError/Code/missingSegment``) naming the file and byte offset, and never drops it.
/// (A torn tail whose bytes happen to contain a valid record, e.g. a log stored as a value, is
/// reported as corruption: the safe direction.)
public final class WriteAheadLog {
    /// How segments are laid out.
    public struct Options: Sendable, Hashable {
        /// The size at which a segment is closed and a new one started, in bytes (default 64 MiB,
        /// at least 272). A single record larger than this gets a segment of its own.
        public var segmentSize: Int
        /// Whether new segments reserve their disk space up front. The default,
        /// ``Preallocation/fallocate``, gave 13–90% more single-entry appends per second on ext4
        /// (see Benchmarks/wal).
        public var preallocation: Preallocation

        /// Creates options.
        public init(segmentSize: Int = 64 << 20, preallocation: Preallocation = .fallocate) {
            self.segmentSize = segmentSize
            self.preallocation = preallocation
        }
    }

    /// How a new segment's space is reserved.
    public enum Preallocation: String, Sendable, Hashable, CaseIterable {
        /// Segments grow with each append (every `fdatasync` also commits the new file size).
        case off
        /// `posix_fallocate` the whole segment (on ext4 the space is "unwritten": the first write to
        /// each block still commits metadata).
        case fallocate
        /// Write zeros over the whole segment when it is created, so appends overwrite written
        /// blocks and `fdatasync` flushes data only. Costs one segment-sized write per rotation.
        case zeroFill
    }

    /// A segment file and what it holds.
    struct Segment {
        var sequence: UInt64
        var firstIndex: LogIndex
        var path: String
        /// The highest entry or snapshot-marker index written to the segment (0 if none).
        var maxIndex: LogIndex
    }

    /// A run of consecutive entries with the same term, starting at `firstIndex`.
    private struct TermRun {
        var firstIndex: LogIndex
        var term: Term
    }

    /// The directory holding the segments.
    public let directory: String
    /// The options the log was opened with.
    public let options: Options
    /// The latest hard state written to the log (a commit index waiting in
    /// `unwrittenHardState` is not).
    public private(set) var hardState: HardState
    /// A hard state whose commit index alone moved since ``hardState``, written with the next
    /// record or at ``close()`` (see ``append(_:hardState:sync:)``).
    private var unwrittenHardState: HardState?
    /// The index the log's entries follow (0, or the last snapshot reset).
    public private(set) var baseIndex: LogIndex
    /// The term at ``baseIndex``.
    public private(set) var baseTerm: Term
    /// The index of the last durable entry (``baseIndex`` when there is none).
    public private(set) var lastIndex: LogIndex

    private var termRuns: [TermRun]
    private var segments: [Segment]
    private var active: POSIXFile?
    /// Where the next record goes in the active segment (the end of its data).
    private var writeOffset: Int
    /// Reused encoding buffer, so an append does not allocate once it has warmed up.
    private var buffer: [UInt8] = []
    /// The failure that made the log unusable, if any.
    private var failure: StorageError?

    init(
        directory: String, options: Options, replay: LogReplay, segments: [Segment], active: POSIXFile,
        writeOffset: Int
    ) {
        self.directory = directory
        self.options = options
        self.hardState = replay.hardState
        self.baseIndex = replay.baseIndex
        self.baseTerm = replay.baseTerm
        self.lastIndex = replay.lastIndex
        self.termRuns = []
        self.segments = segments
        self.active = active
        self.writeOffset = writeOffset
        appendTermRuns(replay.entries)
    }

    deinit {
        try? active?.close()
    }

    /// The term of the entry at `index`, or of the base when `index == baseIndex`; nil outside
    /// `baseIndex...lastIndex`.
    public func term(at index: LogIndex) -> Term? {
        if index == baseIndex { return baseTerm }
        guard index > baseIndex, index <= lastIndex else { return nil }
        var low = 0
        var high = termRuns.count - 1
        while low < high {  // the last run that starts at or before `index`
            let middle = (low + high + 1) / 2
            if termRuns[middle].firstIndex <= index { low = middle } else { high = middle - 1 }
        }
        return termRuns[low].term
    }

    /// The term of the last entry (or of the base).
    public var lastTerm: Term { term(at: lastIndex) ?? baseTerm }

    /// How many segment files the log currently has.
    public var segmentCount: Int { segments.count }

    /// Durably appends `entries` and/or `hardState` as one record with one `fdatasync`.
    ///
    /// `sync: false` is only for what Raft lets a node forget: a hard state whose commit index
    /// alone moved (its term and vote are those of the last one given). Such a hard state costs
    /// no write of its own — it is kept and goes out in the next record, or when the log is
    /// closed — so a crash before then recovers an older commit index, which the node learns
    /// again from its leader. A hard state given with `sync: false` that changes the term or vote
    /// is written at once (without a sync); that is the caller's mistake, not a saving.
    ///
    /// `entries` must be contiguous, their terms non-decreasing, and the first one must satisfy
    /// `baseIndex < index <= lastIndex + 1`; if it is `<= lastIndex`, the entries from there on are
    /// replaced. Either argument may be empty/nil (a hard-state-only append makes a term or vote
    /// durable); when both are, nothing is written.
    /// - Throws: ``StorageError/Code/invalidArgument`` without writing anything;
    ///   ``StorageError/Code/ioFailure`` after which the log accepts no further writes.
    public func append(_ entries: [Entry], hardState: HardState?, sync: Bool = true) throws {
        try checkUsable()
        guard !entries.isEmpty || hardState != nil else { return }
        if entries.isEmpty, !sync, let hardState {
            let latest = unwrittenHardState ?? self.hardState
            if hardState.term == latest.term, hardState.vote == latest.vote {
                unwrittenHardState = hardState
                return
            }
        }
        let hardState = hardState ?? unwrittenHardState
        var prevTerm: Term = 0
        if let first = entries.first {
            guard first.index > baseIndex, first.index <= lastIndex + 1 else {
                throw StorageError(
                    .invalidArgument,
                    "entries start at index \(first.index), but the log at \(directory) can only accept "
                        + "an index in \(baseIndex + 1)...\(lastIndex + 1)")
            }
            prevTerm = term(at: first.index - 1)!
            var previous = Entry(term: prevTerm, index: first.index - 1)
            for entry in entries {
                guard entry.index == previous.index + 1, entry.term >= previous.term else {
                    throw StorageError(
                        .invalidArgument,
                        "entry \(entry.index) (term \(entry.term)) does not follow entry \(previous.index) "
                            + "(term \(previous.term)): entries must be contiguous with non-decreasing terms")
                }
                previous = entry
            }
        }
        let payloadSize = WALRecord.batchPayloadSize(entries: entries, hardState: hardState)
        guard payloadSize <= WALRecord.maxPayload else {
            throw StorageError(.invalidArgument, "a batch of \(payloadSize) bytes exceeds the \(WALRecord.maxPayload)-byte record limit")
        }
        try writeBatch(entries, hardState: hardState, prevTerm: prevTerm, sync: sync)
        if let first = entries.first {
            truncateTermRuns(after: first.index - 1)
            appendTermRuns(entries)
            lastIndex = entries.last!.index
        }
    }

    /// Writes one batch record of `entries` (already checked) and `hardState`, then takes the
    /// hard state as written: nothing is left waiting.
    private func writeBatch(_ entries: [Entry], hardState: HardState?, prevTerm: Term, sync: Bool) throws {
        buffer.removeAll(keepingCapacity: true)
        WALRecord.encodeBatch(into: &buffer, entries: entries, hardState: hardState, prevTerm: prevTerm)
        try writeRecord(maxIndex: entries.last?.index ?? 0, sync: sync)
        if let hardState { self.hardState = hardState }
        unwrittenHardState = nil
    }

    /// Durably records that the log was reset to `metadata`'s snapshot: every entry before this
    /// record is discarded and the log continues at `metadata.index + 1`.
    ///
    /// The caller must have saved the snapshot itself durably first.
    public func resetToSnapshot(_ metadata: SnapshotMetadata) throws {
        try checkUsable()
        buffer.removeAll(keepingCapacity: true)
        WALRecord.encodeMarker(into: &buffer, metadata)
        try writeRecord(maxIndex: metadata.index)
        baseIndex = metadata.index
        baseTerm = metadata.term
        lastIndex = metadata.index
        termRuns.removeAll()
    }

    /// Deletes the oldest closed segments whose every entry (and snapshot marker) has an index
    /// `<= index`, stopping at the first that does not qualify; never the active segment. Then
    /// syncs the directory. Call it once a snapshot covering `index` is durable.
    public func releaseSegments(through index: LogIndex) throws {
        try checkUsable()
        var released = 0
        while segments.count > 1, segments[0].maxIndex <= index {
            try POSIX.remove(segments[0].path)
            segments.removeFirst()
            released += 1
        }
        if released > 0 { try POSIX.syncDirectory(directory) }
    }

    /// Closes the active segment. Every append that asked for a sync was durable already; a
    /// commit index still waiting to be written (see ``append(_:hardState:sync:)``) is written
    /// first, without a sync.
    public func close() throws {
        guard let file = active else { return }
        if failure == nil, let pending = unwrittenHardState {
            try writeBatch([], hardState: pending, prevTerm: 0, sync: false)
        }
        active = nil
        if failure == nil { failure = StorageError(.closed, "the write-ahead log at \(directory) was closed") }
        try file.close()
    }

    // MARK: Writing

    private func checkUsable() throws {
        if let failure {
            if failure.code == .closed { throw failure }
            throw StorageError(
                .ioFailure, "the write-ahead log at \(directory) failed earlier and must be reopened: \(failure.reason)")
        }
    }

    /// Writes `buffer` (one record) to the active segment, rotating first if it would overflow,
    /// and syncs it. Any failure makes the log unusable.
    private func writeRecord(maxIndex: LogIndex, sync: Bool = true) throws {
        do {
            if writeOffset > WALRecord.segmentHeaderRecordSize, writeOffset + buffer.count > options.segmentSize {
                try rotate()
            }
            guard let file = active else { throw StorageError(.closed, "no active segment in \(directory)") }
            try file.write(buffer, at: writeOffset)
            if sync { try file.syncData() }
            writeOffset += buffer.count
            segments[segments.count - 1].maxIndex = max(segments[segments.count - 1].maxIndex, maxIndex)
        } catch let error as StorageError {
            failure = error
            throw error
        }
    }

    /// Closes the active segment at the end of its data and starts the next one.
    private func rotate() throws {
        guard let current = active else { return }
        if try current.size() != writeOffset {
            // A preallocated segment: cut it to its data so that only the newest segment ever ends in zeros.
            try current.truncate(to: writeOffset)
            try current.syncAll()
        }
        active = nil
        try current.close()
        let sequence = segments[segments.count - 1].sequence + 1
        let header = WALRecord.SegmentHeader(
            sequence: sequence, preallocated: options.preallocation != .off, prevIndex: lastIndex,
            prevTerm: lastTerm, hardState: hardState)
        let (file, segment) = try Self.createSegment(in: directory, header: header, options: options)
        segments.append(segment)
        active = file
        writeOffset = WALRecord.segmentHeaderRecordSize
    }

    /// Creates a segment file holding only `header`, durably (file and directory synced).
    static func createSegment(
        in directory: String, header: WALRecord.SegmentHeader, options: Options
    ) throws -> (POSIXFile, Segment) {
        let name = segmentName(sequence: header.sequence, firstIndex: header.prevIndex + 1)
        let path = POSIX.join(directory, name)
        let file = try POSIXFile.open(path, flags: O_RDWR | O_CREAT | O_EXCL)
        do {
            switch options.preallocation {
            case .off: break
            case .fallocate: try file.allocate(options.segmentSize)
            case .zeroFill: try file.writeZeros(0..<options.segmentSize)
            }
            var bytes: [UInt8] = []
            WALRecord.encodeSegmentHeader(into: &bytes, header)
            try file.write(bytes, at: 0)
            try file.syncAll()
            try POSIX.syncDirectory(directory)
        } catch {
            try? file.close()
            throw error
        }
        return (file, Segment(sequence: header.sequence, firstIndex: header.prevIndex + 1, path: path, maxIndex: 0))
    }

    static func segmentName(sequence: UInt64, firstIndex: LogIndex) -> String {
        "\(hex16(sequence))-\(hex16(firstIndex)).wal"
    }

    /// Parses `%016x-%016x.wal` into (sequence, first index).
    static func parseSegmentName(_ name: String) -> (sequence: UInt64, firstIndex: LogIndex)? {
        guard name.utf8.count == 37, name.hasSuffix(".wal") else { return nil }
        let parts = name.dropLast(4).split(separator: "-", omittingEmptySubsequences: false)
        guard parts.count == 2, let sequence = parseHex16(parts[0]), let first = parseHex16(parts[1]) else { return nil }
        return (sequence, first)
    }

    // MARK: Term bookkeeping

    private func truncateTermRuns(after index: LogIndex) {
        while let last = termRuns.last, last.firstIndex > index { termRuns.removeLast() }
    }

    private func appendTermRuns(_ entries: [Entry]) {
        for entry in entries where termRuns.last?.term != entry.term {
            termRuns.append(TermRun(firstIndex: entry.index, term: entry.term))
        }
    }
}

@available(*, unavailable)
extension WriteAheadLog: Sendable {}
