import CairnRaft

/// The framing and payloads of write-ahead-log records. See ``WriteAheadLog`` for the format in
/// prose; everything is little-endian.
///
/// ```
/// record  = u32 payloadLength, u8 type, u32 crc32c(type byte ++ payload), payload
/// type 1  segment header  = "CAIRNWAL", u16 version (1), u8 flags (bit 0: preallocated),
///                           u64 sequence, u64 prevIndex, u64 prevTerm,
///                           u64 hardState.term, u64 hardState.vote, u64 hardState.commit
/// type 2  batch           = u8 flags (bit 0: hard state present), [u64 term, u64 vote, u64 commit],
///                           u32 entryCount, [u64 firstIndex, u64 prevTerm,
///                           entryCount * (u64 term, u8 kind, u32 dataLength, data)]
/// type 3  snapshot marker = u64 index, u64 term, membership (Membership.encoded(), to the end)
/// ```
/// Type 0 never occurs: a zero header marks the end of data in a preallocated segment.
enum WALRecord {
    enum Kind: UInt8 {
        case segmentHeader = 1
        case batch = 2
        case snapshotMarker = 3
    }

    /// Bytes before the payload.
    static let headerSize = 9
    /// The largest payload a record may carry (1 GiB); larger lengths are treated as damage.
    static let maxPayload = 1 << 30
    static let magic: [UInt8] = Array("CAIRNWAL".utf8)
    static let version: UInt16 = 1
    /// Size of a whole segment-header record.
    static let segmentHeaderRecordSize = headerSize + 8 + 2 + 1 + 6 * 8

    /// A record whose type is known, whose length fits in the buffer and whose checksum matches.
    struct Frame {
        var kind: Kind
        var payload: Range<Int>
        var end: Int { payload.upperBound }
    }

    /// The valid record starting at `offset`, or nil when there is none there.
    static func frame(in bytes: UnsafeRawBufferPointer, at offset: Int) -> Frame? {
        guard offset >= 0, bytes.count - offset >= headerSize else { return nil }
        guard let kind = Kind(rawValue: bytes[offset + 4]) else { return nil }
        let length = Int(UInt32(littleEndian: bytes.loadUnaligned(fromByteOffset: offset, as: UInt32.self)))
        guard length <= maxPayload, length <= bytes.count - offset - headerSize else { return nil }
        let stored = UInt32(littleEndian: bytes.loadUnaligned(fromByteOffset: offset + 5, as: UInt32.self))
        let payload = (offset + headerSize)..<(offset + headerSize + length)
        guard checksum(kind: kind.rawValue, payload: UnsafeRawBufferPointer(rebasing: bytes[payload])) == stored else {
            return nil
        }
        return Frame(kind: kind, payload: payload)
    }

    /// Why there is no valid record at `offset`, for error messages.
    static func diagnose(_ bytes: UnsafeRawBufferPointer, at offset: Int) -> String {
        let available = bytes.count - offset
        if available < headerSize {
            return "only \(available) byte(s) remain, less than a \(headerSize)-byte record header"
        }
        let type = bytes[offset + 4]
        let length = Int(UInt32(littleEndian: bytes.loadUnaligned(fromByteOffset: offset, as: UInt32.self)))
        if Kind(rawValue: type) == nil {
            return type == 0 && length == 0 ? "a zero record header" : "unknown record type \(type)"
        }
        if length > maxPayload || length > available - headerSize {
            return "payload length \(length) runs past the end of the file (\(available - headerSize) bytes remain)"
        }
        return "checksum mismatch over type \(type) and \(length) payload bytes"
    }

    /// The offset of the first valid record at or after `start`, scanning byte by byte.
    static func firstValidFrame(in bytes: UnsafeRawBufferPointer, from start: Int) -> Int? {
        var offset = max(start, 0)
        let last = bytes.count - headerSize
        while offset <= last {
            let type = bytes[offset + 4]
            if type >= 1 && type <= 3, frame(in: bytes, at: offset) != nil { return offset }
            offset += 1
        }
        return nil
    }

    static func checksum(kind: UInt8, payload: UnsafeRawBufferPointer) -> UInt32 {
        let seed = withUnsafeBytes(of: kind) { CRC32C.checksum($0) }
        return CRC32C.checksum(payload, seed: seed)
    }

    // MARK: Encoding

    /// Appends a placeholder header; returns the record's start for ``finish(_:kind:start:)``.
    static func begin(_ buffer: inout [UInt8]) -> Int {
        let start = buffer.count
        buffer.append(contentsOf: repeatElement(0, count: headerSize))
        return start
    }

    /// Fills in the header of the record that starts at `start` and runs to the end of `buffer`.
    static func finish(_ buffer: inout [UInt8], kind: Kind, start: Int) {
        let length = buffer.count - start - headerSize
        buffer.storeLittleEndian(UInt32(length), at: start)
        buffer[start + 4] = kind.rawValue
        let crc = buffer.withUnsafeBytes {
            checksum(kind: kind.rawValue, payload: UnsafeRawBufferPointer(rebasing: $0[(start + headerSize)...]))
        }
        buffer.storeLittleEndian(crc, at: start + 5)
    }

    static func encodeBatch(
        into buffer: inout [UInt8], entries: [Entry], hardState: HardState?, prevTerm: Term
    ) {
        let start = begin(&buffer)
        buffer.append(hardState == nil ? 0 : 1)
        if let hardState { buffer.appendHardState(hardState) }
        buffer.appendLittleEndian(UInt32(entries.count))
        if let first = entries.first {
            buffer.appendLittleEndian(first.index)
            buffer.appendLittleEndian(prevTerm)
            for entry in entries {
                buffer.appendLittleEndian(entry.term)
                buffer.append(entry.kind.rawValue)
                buffer.appendLittleEndian(UInt32(entry.data.count))
                buffer.append(contentsOf: entry.data)
            }
        }
        finish(&buffer, kind: .batch, start: start)
    }

