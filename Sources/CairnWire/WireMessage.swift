import CairnRaft
import NIOCore

/// A frame with its payload decoded: what the application sends and receives.
///
/// `ByteBuffer.writeWireMessage(_:)` encodes a whole frame in one pass (header, then the payload
/// straight into the same buffer); ``init(decoding:)`` decodes the payload of a ``Frame`` from
/// ``FrameDecoder``.
public enum WireMessage: Sendable, Hashable {
    /// A Raft message between peers (stream 0).
    case raft(Message)
    /// A client's request; `streamID` is its correlation id (non-zero).
    case request(streamID: UInt64, ClientRequest)
    /// A server's response to the request with the same `streamID` (non-zero).
    case response(streamID: UInt64, ClientResponse)
    /// A server's response whose payload is already encoded (a ``ClientResponse`` as
    /// ``ClientResponse/encodedPayload(allocator:)`` writes it), sent as a `response` frame on
    /// `streamID` (non-zero) carrying exactly the payload's readable bytes. It lets one encoding
    /// go out on many streams (a watch event fanned out to every watcher), each frame costing a
    /// header and a copy of the bytes. Only for sending: ``init(decoding:)`` never produces it,
    /// a received response is always ``response(streamID:_:)``. Equality compares the stream
    /// id and the payload's bytes, so it never equals the `.response` it encodes.
    case encodedResponse(streamID: UInt64, payload: ByteBuffer)
    /// Complete `response` frames already encoded back to back (each as
    /// `ByteBuffer.writeWireMessage(_:)` writes a ``response(streamID:_:)`` or an
    /// ``encodedResponse(streamID:payload:)``), sent as they are. It lets a server write many
    /// small responses — the watch events of one batch — as one buffer, which the TLS layer
    /// seals as a few records instead of one record per response. Only for sending;
    /// ``WireMessageEncoder`` checks every frame's stream id and length before copying them.
    /// ``kind`` is `response`; ``streamID`` is 0, since each frame carries its own.
    case responseFrames(ByteBuffer)
    /// The sender is about to close: for the whole connection (stream 0) or because of one request.
    case error(streamID: UInt64, ErrorPayload)
    /// A server introducing itself to a peer (stream 0).
    case peerHello(PeerHello)
    /// A liveness probe; the receiver answers with a `pong` of the same value (stream 0).
    case ping(UInt64)
    /// The answer to a `ping` (stream 0).
    case pong(UInt64)

    /// The frame kind that carries this message.
    public var kind: FrameKind {
        switch self {
        case .raft: return .raft
        case .request: return .request
        case .response, .encodedResponse, .responseFrames: return .response
        case .error: return .error
        case .peerHello: return .peerHello
        case .ping: return .ping
        case .pong: return .pong
        }
    }

    /// The stream id of the frame that carries this message.
    public var streamID: UInt64 {
        switch self {
        case .request(let streamID, _), .response(let streamID, _), .encodedResponse(let streamID, _),
             .error(let streamID, _):
            return streamID
        case .raft, .peerHello, .ping, .pong, .responseFrames: return 0
        }
    }

    /// Decodes `frame`'s payload according to its kind. The payload must be consumed exactly.
    /// Throws what the payload's `read…` function throws (for instance
    /// ``WireError/Code/unknownMessageKind`` for an unknown client operation).
    public init(decoding frame: Frame) throws(WireError) {
        try frame.kind.checkStreamID(frame.streamID)
        var payload = frame.payload
        switch frame.kind {
        case .raft:
            self = .raft(try payload.readRaftMessage())
        case .request:
            self = .request(streamID: frame.streamID, try payload.readClientRequest())
        case .response:
            self = .response(streamID: frame.streamID, try payload.readClientResponse())
        case .error:
            self = .error(streamID: frame.streamID, try payload.readErrorPayload())
        case .peerHello:
            self = .peerHello(try payload.readPeerHello())
        case .ping:
            self = .ping(try payload.readOpaquePayload("ping"))
        case .pong:
            self = .pong(try payload.readOpaquePayload("pong"))
        }
    }
}

extension ByteBuffer {
    /// Writes `message` as one complete frame, its payload encoded in place (or, for
    /// ``WireMessage/responseFrames(_:)``, its frames as they are); returns the bytes written.
    /// The caller keeps to the stream id rules (``FrameKind/checkStreamID(_:)``);
    /// ``WireMessageEncoder`` checks them and the frame size.
    @discardableResult
    public mutating func writeWireMessage(_ message: WireMessage) -> Int {
        if case .responseFrames(let frames) = message {
            return writeImmutableBuffer(frames)
        }
        return writeFrame(kind: message.kind, streamID: message.streamID) { buffer in
            switch message {
            case .raft(let raft): buffer.writeRaftMessage(raft)
            case .request(_, let request): buffer.writeClientRequest(request)
            case .response(_, let response): buffer.writeClientResponse(response)
            case .encodedResponse(_, let payload): buffer.writeImmutableBuffer(payload)
            case .responseFrames: preconditionFailure("written above, without a frame header of its own")
            case .error(_, let payload): buffer.writeErrorPayload(payload)
            case .peerHello(let hello): buffer.writePeerHello(hello)
            case .ping(let opaque), .pong(let opaque): buffer.writeInteger(opaque)
            }
        }
    }

    /// Reads the `u64 opaque` payload of a `ping` or `pong`.
    mutating func readOpaquePayload(_ kind: StaticString) throws(WireError) -> UInt64 {
        var input = self
        let opaque: UInt64 = try input.readField(kind)
        try input.checkFullyConsumed(kind)
        self = input
        return opaque
    }
}
