import Foundation

/// How a client reaches a Cairn cluster.
public struct ClientConfiguration: Sendable, Hashable {
    /// Server client addresses (`host:port`) to try, in order. More than one gives failover.
    public var addresses: [String]
    /// The cluster CA certificate (PEM).
    public var caFile: String
    /// This client's certificate (PEM): a client or CLI certificate from `cairn tls cert create`.
    public var certificateFile: String
    /// This client's private key (PEM).
    public var keyFile: String
    /// The datacenter whose servers (`server.<dc>.cairn`) the client accepts.
    public var datacenter: String = "dc1"
    /// How long one request may take, retries included, before it fails with a timeout.
    public var requestTimeout: Duration = .seconds(10)
    /// How many times a request is tried (not-leader answers, connection failures before the
    /// request was sent, reads that lost their connection); `requestTimeout` bounds them too.
    public var maxAttempts: Int = 64

    /// Creates a configuration.
    public init(addresses: [String], caFile: String, certificateFile: String, keyFile: String, datacenter: String = "dc1") {
        self.addresses = addresses
        self.caFile = caFile
        self.certificateFile = certificateFile
        self.keyFile = keyFile
        self.datacenter = datacenter
    }

    /// Reads `CAIRN_ADDR` (comma-separated), `CAIRN_CACERT`, `CAIRN_CLIENT_CERT`,
    /// `CAIRN_CLIENT_KEY` and `CAIRN_DATACENTER`; nil when an address or file is missing.
    public static func fromEnvironment(_ environment: [String: String] = ProcessInfo.processInfo.environment) -> ClientConfiguration? {
        guard let addr = environment["CAIRN_ADDR"], let ca = environment["CAIRN_CACERT"],
              let cert = environment["CAIRN_CLIENT_CERT"], let key = environment["CAIRN_CLIENT_KEY"] else { return nil }
        var config = ClientConfiguration(addresses: addr.split(separator: ",").map { String($0).trimmingCharacters(in: .whitespaces) },
                                         caFile: ca, certificateFile: cert, keyFile: key)
        if let dc = environment["CAIRN_DATACENTER"] { config.datacenter = dc }
        return config
    }
}

/// A failure the client reports. Compare by `code`.
public struct CairnClientError: Error, Hashable, CustomStringConvertible {
    /// What kind of failure.
    public struct Code: Hashable, Sendable, CustomStringConvertible {
        let raw: String
        public var description: String { raw }
        /// No server could be reached.
        public static let unreachable = Code(raw: "unreachable")
        /// The request did not complete within the request timeout.
        public static let timeout = Code(raw: "timeout")
        /// The connection dropped after a write was sent: it may or may not have been applied.
        public static let outcomeUnknown = Code(raw: "outcomeUnknown")
        /// The server answered with an error (see `serverCode`).
        public static let server = Code(raw: "server")
        /// The client's TLS files are unusable.
        public static let tls = Code(raw: "tls")
        /// The server broke the protocol.
        public static let protocolViolation = Code(raw: "protocolViolation")
        /// The client was closed.
        public static let closed = Code(raw: "closed")
    }

    public var code: Code
    public var reason: String

    public init(_ code: Code, _ reason: String) {
        self.code = code
        self.reason = reason
    }

    public var description: String { reason }

    public static func == (lhs: Self, rhs: Self) -> Bool { lhs.code == rhs.code }
    public func hash(into hasher: inout Hasher) { hasher.combine(code) }
}
