/// What a connection carries, fixed by the role in the dialer's preface.
///
/// | Frame kind | peer connection | client connection |
/// |---|---|---|
/// | `raft`, `peerHello` | both ways | never |
/// | `request` | never | client → server |
/// | `response` | never | server → client |
/// | `error`, `ping`, `pong` | both ways | both ways |
public enum ConnectionKind: Sendable, Hashable {
    /// A server dialed a server: Raft traffic.
    case peer
    /// A client dialed a server: requests and responses.
    case client

    /// The kind of connection a dialer with `role` opens; nil for ``Preface/Role/server``, which
    /// only answers.
    public init?(dialerRole role: Preface.Role) {
        switch role {
        case .peer: self = .peer
        case .client: self = .client
        case .server: return nil
        }
    }

    /// Whether a frame of `kind` may travel on this connection from the dialer (`sentByDialer`)
    /// or from the acceptor.
    public func permits(_ kind: FrameKind, sentByDialer: Bool) -> Bool {
        switch kind {
        case .error, .ping, .pong: return true
        case .raft, .peerHello: return self == .peer
        case .request: return self == .client && sentByDialer
        case .response: return self == .client && !sentByDialer
        }
    }

    /// Checks ``permits(_:sentByDialer:)``; ``WireError/Code/unexpectedFrame`` when not.
    public func checkPermitted(_ kind: FrameKind, sentByDialer: Bool) throws(WireError) {
        guard permits(kind, sentByDialer: sentByDialer) else {
            let sender = sentByDialer ? (self == .peer ? "the dialing peer" : "the client") : "the server"
            throw WireError(.unexpectedFrame, "a \(kind) frame from \(sender) is not allowed on a \(self) connection")
        }
    }
}
