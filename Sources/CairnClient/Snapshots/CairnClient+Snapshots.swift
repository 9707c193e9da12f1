import CairnWire

/// Snapshots of the whole replicated state (every module), for backups and disaster recovery
/// (Consul's `consul snapshot save/restore`).
extension CairnClient {
    /// Takes a snapshot: the Raft index it reflects and a checksummed archive of the state.
    /// Write the bytes to a file as they are; ``restoreSnapshot(_:)`` takes them back.
    public func saveSnapshot() async throws -> (index: UInt64, archive: [UInt8]) {
        guard case .snapshotArchive(let index, let archive) = try await perform(.snapshotSave, idempotent: true) else { throw unexpected() }
        return (index, archive)
    }

    /// Replaces the whole replicated state with `archive` (from ``saveSnapshot()``) on every
    /// server; returns the Raft index at which it took effect. A damaged archive fails with a
    /// ``CairnClientError/Code/server`` error whose ``CairnClientError/serverCode`` is
    /// ``ClientErrorCode/invalidSnapshot``, and changes nothing.
    @discardableResult
    public func restoreSnapshot(_ archive: [UInt8]) async throws -> UInt64 {
        guard case .applied(let index) = try await perform(.snapshotRestore(archive: archive), idempotent: false) else { throw unexpected() }
        return index
    }
}
