import CairnWire

/// Why the server must refuse a KV or session request before proposing it: the error code to
/// answer with and a human explanation. Produced by the `validate` helpers of ``KVStore``.
public struct KVRequestProblem: Sendable, Hashable, CustomStringConvertible {
    /// The code for ``ClientResponse/error(_:message:)``.
    public var code: ClientErrorCode
    /// What is wrong, in words.
    public var message: String

    /// Creates a problem.
    public init(code: ClientErrorCode, message: String) {
        self.code = code
        self.message = message
    }

    /// `code: message`.
    public var description: String { "\(code): \(message)" }
}
