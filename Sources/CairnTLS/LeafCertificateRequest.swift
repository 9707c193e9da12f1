/// What a leaf certificate should say: its kind, cluster names, extra names and validity.
///
/// The subject alternative names follow Consul's layout (see ``dnsNames`` and ``ipAddresses``).
/// Invariants, checked by the initializer: `node` is only given for server certificates and is a
/// DNS label; additional DNS names are valid host names.
public struct LeafCertificateRequest: Sendable, Hashable {
    /// Server, client or CLI.
    public let kind: CertificateKind
    /// Datacenter and domain, which make the certificate's main name.
    public let cluster: ClusterName
    /// For a server certificate, the node name that adds `<node>.server.<dc>.<domain>`.
    public let node: String?
    /// Extra DNS names, after the standard ones.
    public let additionalDNSNames: [String]
    /// Extra IP addresses, after `127.0.0.1`.
    public let additionalIPAddresses: [IPAddress]
    /// When the certificate is valid.
    public let validity: CertificateValidity

    /// Validates and stores a request.
    /// - Throws: ``CairnTLSError/Code/invalidArgument`` for a node name on a non-server
    ///   certificate, or an invalid node or DNS name.
    public init(
        kind: CertificateKind,
        cluster: ClusterName,
        node: String? = nil,
        additionalDNSNames: [String] = [],
        additionalIPAddresses: [IPAddress] = [],
        validity: CertificateValidity
    ) throws {
        if let node, kind != .server {
            throw CairnTLSError(.invalidArgument, "--node \(node) requires a server certificate (--server)")
        }
        self.kind = kind
        self.cluster = cluster
        self.node = try node.map { try DNSName.label($0, what: "node name") }
        self.additionalDNSNames = try additionalDNSNames.map(DNSName.hostName)
        self.additionalIPAddresses = additionalIPAddresses
        self.validity = validity
    }

    /// The certificate's common name: `server.<dc>.<domain>`, `client.…` or `cli.…`.
    public var commonName: String {
        self.cluster.name(of: self.kind)
    }

    /// DNS names, in order: the kind's name, the node name (servers), the additional names,
    /// then `localhost` (servers and clients). No duplicates.
    public var dnsNames: [String] {
        var names = [self.commonName]
        if let node {
            names.append(self.cluster.serverName(node: node))
        }
        names += self.additionalDNSNames
        if self.kind.includesLoopbackNames {
            names.append("localhost")
        }
        return names.uniqued()
    }

    /// IP addresses: `127.0.0.1` (servers and clients), then the additional ones. No duplicates.
    public var ipAddresses: [IPAddress] {
        ((self.kind.includesLoopbackNames ? [IPAddress.loopbackV4] : []) + self.additionalIPAddresses).uniqued()
    }
}

extension Array where Element: Hashable {
    func uniqued() -> [Element] {
        var seen = Set<Element>()
        return self.filter { seen.insert($0).inserted }
    }
}
