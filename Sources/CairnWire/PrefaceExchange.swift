import NIOCore

/// The preface handshake of one connection, as a state machine that does no IO.
///
/// Feed it the connection's events (``activate()``, ``received(_:)``, ``inputClosed()``) and
/// carry out the ``Action`` each returns; ``PrefaceHandler`` does exactly that in a pipeline.
///
/// - A dialer sends its preface when the connection becomes active, then waits for the acceptor's:
///   a preface with role ``Preface/Role/server`` and the dialer's version completes the exchange; an
///   `error` frame in its place (its first byte is `0x00`, a preface's is `C`) fails it with the
///   code the acceptor reported.
/// - An acceptor waits for the dialer's preface, checks magic, version and role, and completes by
///   replying with its own preface (role `server`, the dialer's version), or fails and reports the
///   error to the dialer in an `error` frame on stream 0.
///
/// Bytes that follow the peer's preface in the same read are handed back in
/// ``Action/complete(peer:reply:leftover:)``: they are the first frames. Until the exchange
/// completes at most 8 bytes (a dialer reading an `error` frame: at most 64 KiB) are buffered.
public struct PrefaceExchange: Sendable {
    /// Which end of the connection this is.
    public enum Side: Sendable, Hashable {
        /// The end that connected, speaking as `role` (``Preface/Role/peer`` or ``Preface/Role/client``).
        case dialer(Preface.Role)
        /// The end that accepted, admitting dialers whose role is in `accepting`.
        case acceptor(accepting: Set<Preface.Role>)
    }

    /// What the connection must do next.
    public enum Action: Sendable, Hashable {
        /// Nothing yet.
        case nothing
        /// Send this preface (the dialer's own).
        case send(Preface)
        /// The exchange succeeded: send `reply` if any (the acceptor's preface), then hand
        /// `leftover` (possibly empty) to the frame decoder; the peer spoke `peer`.
        case complete(peer: Preface, reply: Preface?, leftover: ByteBuffer)
        /// The exchange failed: when `notifyPeer`, send an `error` frame (stream 0) with the error;
        /// then close.
        case fail(WireError, notifyPeer: Bool)
    }

    private enum State: Sendable {
        case awaitingPeer(sentOwn: Bool, buffered: ByteBuffer?)
        case finished
    }

    /// The largest `error` frame a dialer reads in place of the acceptor's preface.
    public static let maximumRefusalFrameLength = 64 * 1024

    /// This end of the connection.
    public let side: Side
    /// The version a dialer proposes.
    public let version: UInt8
    /// The versions an acceptor admits.
    public let supportedVersions: ClosedRange<UInt8>
    private var state: State = .awaitingPeer(sentOwn: false, buffered: nil)

    /// Creates the exchange for one connection.
    public init(
        side: Side, version: UInt8 = Preface.currentVersion,
        supportedVersions: ClosedRange<UInt8> = Preface.supportedVersions
    ) {
        if case .dialer(let role) = side {
            precondition(role != .server, "a dialer speaks as peer or client")
        }
        self.side = side
        self.version = version
        self.supportedVersions = supportedVersions
    }

    /// Whether the exchange has completed or failed.
    public var isFinished: Bool {
        if case .finished = state { return true }
        return false
    }

    /// The connection is active: a dialer sends its preface (once).
    public mutating func activate() -> Action {
        guard case .dialer(let role) = side, case .awaitingPeer(false, let buffered) = state else { return .nothing }
        state = .awaitingPeer(sentOwn: true, buffered: buffered)
        return .send(Preface(version: version, role: role))
    }

    /// Bytes arrived from the peer.
    public mutating func received(_ bytes: ByteBuffer) -> Action {
        guard case .awaitingPeer(let sentOwn, let buffered) = state else {
            // Finished: a completed exchange forwards bytes itself; a failed one drops them.
            return .nothing
        }
        var input: ByteBuffer
        if var buffered {
            var bytes = bytes
            buffered.writeBuffer(&bytes)
            input = buffered
        } else {
            input = bytes
        }
        let action: Action
        do {
            action = try step(&input)
        } catch {
            state = .finished
            return .fail(error, notifyPeer: true)
        }
        switch action {
        case .nothing:
            state = .awaitingPeer(sentOwn: sentOwn, buffered: input)
        case .complete, .fail:
            state = .finished
        case .send:
            preconditionFailure("step never sends")
        }
        return action
    }

    /// The peer closed its side (or the connection went away).
    public mutating func inputClosed() -> Action {
        guard case .awaitingPeer(_, let buffered) = state else { return .nothing }
        state = .finished
        let count = buffered?.readableBytes ?? 0
        return .fail(
            WireError(.truncated, "the connection closed before the peer's preface arrived (\(count) of 8 bytes)"),
            notifyPeer: false)
    }

    /// Decides on the bytes buffered so far. Reads nothing from `input` while returning `.nothing`.
    private func step(_ input: inout ByteBuffer) throws(WireError) -> Action {
        if case .dialer = side, input.getInteger(at: input.readerIndex, as: UInt8.self) == 0 {
            return try readRefusal(input)
        }
        guard let preface = try input.readPreface(supportedVersions: supportedVersions) else { return .nothing }
        switch side {
        case .acceptor(let accepting):
            guard preface.role != .server, accepting.contains(preface.role) else {
                let admitted = Preface.Role.allCases.filter(accepting.contains).map(\.description)
                throw WireError(
                    .invalidValue,
                    "a \(preface.role) may not dial this port (admitted: \(admitted.joined(separator: ", ")))")
            }
            return .complete(peer: preface, reply: Preface(version: preface.version, role: .server), leftover: input)
        case .dialer:
            guard preface.role == .server else {
                throw WireError(.invalidValue, "the acceptor answered with role \(preface.role), not server")
            }
            guard preface.version == version else {
                throw WireError(
                    .unsupportedVersion, "the acceptor answered with version \(preface.version), not \(version)")
            }
            return .complete(peer: preface, reply: nil, leftover: input)
        }
    }

    /// A dialer reads an `error` frame sent in place of the acceptor's preface.
    private func readRefusal(_ input: ByteBuffer) throws(WireError) -> Action {
        var decoder = FrameDecoder(maximumFrameLength: Self.maximumRefusalFrameLength)
        var bytes = input
        guard let frame = try decoder.decode(buffer: &bytes) else { return .nothing }
        guard frame.kind == .error else {
            throw WireError(.unexpectedFrame, "expected the acceptor's preface, got a \(frame.kind) frame")
        }
        var payload = frame.payload
        return .fail(try payload.readErrorPayload().remoteError, notifyPeer: false)
    }
}
