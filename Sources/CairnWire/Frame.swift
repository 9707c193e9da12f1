import NIOCore

/// What a frame carries. The kind decides the payload's layout and which stream ids are allowed.
public enum FrameKind: UInt8, Sendable, Hashable, CaseIterable, CustomStringConvertible {
    /// Peer ↔ peer: one Raft `Message`. Stream 0.
    case raft = 1
    /// Client → server: one ``ClientRequest``. The stream id is the request's correlation id,
    /// chosen by the client, never 0.
    case request = 2
    /// Server → client: one ``ClientResponse``, on the stream id of the request it answers (never 0).
    case response = 3
    /// Either way: an ``ErrorPayload``; the sender closes the connection after it. Stream 0 for the
    /// connection as a whole, else the request that caused it.
    case error = 4
    /// Peer ↔ peer: a ``PeerHello``. Stream 0.
    case peerHello = 5
    /// Either way: `u64 opaque`, which the receiver echoes in a ``pong``. Stream 0.
    case ping = 6
    /// Either way: the `u64 opaque` of the ``ping`` answered. Stream 0.
    case pong = 7

    /// Whether frames of this kind use stream 0 only (`raft`, `peerHello`, `ping`, `pong`).
    public var requiresStreamZero: Bool {
        switch self {
        case .raft, .peerHello, .ping, .pong: return true
        case .request, .response, .error: return false
        }
    }

    /// Whether frames of this kind never use stream 0 (`request`, `response`).
    public var requiresNonZeroStream: Bool {
        self == .request || self == .response
    }

    /// Checks the stream id rule of this kind; ``WireError/Code/malformedFrame`` when broken.
    public func checkStreamID(_ streamID: UInt64) throws(WireError) {
        if requiresStreamZero, streamID != 0 {
            throw WireError(.malformedFrame, "a \(self) frame must use stream 0, not \(streamID)")
        }
        if requiresNonZeroStream, streamID == 0 {
            throw WireError(.malformedFrame, "a \(self) frame must not use stream 0")
        }
    }

    /// The kind's name as the specification spells it.
    public var description: String {
        switch self {
        case .raft: return "raft"
        case .request: return "request"
        case .response: return "response"
        case .error: return "error"
        case .peerHello: return "peerHello"
        case .ping: return "ping"
        case .pong: return "pong"
        }
    }
}

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