    /// The payload size of a batch record, to check limits before encoding.
    static func batchPayloadSize(entries: [Entry], hardState: HardState?) -> Int {
        var size = 1 + (hardState == nil ? 0 : 24) + 4 + (entries.isEmpty ? 0 : 16)
        for entry in entries { size += 13 + entry.data.count }
        return size
    }

    static func encodeMarker(into buffer: inout [UInt8], _ metadata: SnapshotMetadata) {
        let start = begin(&buffer)
        buffer.appendLittleEndian(metadata.index)
        buffer.appendLittleEndian(metadata.term)
        buffer.append(contentsOf: metadata.membership.encoded())
        finish(&buffer, kind: .snapshotMarker, start: start)
    }

    static func encodeSegmentHeader(into buffer: inout [UInt8], _ header: SegmentHeader) {
        let start = begin(&buffer)
        buffer.append(contentsOf: magic)
        buffer.appendLittleEndian(version)
        buffer.append(header.preallocated ? 1 : 0)
        buffer.appendLittleEndian(header.sequence)
        buffer.appendLittleEndian(header.prevIndex)
        buffer.appendLittleEndian(header.prevTerm)
        buffer.appendHardState(header.hardState)
        finish(&buffer, kind: .segmentHeader, start: start)
    }

    // MARK: Decoding (of payloads whose checksum already matched)

    /// The first record of every segment: where the segment sits in the log and the state that
    /// earlier segments established, so the log still recovers once they are released.
    struct SegmentHeader: Equatable {
        /// The segment's position in the sequence of segments, from 1.
        var sequence: UInt64
        /// Whether the file was preallocated, so its data ends at a zero record header.
        var preallocated: Bool
        /// The log's last index when the segment was created (the segment's entries start after it).
        var prevIndex: LogIndex
        /// The term of the entry at `prevIndex` (or of the snapshot base) at that time.
        var prevTerm: Term
        /// The hard state at that time.
        var hardState: HardState
    }

    struct Batch {
        var hardState: HardState?
        var prevTerm: Term
        var entries: [Entry]
    }

    enum DecodeError: Error {
        case malformed(String)
        case unsupportedVersion(UInt16)
    }

    static func decodeSegmentHeader(_ bytes: UnsafeRawBufferPointer, _ payload: Range<Int>) throws(DecodeError) -> SegmentHeader {
        var reader = ByteReader(bytes, range: payload)
        guard reader.readBytes(magic.count) == magic else { throw .malformed("bad segment magic") }
        guard let version = reader.read(UInt16.self) else { throw .malformed("short segment header") }
        guard version == Self.version else { throw .unsupportedVersion(version) }
        guard let flags = reader.read(UInt8.self), flags & ~1 == 0,
              let sequence = reader.read(UInt64.self),
              let prevIndex = reader.read(UInt64.self),
              let prevTerm = reader.read(UInt64.self),
              let hardState = reader.readHardState(),
              reader.isAtEnd
        else { throw .malformed("malformed segment header") }
        return SegmentHeader(
            sequence: sequence, preallocated: flags & 1 == 1, prevIndex: prevIndex, prevTerm: prevTerm,
            hardState: hardState)
    }

    static func decodeBatch(_ bytes: UnsafeRawBufferPointer, _ payload: Range<Int>) throws(DecodeError) -> Batch {
        var reader = ByteReader(bytes, range: payload)
        guard let flags = reader.read(UInt8.self), flags & ~1 == 0 else { throw .malformed("bad batch flags") }
        var hardState: HardState?
        if flags & 1 == 1 {
            guard let state = reader.readHardState() else { throw .malformed("short hard state") }
            hardState = state
        }
        guard let count = reader.read(UInt32.self) else { throw .malformed("short batch header") }
        guard count > 0 else {
            guard reader.isAtEnd else { throw .malformed("trailing bytes after an empty batch") }
            return Batch(hardState: hardState, prevTerm: 0, entries: [])
        }
        guard let firstIndex = reader.read(UInt64.self), let prevTerm = reader.read(UInt64.self), firstIndex > 0,
              UInt64(count) <= UInt64.max - firstIndex, Int(count) <= reader.remaining / 13
        else { throw .malformed("bad batch index range") }
        var entries: [Entry] = []
        entries.reserveCapacity(Int(count))
        for offset in 0..<UInt64(count) {
            guard let term = reader.read(UInt64.self), let rawKind = reader.read(UInt8.self),
                  let kind = Entry.Kind(rawValue: rawKind), let length = reader.read(UInt32.self),
                  let data = reader.readBytes(Int(length))
            else { throw .malformed("malformed entry \(firstIndex + offset)") }
            entries.append(Entry(term: term, index: firstIndex + offset, kind: kind, data: data))
        }
        guard reader.isAtEnd else { throw .malformed("trailing bytes after the last entry") }
        return Batch(hardState: hardState, prevTerm: prevTerm, entries: entries)
    }

    static func decodeMarker(_ bytes: UnsafeRawBufferPointer, _ payload: Range<Int>) throws(DecodeError) -> SnapshotMetadata {
        var reader = ByteReader(bytes, range: payload)
        guard let index = reader.read(UInt64.self), let term = reader.read(UInt64.self),
              let membershipBytes = reader.readBytes(reader.remaining),
              let membership = Membership(decoding: membershipBytes)
        else { throw .malformed("malformed snapshot marker") }
        return SnapshotMetadata(index: index, term: term, membership: membership)
    }
}
