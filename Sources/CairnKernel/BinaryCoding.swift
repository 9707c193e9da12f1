/// Little helpers for the compact binary forms modules use in log entries and snapshots:
/// big-endian integers, `u32`-length-prefixed byte strings, and a reader that never reads past
/// the end (it throws ``StateMachineError/Code/malformedSnapshot`` or returns nil instead).
public struct BinaryWriter: Sendable {
    /// The bytes written so far.
    public var bytes: [UInt8] { storage }
    @usableFromInline var storage: [UInt8] = []

    /// Creates an empty writer.
    public init(capacity: Int = 64) { storage.reserveCapacity(capacity) }

    // The generic writers and readers are inlinable so that the modules calling them (the KV
    // store, the catalog) get versions specialized for their integer types: unspecialized, each
    // byte costs a few protocol-witness calls, which showed in every write's apply.

    /// Appends an integer, big-endian.
    @inlinable
    public mutating func write<T: FixedWidthInteger>(_ value: T) {
        withUnsafeBytes(of: value.bigEndian) { storage.append(contentsOf: $0) }
    }

    /// Appends `u32 length` and the bytes.
    @inlinable
    public mutating func write(bytes value: some Collection<UInt8>) {
        write(UInt32(value.count))
        storage.append(contentsOf: value)
    }

    /// Appends a string as UTF-8 bytes with a `u32` length.
    @inlinable
    public mutating func write(string: String) { write(bytes: string.utf8) }

    /// Appends `u8 0` or `u8 1` and the value.
    public mutating func write(optional value: UInt64?) {
        if let value {
            write(UInt8(1))
            write(value)
        } else {
            write(UInt8(0))
        }
    }
}

/// Reads what ``BinaryWriter`` wrote.
public struct BinaryReader {
    @usableFromInline let bytes: ArraySlice<UInt8>
    @usableFromInline var cursor: Int

    /// Creates a reader over `bytes`.
    public init(_ bytes: ArraySlice<UInt8>) {
        self.bytes = bytes
        self.cursor = bytes.startIndex
    }

    /// Whether every byte was read.
    public var isAtEnd: Bool { cursor == bytes.endIndex }

    /// Reads an integer, or nil when too few bytes remain.
    @inlinable
    public mutating func read<T: FixedWidthInteger>(_: T.Type) -> T? {
        let size = MemoryLayout<T>.size
        guard bytes.endIndex - cursor >= size else { return nil }
        var value: T = 0
        for i in 0..<size { value = value << 8 | T(bytes[cursor + i]) }
        cursor += size
        return value
    }

    /// Reads `u32 length` and that many bytes.
    public mutating func readBytes() -> [UInt8]? {
        readLengthPrefixed().map { Array($0) }
    }

    /// Reads a UTF-8 string written with ``BinaryWriter/write(string:)``; nil if not valid UTF-8.
    public mutating func readString() -> String? {
        guard let raw = readLengthPrefixed() else { return nil }
        // `String(decoding:)` repairs invalid UTF-8, so valid input is exactly the input that
        // comes back byte for byte: cheaper than the standard library's generic validation.
        let decoded = String(decoding: raw, as: UTF8.self)
        return decoded.utf8.elementsEqual(raw) ? decoded : nil
    }

    /// Reads `u32 length` and returns that many bytes without copying them; nil when too few remain.
    private mutating func readLengthPrefixed() -> ArraySlice<UInt8>? {
        guard let count = read(UInt32.self), bytes.endIndex - cursor >= Int(count) else { return nil }
        defer { cursor += Int(count) }
        return bytes[cursor..<cursor + Int(count)]
    }

    /// Reads an optional `u64`; the outer nil means malformed.
    public mutating func readOptional() -> UInt64?? {
        guard let flag = read(UInt8.self) else { return nil }
        switch flag {
        case 0: return .some(nil)
        case 1:
            guard let v = read(UInt64.self) else { return nil }
            return .some(v)
        default: return nil
        }
    }
}
