import CairnRaft

/// What ``DurableLog/open(directory:options:)`` recovered: everything a Raft node needs to restart.
///
/// The log is `snapshot` (if any) followed by `entries`, which are contiguous and start right
/// after the snapshot: `entries.first?.index == (snapshot?.metadata.index ?? 0) + 1`.
public struct RecoveredState: Sendable, Hashable {
    /// The latest durable term, vote and commit index.
    public var hardState: HardState
    /// The newest verified snapshot, if any.
    public var snapshot: Snapshot?
    /// The entries after the snapshot.
    public var entries: [Entry]
    /// Bytes of a torn final log record cut off during recovery (see ``RecoveredLog/truncatedBytes``).
    public var truncatedBytes: Int
}

/// The node's durable Raft storage: a ``WriteAheadLog`` in `wal/` and a ``SnapshotStore`` in
/// `snap/`, kept consistent with each other.
///
/// ## Ordering rules
/// - ``append(entries:hardState:)`` is durable when it returns; send votes and acknowledgements
///   only after that.
/// - ``installSnapshot(_:)`` (a snapshot received from the leader) saves the snapshot file durably,
///   then writes a marker to the log that discards every earlier entry.
/// - ``compact(_:)`` (a snapshot of the local state machine, covering entries already in the log)
///   saves the snapshot file durably, then deletes log segments it makes redundant.
///
/// ## Recovery
/// ``open(directory:options:)`` loads the newest snapshot `(S, T)`, replays the log, and reconciles:
/// - entries up to `S` are dropped (the snapshot covers them);
/// - if the log's entry at `S` has a term other than `T` — or the log ends before `S` — the node
///   crashed after saving an installed snapshot but before its marker: the log's entries from `S`
///   on are dropped and the missing marker is written now;
/// - if the log starts after `S + 1` (entries missing between the snapshot and the log) the open
///   fails with ``StorageError/Code/gapInLog``; if the log was reset to a snapshot that is not on
///   disk, with ``StorageError/Code/missingSnapshot``.
///
/// Owned by one task; deliberately not `Sendable`.
public final class DurableLog {
    /// Options for the log and the snapshot store.
    public struct Options: Sendable, Hashable {
        /// Options for the write-ahead log.
        public var wal: WriteAheadLog.Options
        /// How many snapshots to keep (at least 1).
        public var retainedSnapshots: Int

        /// Creates options.
        public init(wal: WriteAheadLog.Options = .init(), retainedSnapshots: Int = 2) {
            self.wal = wal
            self.retainedSnapshots = retainedSnapshots
        }
    }

    /// The directory holding `wal/` and `snap/`.
    public let directory: String
    /// The write-ahead log.
    public let wal: WriteAheadLog
    /// The snapshot files.
    public let snapshots: SnapshotStore
    /// The metadata of the newest durable snapshot.
    public private(set) var snapshotMetadata: SnapshotMetadata?

    private init(directory: String, wal: WriteAheadLog, snapshots: SnapshotStore, snapshotMetadata: SnapshotMetadata?) {
        self.directory = directory
        self.wal = wal
        self.snapshots = snapshots
        self.snapshotMetadata = snapshotMetadata
    }

    /// Opens (creating if needed) the storage in `directory` and recovers it; see "Recovery".
    public static func open(directory: String, options: Options = Options()) throws -> (DurableLog, RecoveredState) {
        try POSIX.makeDirectories(directory)
        let snapshots = try SnapshotStore(directory: POSIX.join(directory, "snap"), retainCount: options.retainedSnapshots)
        let snapshot = try snapshots.loadLatest()
        let walDirectory = POSIX.join(directory, "wal")
        if let snapshot {
            // Checked before opening the log, which would otherwise start a new, empty one.
            let names = POSIX.isDirectory(walDirectory) ? try POSIX.listDirectory(walDirectory) : []
            guard names.contains(where: { WriteAheadLog.parseSegmentName($0) != nil }) else {
                throw StorageError(
                    .missingSegment,
                    "\(walDirectory) holds no log segments, but a snapshot at index \(snapshot.metadata.index) exists: "
                        + "the log (and with it the node's term and vote) is missing")
            }
        }
        let (wal, recovered) = try WriteAheadLog.open(directory: walDirectory, options: options.wal)
        do {
            let entries = try reconcile(snapshot: snapshot?.metadata, recovered: recovered, wal: wal)
            let log = DurableLog(directory: directory, wal: wal, snapshots: snapshots, snapshotMetadata: snapshot?.metadata)
            let state = RecoveredState(
                hardState: recovered.hardState, snapshot: snapshot, entries: entries, truncatedBytes: recovered.truncatedBytes)
            return (log, state)
        } catch {
            try? wal.close()
            throw error
        }
    }

