import CairnRaft

/// What ``WriteAheadLog/open(directory:options:)`` found on disk.
///
/// The log is `baseIndex` (with `baseTerm`) followed by `entries`, which are contiguous:
/// `entries[k].index == baseIndex + 1 + k`. The base is 0 for a log that starts at the beginning,
/// the index of the last snapshot marker, or — once old segments have been released — the index
/// the oldest remaining segment starts after.
public struct RecoveredLog: Sendable, Hashable {
    /// The latest hard state written (``HardState/empty`` if none ever was).
    public var hardState: HardState
    /// The last snapshot marker in the remaining segments, if any.
    public var lastSnapshotMarker: SnapshotMetadata?
    /// The index the recovered entries follow.
    public var baseIndex: LogIndex
    /// The term of the entry at `baseIndex` (0 when `baseIndex` is 0).
    public var baseTerm: Term
    /// The live entries, in order, after replaying every overwrite and marker.
    public var entries: [Entry]
    /// How many bytes of a torn final record were cut off (0 after a clean shutdown). Such a
    /// record's append never returned, so nothing acknowledged was lost.
    public var truncatedBytes: Int
    /// Whether the directory held no log and a new, empty one was started.
    public var freshlyCreated: Bool

    /// The index of the last entry (or of the base when there are no entries).
    public var lastIndex: LogIndex { baseIndex + LogIndex(entries.count) }
}

/// Replays records in order, reproducing the log a writer had in memory.
struct LogReplay {
    var hardState = HardState.empty
    var baseIndex: LogIndex = 0
    var baseTerm: Term = 0
    /// True when the base came from the header of a segment whose predecessors were released:
    /// entries at or below it are unknown here, and a later record may legitimately overwrite them.
    var baseIsReleasedPrefix = false
    var entries: [Entry] = []
    var lastMarker: SnapshotMetadata?
    var hasStarted = false

    var lastIndex: LogIndex { baseIndex + LogIndex(entries.count) }
    var lastTerm: Term { entries.last?.term ?? baseTerm }

    func term(at index: LogIndex) -> Term? {
        if index == baseIndex { return baseTerm }
        guard index > baseIndex, index <= lastIndex else { return nil }
        return entries[Int(index - baseIndex - 1)].term
    }

    /// Applies a segment header; returns why it is inconsistent, or nil.
    mutating func apply(_ header: WALRecord.SegmentHeader) -> String? {
        guard hasStarted else {
            hasStarted = true
            hardState = header.hardState
            baseIndex = header.prevIndex
            baseTerm = header.prevTerm
            baseIsReleasedPrefix = header.prevIndex > 0
            return nil
        }
        guard header.prevIndex == lastIndex, header.prevTerm == lastTerm else {
            return "the segment header says the log ended at index \(header.prevIndex) term \(header.prevTerm), "
                + "but the preceding segments end at index \(lastIndex) term \(lastTerm)"
        }
        guard header.hardState == hardState else {
            return "the segment header's hard state \(header.hardState) differs from the preceding segments' \(hardState)"
        }
        return nil
    }

    /// Applies a batch; returns why it is inconsistent, or nil.
    mutating func apply(_ batch: WALRecord.Batch) -> String? {
        if let state = batch.hardState { hardState = state }
        guard let first = batch.entries.first?.index else { return nil }
        if first <= baseIndex {
            guard baseIsReleasedPrefix else {
                return "a batch starts at index \(first), at or below the log's base \(baseIndex)"
            }
            baseIndex = first - 1
            baseTerm = batch.prevTerm
            entries = batch.entries
            return nil
        }
        guard first <= lastIndex + 1 else {
            return "a batch starts at index \(first) but the log ends at index \(lastIndex)"
        }
        let expected = term(at: first - 1)!
        guard expected == batch.prevTerm else {
            return "a batch says entry \(first - 1) has term \(batch.prevTerm) but the log has term \(expected)"
        }
        entries.removeLast(Int(lastIndex - (first - 1)))
        entries.append(contentsOf: batch.entries)
        return nil
    }

    /// Applies a snapshot marker: the log restarts after the snapshot.
    mutating func apply(_ marker: SnapshotMetadata) {
        baseIndex = marker.index
        baseTerm = marker.term
        baseIsReleasedPrefix = false
        entries.removeAll()
        lastMarker = marker
    }
}
