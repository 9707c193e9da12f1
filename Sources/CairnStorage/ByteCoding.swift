import CairnRaft

/// Little-endian appends onto a byte buffer: the only way the storage formats are written.
extension Array where Element == UInt8 {
    @inline(__always)
    mutating func appendLittleEndian<T: FixedWidthInteger>(_ value: T) {
        Swift.withUnsafeBytes(of: value.littleEndian) { append(contentsOf: $0) }
    }

    /// Overwrites `MemoryLayout<T>.size` bytes at `offset` with `value`, little-endian.
    @inline(__always)
    mutating func storeLittleEndian<T: FixedWidthInteger>(_ value: T, at offset: Int) {
        withUnsafeMutableBytes { $0.storeBytes(of: value.littleEndian, toByteOffset: offset, as: T.self) }
    }

    mutating func appendHardState(_ state: HardState) {
        appendLittleEndian(state.term)
        appendLittleEndian(state.vote)
        appendLittleEndian(state.commit)
    }
}

/// A cursor over bytes that decodes little-endian fields; every read is bounds-checked and a
/// short read returns nil instead of trapping.
struct ByteReader {
    let bytes: UnsafeRawBufferPointer
    private(set) var offset: Int
    let end: Int

    init(_ bytes: UnsafeRawBufferPointer, range: Range<Int>) {
        self.bytes = bytes
        self.offset = range.lowerBound
        self.end = range.upperBound
    }

    var remaining: Int { end - offset }
    var isAtEnd: Bool { offset == end }

    mutating func read<T: FixedWidthInteger>(_: T.Type = T.self) -> T? {
        let size = MemoryLayout<T>.size
        guard remaining >= size else { return nil }
        let value = T(littleEndian: bytes.loadUnaligned(fromByteOffset: offset, as: T.self))
        offset += size
        return value
    }

    mutating func readBytes(_ count: Int) -> [UInt8]? {
        guard count >= 0, remaining >= count else { return nil }
        let slice = UnsafeRawBufferPointer(rebasing: bytes[offset..<offset + count])
        offset += count
        return [UInt8](slice)
    }

    mutating func readHardState() -> HardState? {
        guard let term = read(UInt64.self), let vote = read(UInt64.self), let commit = read(UInt64.self) else {
            return nil
        }
        return HardState(term: term, vote: vote, commit: commit)
    }
}
