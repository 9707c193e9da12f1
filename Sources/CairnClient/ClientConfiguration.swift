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
    ///
    /// Connecting is part of it: a dial (TCP connect, TLS handshake, preface) gets at most 5 s
    /// of it, so that a server that accepts connections and then says nothing is left for the
    /// next one; a request that finds a dial already in progress waits for that dial, but not
    /// past its own deadline.
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
