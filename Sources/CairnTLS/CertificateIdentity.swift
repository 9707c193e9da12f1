import Foundation
import X509

/// What a certificate says about its holder, in plain values: names, validity, usages.
public struct CertificateIdentity: Sendable, Hashable {
    /// The subject distinguished name, e.g. `CN=server.dc1.cairn`.
    public let subject: String
    /// The issuer distinguished name, e.g. `O=Cairn,CN=Cairn Agent CA 123`.
    public let issuer: String
    /// The serial number in hex (`0a:1b:…`).
    public let serialNumber: String
    /// The DNS subject alternative names, in certificate order.
    public let dnsNames: [String]
    /// The IP subject alternative names, in certificate order.
    public let ipAddresses: [IPAddress]
    /// Start of validity.
    public let notBefore: Date
    /// End of validity.
    public let notAfter: Date
    /// Whether basic constraints mark it as a CA.
    public let isCertificateAuthority: Bool
    /// Whether its extended key usage allows TLS server authentication (or it has no such extension).
    public let allowsServerAuthentication: Bool
    /// Whether its extended key usage allows TLS client authentication (or it has no such extension).
    public let allowsClientAuthentication: Bool

    /// Reads the identity of `certificate`.
    public init(_ certificate: Certificate) {
        self.subject = String(describing: certificate.subject)
        self.issuer = String(describing: certificate.issuer)
        self.serialNumber = String(describing: certificate.serialNumber)
        self.dnsNames = certificate.sanDNSNames
        self.ipAddresses = certificate.sanIPAddresses
        self.notBefore = certificate.notValidBefore
        self.notAfter = certificate.notValidAfter
        self.isCertificateAuthority = certificate.isCertificateAuthority
        self.allowsServerAuthentication = certificate.allowsUsage(.serverAuth)
        self.allowsClientAuthentication = certificate.allowsUsage(.clientAuth)
    }

    /// Every subject alternative name, DNS names then IP addresses, comma-separated; for messages.
    public var nameList: String {
        let all = self.dnsNames + self.ipAddresses.map(\.description)
        return all.isEmpty ? "no names" : all.joined(separator: ", ")
    }

    /// Whether the DNS names include `name` (compared without regard to case).
    public func hasDNSName(_ name: String) -> Bool {
        let wanted = name.lowercased()
        return self.dnsNames.contains { $0.lowercased() == wanted }
    }

    /// The Cairn role the names give this certificate in `domain`: the first DNS name of the form
    /// `<kind>.<dc>.<domain>` (or `<node>.server.<dc>.<domain>`, which also gives the node).
    public func clusterRole(domain: String = ClusterName.defaultDomain) -> ClusterRole? {
        let suffix = "." + domain.lowercased()
        var role: ClusterRole?
        var node: String?
        for name in self.dnsNames.map({ $0.lowercased() }) where name.hasSuffix(suffix) {
            let labels = name.dropLast(suffix.count).split(separator: ".", omittingEmptySubsequences: false)
            if labels.count == 2, role == nil, let kind = CertificateKind(rawValue: String(labels[0])) {
                role = ClusterRole(kind: kind, datacenter: String(labels[1]), node: nil)
            } else if labels.count == 3, labels[1] == "server" {
                node = String(labels[0])
            }
        }
        guard var found = role else { return nil }
        if found.kind == .server { found.node = node }
        return found
    }
}

/// A certificate's place in a Cairn cluster, read from its names.
public struct ClusterRole: Sendable, Hashable {
    /// Server, client or CLI.
    public var kind: CertificateKind
    /// The datacenter in its name.
    public var datacenter: String
    /// For a server certificate made with `--node`, the node name.
    public var node: String?

    /// A role from its parts.
    public init(kind: CertificateKind, datacenter: String, node: String? = nil) {
        self.kind = kind
        self.datacenter = datacenter
        self.node = node
    }
}