    /// Applies the reconciliation rules and returns the entries after the snapshot.
    private static func reconcile(snapshot: SnapshotMetadata?, recovered: RecoveredLog, wal: WriteAheadLog) throws -> [Entry] {
        let walDirectory = wal.directory
        if let marker = recovered.lastSnapshotMarker, marker.index > snapshot?.index ?? 0 {
            throw StorageError(
                .missingSnapshot,
                "the log in \(walDirectory) was reset to the snapshot at index \(marker.index) term \(marker.term), "
                    + "but the newest snapshot file covers only index \(snapshot?.index ?? 0)")
        }
        guard let snapshot else {
            guard recovered.baseIndex == 0 else {
                throw StorageError(
                    .missingSnapshot,
                    "the log in \(walDirectory) starts after index \(recovered.baseIndex) but there is no snapshot")
            }
            return recovered.entries
        }
        if recovered.freshlyCreated {
            throw StorageError(
                .missingSegment,
                "\(walDirectory) holds no log, but a snapshot at index \(snapshot.index) exists: the log "
                    + "(and with it the node's term and vote) is missing")
        }
        guard recovered.baseIndex <= snapshot.index else {
            throw StorageError(
                .gapInLog,
                "the snapshot ends at index \(snapshot.index) but the log in \(walDirectory) starts at index "
                    + "\(recovered.baseIndex + 1): entries \(snapshot.index + 1)...\(recovered.baseIndex) are missing")
        }
        let termAtSnapshot: Term? =
            snapshot.index == recovered.baseIndex
            ? recovered.baseTerm
            : recovered.entries.indices.contains(Int(snapshot.index - recovered.baseIndex - 1))
                ? recovered.entries[Int(snapshot.index - recovered.baseIndex - 1)].term : nil
        guard termAtSnapshot == snapshot.term else {
            // Saved an installed snapshot, crashed before its marker: the log's suffix conflicts.
            try wal.resetToSnapshot(snapshot)
            return []
        }
        return Array(recovered.entries.dropFirst(Int(snapshot.index - recovered.baseIndex)))
    }

    /// Durably appends entries and/or a hard state; see ``WriteAheadLog/append(_:hardState:sync:)``
    /// (`sync: false` only for a hard state whose commit index alone moved: it is written with the
    /// next record, or at ``close()``).
    public func append(entries: [Entry], hardState: HardState?, sync: Bool = true) throws {
        try wal.append(entries, hardState: hardState, sync: sync)
    }

    /// Installs a snapshot received from the leader: saves it durably, then resets the log to it
    /// (discarding every entry), then releases log segments it covers.
    public func installSnapshot(_ snapshot: Snapshot) throws {
        try snapshots.save(snapshot)
        snapshotMetadata = snapshot.metadata
        try wal.resetToSnapshot(snapshot.metadata)
        try wal.releaseSegments(through: snapshot.metadata.index)
    }

    /// Records a snapshot the local state machine made of entries already in the log: saves it
    /// durably, then deletes log segments whose entries it wholly covers. Entries after it stay.
    /// - Throws: ``StorageError/Code/invalidArgument`` (before writing anything) when the log does
    ///   not hold an entry with the snapshot's index and term.
    public func compact(_ snapshot: Snapshot) throws {
        try checkHolds(snapshot.metadata)
        try snapshots.save(snapshot)
        snapshotMetadata = snapshot.metadata
        try wal.releaseSegments(through: snapshot.metadata.index)
    }

    /// ``compact(_:)`` for a snapshot whose file was already written and synced off the owner's
    /// thread (``SnapshotStore/prepare(_:in:)`` into ``snapshotDirectory``): links it in place,
    /// then releases the log segments it covers. Throws, and leaves the file for the caller to
    /// discard, when the log no longer holds the snapshot's entry.
    public func compact(prepared: PreparedSnapshot) throws {
        try checkHolds(prepared.metadata)
        try snapshots.link(prepared)
        snapshotMetadata = prepared.metadata
        try wal.releaseSegments(through: prepared.metadata.index)
    }

    /// Throws ``StorageError/Code/invalidArgument`` unless the log holds the entry `metadata` names.
    private func checkHolds(_ metadata: SnapshotMetadata) throws {
        guard let term = wal.term(at: metadata.index), term == metadata.term else {
            throw StorageError(
                .invalidArgument,
                "cannot compact to index \(metadata.index) term \(metadata.term): the log holds "
                    + (wal.term(at: metadata.index).map { "term \($0) there" } ?? "indices \(wal.baseIndex)...\(wal.lastIndex)"))
        }
    }

    /// Where ``SnapshotStore/prepare(_:in:)`` writes snapshots for ``compact(prepared:)``.
    public var snapshotDirectory: String { snapshots.directory }

    /// Closes the log.
    public func close() throws {
        try wal.close()
    }
}

@available(*, unavailable)
extension DurableLog: Sendable {}
