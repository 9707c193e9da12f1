import NIOCore

/// The payload of an `error` frame: `u16 code, string reason`. The sender closes the connection
/// after sending it.
///
/// The codes are ``WireError/Code``'s wire values; a receiver keeps codes it does not know.
public struct ErrorPayload: Sendable, Hashable {
    /// What class of violation (or ``WireError/Code/shuttingDown``) ends the connection.
    public var code: WireError.Code
    /// Why, for a human.
    public var reason: String

    /// Creates a payload.
    public init(code: WireError.Code, reason: String) {
        self.code = code
        self.reason = reason
    }

    /// The payload reporting `error`.
    public init(_ error: WireError) {
        self.init(code: error.code, reason: error.reason)
    }

    /// The error the peer reported, as a ``WireError`` raised at `remote`.
    public var remoteError: WireError {
        WireError(code, "the peer reported: \(reason)", file: "remote", line: 0)
    }
}

extension ByteBuffer {
    /// Writes `payload` as an `error` frame payload.
    @discardableResult
    public mutating func writeErrorPayload(_ payload: ErrorPayload) -> Int {
        let start = writerIndex
        writeInteger(payload.code.wireValue)
        writeStringField(payload.reason)
        return writerIndex - start
    }

    /// Reads an ``ErrorPayload`` from an `error` frame payload: all readable bytes must form exactly
    /// one. Fails like ``readRaftMessage()``; on failure the reader index does not move.
    public mutating func readErrorPayload() throws(WireError) -> ErrorPayload {
        var input = self
        let code: UInt16 = try input.readField("error.code")
        let reason = try input.readStringField("error.reason")
        try input.checkFullyConsumed("error payload")
        self = input
        return ErrorPayload(code: WireError.Code(wireValue: code), reason: reason)
    }
}
