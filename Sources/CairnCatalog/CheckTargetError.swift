/// Why an HTTP check's URL or a TCP check's address cannot be used.
public struct CheckTargetError: Error, Hashable, CustomStringConvertible {
    /// An opaque kind of failure; equality compares only this.
    public struct Code: Hashable, Sendable {
        let raw: String
        /// The URL is not a plain `http://host[:port][/path]` URL.
        public static let invalidURL = Code(raw: "invalidURL")
        /// The address is not `host:port` with a port in 1...65535.
        public static let invalidAddress = Code(raw: "invalidAddress")
    }

    /// What kind of failure.
    public var code: Code
    /// A human explanation naming the offending text.
    public var reason: String

    /// Creates an error.
    public init(_ code: Code, _ reason: String) {
        self.code = code
        self.reason = reason
    }

    public var description: String { reason }

    public static func == (lhs: CheckTargetError, rhs: CheckTargetError) -> Bool { lhs.code == rhs.code }
    public func hash(into hasher: inout Hasher) { hasher.combine(code) }
}
