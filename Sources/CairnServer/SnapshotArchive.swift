import CairnStorage

/// The file `cairn snapshot save` writes and `cairn snapshot restore` reads: the whole replicated
/// state (every module's section) with a checksum.
///
/// Layout, big-endian: `"CAIRNSNP"` (8 bytes), `u32 version` (1), `u64 index` (the Raft index
/// the state is as of), `u32 crc32c` (Castagnoli, of the state bytes), `u64 length`, then the
/// state bytes (the ``ModuleRouter`` snapshot format). A restore checks every one of these
/// before anything is proposed; the state bytes are decoded by every server when it applies the
/// restore, all or nothing.
public struct SnapshotArchive: Sendable, Hashable {
    /// The magic bytes at the start of every archive.
    public static let magic: [UInt8] = Array("CAIRNSNP".utf8)
    /// The archive format version this build writes and reads.
    public static let version: UInt32 = 1
    /// Bytes before the state.
    static let headerSize = 8 + 4 + 8 + 4 + 8

    /// The Raft index the state is as of.
    public var index: UInt64
    /// The state: a ``ModuleRouter`` snapshot.
    public var state: [UInt8]

    /// Wraps `state` taken at `index`.
    public init(index: UInt64, state: [UInt8]) {
        self.index = index
        self.state = state
    }

    /// The archive's bytes.
    public func encoded() -> [UInt8] {
        var out = Self.magic
        out.reserveCapacity(Self.headerSize + state.count)
        func append<T: FixedWidthInteger>(_ value: T) { withUnsafeBytes(of: value.bigEndian) { out.append(contentsOf: $0) } }
        append(Self.version)
        append(index)
        append(CRC32C.checksum(state))
        append(UInt64(state.count))
        out.append(contentsOf: state)
        return out
    }

    /// Checks and decodes an archive; throws ``SnapshotArchiveError`` naming what is wrong.
    public init(decoding bytes: [UInt8]) throws(SnapshotArchiveError) {
        guard bytes.count >= Self.headerSize else {
            throw SnapshotArchiveError("the file is \(bytes.count) bytes, shorter than a snapshot header (\(Self.headerSize))")
        }
        guard Array(bytes[0..<8]) == Self.magic else {
            throw SnapshotArchiveError("not a Cairn snapshot (the file does not start with CAIRNSNP)")
        }
        func read<T: FixedWidthInteger>(_: T.Type, at offset: Int) -> T {
            var value: T = 0
            for i in 0..<MemoryLayout<T>.size { value = value << 8 | T(bytes[offset + i]) }
            return value
        }
        let version = read(UInt32.self, at: 8)
        guard version == Self.version else {
            throw SnapshotArchiveError("snapshot format version \(version) is not supported (this build reads version \(Self.version))")
        }
        let index = read(UInt64.self, at: 12)
        let crc = read(UInt32.self, at: 20)
        let length = read(UInt64.self, at: 24)
        guard length == UInt64(bytes.count - Self.headerSize) else {
            throw SnapshotArchiveError("the snapshot declares \(length) bytes of state but holds \(bytes.count - Self.headerSize): the file is truncated or has trailing bytes")
        }
        let state = Array(bytes[Self.headerSize...])
        let actual = CRC32C.checksum(state)
        guard actual == crc else {
            throw SnapshotArchiveError("checksum mismatch (stored \(String(crc, radix: 16)), computed \(String(actual, radix: 16))): the file is damaged")
        }
        self.init(index: index, state: state)
    }
}

/// Why a snapshot archive was refused.
public struct SnapshotArchiveError: Error, Hashable, CustomStringConvertible {
    /// What is wrong with the archive.
    public var reason: String

    /// Creates an error.
    public init(_ reason: String) { self.reason = reason }

    public var description: String { "invalid snapshot: \(reason)" }
}
