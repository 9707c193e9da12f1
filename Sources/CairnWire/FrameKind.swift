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
