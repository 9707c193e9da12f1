import NIOCore

// The primitive field encodings of the protocol (Protocol/README.md, "Field encodings"), shared by
// every message codec. Readers take the field's name for the error's reason; they allocate nothing
// unless they fail or the field itself is an array or a string.

extension ByteBuffer {
    // MARK: Reading

    mutating func readField<T: FixedWidthInteger>(_ field: StaticString, as: T.Type = T.self) throws(WireError) -> T {
        guard let value = readInteger(as: T.self) else {
            throw WireError(.truncated, "\(field): needs \(MemoryLayout<T>.size) bytes, \(readableBytes) remain")
        }
        return value
    }

    mutating func readBoolField(_ field: StaticString) throws(WireError) -> Bool {
        switch try readField(field, as: UInt8.self) {
        case 0: return false
        case 1: return true
        case let other: throw WireError(.invalidValue, "\(field): bool must be 0 or 1, got \(other)")
        }
    }

    /// Reads the presence byte of an `optional<T>`.
    mutating func readPresenceField(_ field: StaticString) throws(WireError) -> Bool {
        switch try readField(field, as: UInt8.self) {
        case 0: return false
        case 1: return true
        case let other: throw WireError(.invalidValue, "\(field): presence byte must be 0 or 1, got \(other)")
        }
    }

    mutating func readOptionalU64Field(_ field: StaticString) throws(WireError) -> UInt64? {
        try readPresenceField(field) ? try readField(field, as: UInt64.self) : nil
    }

    /// Reads the `u32` length of a `bytes` or `string` field and checks that many bytes remain.
    mutating func readLengthField(_ field: StaticString) throws(WireError) -> Int {
        let length = Int(try readField(field, as: UInt32.self))
        guard length <= readableBytes else {
            throw WireError(.fieldOverrun, "\(field): declares \(length) bytes, \(readableBytes) remain")
        }
        return length
    }

    /// Reads the `u32` count of a `list<T>` and checks that `count` items of at least
    /// `minimumItemSize` bytes each can fit in what remains, before anything is allocated for them.
    mutating func readCountField(_ field: StaticString, minimumItemSize: Int) throws(WireError) -> Int {
        let count = Int(try readField(field, as: UInt32.self))
        guard count <= readableBytes / minimumItemSize else {
            throw WireError(
                .fieldOverrun,
                "\(field): declares \(count) items of at least \(minimumItemSize) bytes, \(readableBytes) bytes remain")
        }
        return count
    }

    mutating func readBytesField(_ field: StaticString) throws(WireError) -> [UInt8] {
        let length = try readLengthField(field)
        // Cannot fail: readLengthField checked the length against the readable bytes.
        return readBytes(length: length)!
    }

    mutating func readStringField(_ field: StaticString) throws(WireError) -> String {
        let length = try readLengthField(field)
        let string: String? = withUnsafeReadableBytes { bytes in
            Self.validUTF8(UnsafeRawBufferPointer(rebasing: bytes[..<length]))
        }
        guard let string else {
            throw WireError(.invalidValue, "\(field): the \(length) bytes are not valid UTF-8")
        }
        moveReaderIndex(forwardBy: length)
        return string
    }

    /// `bytes` as a string if they are valid UTF-8, else nil. `String(decoding:)` replaces every
    /// invalid sequence with U+FFFD, so valid input is exactly the input that comes back byte for
    /// byte; checking that is a copy and a comparison, where `String(validating:as:)` runs the
    /// standard library's unspecialized generic validation (a measurable share of a client that
    /// decodes a hundred thousand watch events a second).
    static func validUTF8(_ bytes: UnsafeRawBufferPointer) -> String? {
        let decoded = String(decoding: bytes, as: UTF8.self)
        let same = decoded.utf8.withContiguousStorageIfAvailable { $0.elementsEqual(bytes) } ?? decoded.utf8.elementsEqual(bytes)
        return same ? decoded : nil
    }

    /// Checks that a payload was consumed exactly.
    func checkFullyConsumed(_ message: StaticString) throws(WireError) {
        guard readableBytes == 0 else {
            throw WireError(.trailingBytes, "\(message): \(readableBytes) bytes follow the message")
        }
    }

    // MARK: Writing

    mutating func writeBoolField(_ value: Bool) {
        writeInteger(value ? 1 : 0, as: UInt8.self)
    }

    mutating func writeOptionalU64Field(_ value: UInt64?) {
        if let value {
            writeMultipleIntegers(UInt8(1), value)
        } else {
            writeInteger(0, as: UInt8.self)
        }
    }

    mutating func writeBytesField(_ bytes: [UInt8]) {
        writeInteger(UInt32(bytes.count))
        writeBytes(bytes)
    }

    mutating func writeStringField(_ string: String) {
        // Reserve the length, write the UTF-8 bytes, then fill the length in: one pass over the string.
        let lengthIndex = writerIndex
        writeInteger(0, as: UInt32.self)
        let written = writeString(string)
        setInteger(UInt32(written), at: lengthIndex)
    }
}
