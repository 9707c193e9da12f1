import CairnWire

/// A failure the client reports.
///
/// Two errors are equal when their ``code``s are, so tests and callers can match on the kind of
/// failure (`error == CairnClientError(.timeout, "")`) without depending on the wording of
/// ``reason``. Normal outcomes — a missing key, a failed check-and-set, a lock held by someone
/// else — are results of the calls, never this error.
public struct CairnClientError: Error, Hashable, CustomStringConvertible {
    /// What kind of failure. The set is open: compare against the static members.
    public struct Code: Hashable, Sendable, CustomStringConvertible {
        let raw: String
        /// The code's name.
        public var description: String { raw }
        /// No server could be reached.
        public static let unreachable = Code(raw: "unreachable")
        /// The request did not complete within the request timeout.
        public static let timeout = Code(raw: "timeout")
        /// The connection dropped after a write was sent: it may or may not have been applied.
        public static let outcomeUnknown = Code(raw: "outcomeUnknown")
        /// The server answered with an error (see ``CairnClientError/serverCode``).
        public static let server = Code(raw: "server")
        /// The client's TLS files are unusable.
        public static let tls = Code(raw: "tls")
        /// The server broke the protocol.
        public static let protocolViolation = Code(raw: "protocolViolation")
        /// The request does not fit in one frame (16 MiB); it was not sent.
        public static let requestTooLarge = Code(raw: "requestTooLarge")
        /// The client was closed.
        public static let closed = Code(raw: "closed")
        /// The session a lock needed was invalidated (destroyed, expired, or its check failed)
        /// while the lock was being acquired.
        public static let sessionInvalidated = Code(raw: "sessionInvalidated")
    }

    /// What kind of failure.
    public var code: Code
    /// What happened, in words, for a person to read.
    public var reason: String
    /// The server's own error code when ``code`` is ``Code/server``; nil otherwise.
    public var serverCode: ClientErrorCode?

    /// Creates an error.
    public init(_ code: Code, _ reason: String, serverCode: ClientErrorCode? = nil) {
        self.code = code
        self.reason = reason
        self.serverCode = serverCode
    }

    /// The ``reason``.
    public var description: String { reason }

    /// Compares the ``code``s only.
    public static func == (lhs: Self, rhs: Self) -> Bool { lhs.code == rhs.code }
    /// Hashes the ``code`` only.
    public func hash(into hasher: inout Hasher) { hasher.combine(code) }
}
