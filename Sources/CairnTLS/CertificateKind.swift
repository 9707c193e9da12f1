import X509

/// The three kinds of leaf certificate a Cairn CA issues, named and shaped as Consul's are.
///
/// - `server`: `server.<dc>.<domain>` (+ `<node>.server.<dc>.<domain>`), `localhost`, `127.0.0.1`;
///   usable for both TLS server and client authentication, because servers dial each other.
/// - `client`: `client.<dc>.<domain>`, `localhost`, `127.0.0.1`; client and server authentication,
///   like Consul's client-agent certificates.
/// - `cli`: `cli.<dc>.<domain>`; client authentication only.
public enum CertificateKind: String, Sendable, Hashable, CaseIterable {
    case server
    case client
    case cli

    /// The extended key usages a certificate of this kind carries.
    public var extendedKeyUsages: [ExtendedKeyUsage.Usage] {
        switch self {
        case .server: [.serverAuth, .clientAuth]
        case .client: [.clientAuth, .serverAuth]
        case .cli: [.clientAuth]
        }
    }

    /// Whether certificates of this kind also carry `localhost` and `127.0.0.1`.
    var includesLoopbackNames: Bool {
        self != .cli
    }
}
