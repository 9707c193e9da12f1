#if canImport(Glibc)
import Glibc
#elseif canImport(Musl)
import Musl
#elseif canImport(Darwin)
import Darwin
#endif
import CairnRaft

/// Snapshot files in a directory, written atomically and verified on load.
///
/// ## Files
/// `snapshot-%016x-%016x.snap` (term, index), containing, little-endian:
/// ```
/// "CAIRNSNP", u16 version (1), u64 index, u64 term,
/// u32 membershipLength, membership (Membership.encoded()),
/// u64 dataLength, data,
/// u32 crc32c(every byte before it)
/// ```
/// ``save(_:)`` writes `<name>.tmp`, fsyncs it, renames it into place and fsyncs the directory, so
/// a file with the final name is always complete. Leftover `.tmp` files (a crash mid-save) are
/// deleted when the store is opened and otherwise ignored.
///
/// ## Damage
/// ``loadLatest()`` never returns unverified data. If the newest snapshot fails verification it
/// throws rather than silently falling back to an older one: the write-ahead log may already have
/// released the entries between the two, and an operator should decide (the error names the file
/// and the older snapshots that remain; moving the bad file aside makes the next one the latest).
///
/// Owned by one task; deliberately not `Sendable` (only ``prepare(_:in:)`` may run elsewhere).
public final class SnapshotStore {
    /// The directory holding the snapshot files.
    public let directory: String
    /// How many of the newest snapshots ``save(_:)`` keeps; older ones are deleted.
    public let retainCount: Int

    /// Opens the store in `directory` (created if needed), removing leftover temporary files.
    /// - Parameter retainCount: how many snapshots to keep, at least 1 (default 2).
    public init(directory: String, retainCount: Int = 2) throws {
        guard retainCount >= 1 else {
            throw StorageError(.invalidArgument, "retainCount must be at least 1, not \(retainCount)")
        }
        self.directory = directory
        self.retainCount = retainCount
        try POSIX.makeDirectories(directory)
        var removed = false
        for name in try POSIX.listDirectory(directory) where name.hasPrefix(Self.prefix) && name.hasSuffix(Self.temporarySuffix) {
            try POSIX.remove(POSIX.join(directory, name))
            removed = true
        }
        if removed { try POSIX.syncDirectory(directory) }
    }

    /// Durably stores `snapshot`, then deletes all but the newest ``retainCount`` snapshots.
    ///
    /// When this returns the file is complete, synced and linked under its final name.
    public func save(_ snapshot: Snapshot) throws {
        try link(Self.prepare(snapshot, in: directory, temporarySuffix: Self.temporarySuffix))
    }

    /// Writes `snapshot` into `directory` under a temporary name and syncs it; touches nothing
    /// else, so it may run on any thread while the store's owner goes on (a snapshot of a large
    /// state taken off the consensus loop). ``link(_:)`` then puts it in place.
    public static func prepare(_ snapshot: Snapshot, in directory: String) throws -> PreparedSnapshot {
        try prepare(snapshot, in: directory, temporarySuffix: ".prepared" + temporarySuffix)
    }

    private static func prepare(_ snapshot: Snapshot, in directory: String, temporarySuffix: String) throws -> PreparedSnapshot {
        let metadata = snapshot.metadata
        let path = POSIX.join(directory, fileName(term: metadata.term, index: metadata.index))
        let temporary = path + temporarySuffix

        var header: [UInt8] = magic
        header.appendLittleEndian(version)
        header.appendLittleEndian(metadata.index)
        header.appendLittleEndian(metadata.term)
        let membership = metadata.membership.encoded()
        header.appendLittleEndian(UInt32(membership.count))
        header.append(contentsOf: membership)
        header.appendLittleEndian(UInt64(snapshot.data.count))
        var crc = CRC32C()
        crc.update(header)
        crc.update(snapshot.data)
        var trailer: [UInt8] = []
        trailer.appendLittleEndian(crc.value)

        let file = try POSIXFile.open(temporary, flags: O_WRONLY | O_CREAT | O_TRUNC)
        do {
            try file.write(header, at: 0)
            try file.write(snapshot.data, at: header.count)
            try file.write(trailer, at: header.count + snapshot.data.count)
            try file.syncAll()
            try file.close()
        } catch {
            try? file.close()
            try? POSIX.remove(temporary)
            throw error
        }
        return PreparedSnapshot(metadata: metadata, temporaryPath: temporary, finalPath: path)
    }

    /// Renames a prepared snapshot into place, syncs the directory, and deletes all but the
    /// newest ``retainCount`` snapshots.
    public func link(_ prepared: PreparedSnapshot) throws {
        try POSIX.rename(prepared.temporaryPath, to: prepared.finalPath)
        try POSIX.syncDirectory(directory)
        try removeOld()
    }

    /// The newest snapshot (highest index, then term), verified; nil when there is none.
    /// - Throws: ``StorageError/Code/badSnapshotChecksum`` or ``StorageError/Code/corruptSnapshot``
    ///   naming the file when the newest snapshot is damaged (see "Damage" above).
    public func loadLatest() throws -> Snapshot? {
        let stored = try storedSnapshots()
        guard let newest = stored.last else { return nil }
        do {
            return try load(newest.name)
        } catch var error as StorageError {
            let older = stored.dropLast().reversed().map(\.name)
            if error.code != .ioFailure {
                error.reason += older.isEmpty
                    ? "; no older snapshot remains"
                    : "; older snapshots remain (\(older.joined(separator: ", "))): move \(newest.name) aside to fall back to them"
            }
            throw error
        }
    }

