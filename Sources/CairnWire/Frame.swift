import NIOCore

/// One frame: `u32 length`, `u8 kind`, `u8 flags`, `u64 streamID`, `payload`, where `length`
/// counts the bytes after itself (10 + the payload's size).
///
/// ``FrameDecoder`` produces frames with their payload still encoded, as a slice of the bytes
/// received; ``WireMessage/init(decoding:)`` decodes the payload. Version 1 defines no flags: they
/// are always 0.
public struct Frame: Sendable, Hashable {
    /// What the payload holds.
    public var kind: FrameKind
    /// Reserved; 0 in this version.
    public var flags: UInt8
    /// The request this frame belongs to, or 0 (see ``FrameKind`` for each kind's rule).
    public var streamID: UInt64
    /// The encoded message.
    public var payload: ByteBuffer

    /// Creates a frame.
    public init(kind: FrameKind, flags: UInt8 = 0, streamID: UInt64 = 0, payload: ByteBuffer) {
        self.kind = kind
        self.flags = flags
        self.streamID = streamID
        self.payload = payload
    }

    /// The size of the header: length, kind, flags, stream id.
    public static let headerSize = 14
    /// The part of the header the length field counts: kind, flags, stream id.
    public static let lengthCoveredHeaderSize = 10
    /// The default largest length field a receiver accepts: 16 MiB.
    public static let defaultMaximumLength = 16 * 1024 * 1024

    /// The value of this frame's length field.
    public var length: Int { Frame.lengthCoveredHeaderSize + payload.readableBytes }
}

extension ByteBuffer {
    /// Writes `frame`'s header and payload; returns the number of bytes written.
    @discardableResult
    public mutating func writeFrame(_ frame: Frame) -> Int {
        var payload = frame.payload
        reserveCapacity(minimumWritableBytes: Frame.headerSize + payload.readableBytes)
        let header = writeMultipleIntegers(UInt32(frame.length), frame.kind.rawValue, frame.flags, frame.streamID)
        return header + writeBuffer(&payload)
    }

    /// Writes a frame whose payload `writePayload` writes directly into this buffer (no
    /// intermediate buffer): the length field is filled in afterwards. Returns the bytes written.
    @discardableResult
    public mutating func writeFrame(
        kind: FrameKind, streamID: UInt64 = 0, payload writePayload: (inout ByteBuffer) throws -> Void
    ) rethrows -> Int {
        let start = writerIndex
        writeMultipleIntegers(UInt32(0), kind.rawValue, UInt8(0), streamID)
        try writePayload(&self)
        let length = writerIndex - start - 4
        setInteger(UInt32(length), at: start)
        return writerIndex - start
    }
}