    /// The snapshot files in the directory, oldest first (by index, then term).
    func storedSnapshots() throws -> [(name: String, index: LogIndex, term: Term)] {
        try POSIX.listDirectory(directory)
            .compactMap { name in Self.parseFileName(name).map { (name: name, index: $0.index, term: $0.term) } }
            .sorted { ($0.index, $0.term) < ($1.index, $1.term) }
    }

    /// Reads and verifies the snapshot file `name`.
    func load(_ name: String) throws -> Snapshot {
        let path = POSIX.join(directory, name)
        let file = try POSIXFile.open(path, flags: O_RDONLY)
        defer { try? file.close() }
        let bytes = try file.readAll()
        func corrupt(_ what: String) -> StorageError {
            StorageError(.corruptSnapshot, "snapshot file \(path) (\(bytes.count) bytes): \(what)")
        }
        guard bytes.count >= Self.minimumSize else { throw corrupt("shorter than the smallest snapshot (\(Self.minimumSize) bytes)") }
        return try bytes.withUnsafeBytes { buffer in
            let body = bytes.count - 4
            let stored = UInt32(littleEndian: buffer.loadUnaligned(fromByteOffset: body, as: UInt32.self))
            let computed = CRC32C.checksum(UnsafeRawBufferPointer(rebasing: buffer[..<body]))
            guard stored == computed else {
                throw StorageError(
                    .badSnapshotChecksum,
                    "snapshot file \(path): checksum mismatch (stored \(hex(stored)), computed \(hex(computed)) over \(body) bytes)")
            }
            var reader = ByteReader(buffer, range: 0..<body)
            guard reader.readBytes(Self.magic.count) == Self.magic else { throw corrupt("bad magic") }
            guard let version = reader.read(UInt16.self) else { throw corrupt("short header") }
            guard version == Self.version else {
                throw StorageError(.unsupportedVersion, "snapshot file \(path): format version \(version) is not supported")
            }
            guard let index = reader.read(UInt64.self), let term = reader.read(UInt64.self),
                  let membershipLength = reader.read(UInt32.self),
                  let membershipBytes = reader.readBytes(Int(membershipLength))
            else { throw corrupt("short header") }
            guard let membership = Membership(decoding: membershipBytes) else { throw corrupt("invalid membership") }
            guard let dataLength = reader.read(UInt64.self), dataLength == UInt64(reader.remaining),
                  let data = reader.readBytes(reader.remaining)
            else { throw corrupt("the data length does not match the file size") }
            guard Self.parseFileName(name).map({ $0.index == index && $0.term == term }) ?? false else {
                throw corrupt("holds index \(index) term \(term), which does not match its name")
            }
            return Snapshot(metadata: SnapshotMetadata(index: index, term: term, membership: membership), data: data)
        }
    }

    private func removeOld() throws {
        let stored = try storedSnapshots()
        guard stored.count > retainCount else { return }
        for old in stored.dropLast(retainCount) {
            try POSIX.remove(POSIX.join(directory, old.name))
        }
        try POSIX.syncDirectory(directory)
    }

    // MARK: Format

    static let magic: [UInt8] = Array("CAIRNSNP".utf8)
    static let version: UInt16 = 1
    static let prefix = "snapshot-"
    static let suffix = ".snap"
    static let temporarySuffix = ".tmp"
    /// Magic, version, index, term, membership length, an empty membership, data length, checksum.
    static let minimumSize = 8 + 2 + 8 + 8 + 4 + 8 + 8 + 4

    static func fileName(term: Term, index: LogIndex) -> String {
        "\(prefix)\(hex16(term))-\(hex16(index))\(suffix)"
    }

    static func parseFileName(_ name: String) -> (term: Term, index: LogIndex)? {
        guard name.hasPrefix(prefix), name.hasSuffix(suffix), name.utf8.count == prefix.utf8.count + 33 + suffix.utf8.count
        else { return nil }
        let parts = name.dropFirst(prefix.count).dropLast(suffix.count).split(separator: "-", omittingEmptySubsequences: false)
        guard parts.count == 2, let term = parseHex16(parts[0]), let index = parseHex16(parts[1]) else { return nil }
        return (term, index)
    }
}

private func hex(_ value: UInt32) -> String {
    "0x" + String(value, radix: 16, uppercase: true)
}

@available(*, unavailable)
extension SnapshotStore: Sendable {}

/// A snapshot file written and synced under a temporary name (``SnapshotStore/prepare(_:in:)``),
/// waiting to be linked in place; ``discard()`` removes it instead.
public struct PreparedSnapshot: Sendable {
    /// What the file holds.
    public let metadata: SnapshotMetadata
    let temporaryPath: String
    let finalPath: String

    /// Deletes the temporary file (a snapshot overtaken before it could be linked).
    public func discard() {
        try? POSIX.remove(temporaryPath)
    }
}
