/// The names of a cluster: its DNS-style domain (`cairn` by default) and a datacenter.
///
/// Invariant: both are non-empty DNS labels (letters, digits, `-`), stored in lower case.
public struct ClusterName: Sendable, Hashable {
    /// The default domain, the `consul` of Consul's names.
    public static let defaultDomain = "cairn"
    /// The default datacenter.
    public static let defaultDatacenter = "dc1"

    /// The domain, e.g. `cairn`.
    public let domain: String
    /// The datacenter, e.g. `dc1`.
    public let datacenter: String

    /// Validates and stores the names.
    /// - Throws: ``CairnTLSError/Code/invalidArgument`` if either is not a DNS label.
    public init(datacenter: String = ClusterName.defaultDatacenter, domain: String = ClusterName.defaultDomain) throws {
        self.datacenter = try DNSName.label(datacenter, what: "datacenter")
        self.domain = try DNSName.label(domain, what: "domain")
    }

    /// The name every certificate of `kind` in this datacenter carries, e.g. `server.dc1.cairn`.
    public func name(of kind: CertificateKind) -> String {
        "\(kind.rawValue).\(self.datacenter).\(self.domain)"
    }

    /// `server.<dc>.<domain>`: the name that makes a certificate a server certificate of this datacenter.
    public var serverName: String {
        self.name(of: .server)
    }

    /// The per-node server name, `<node>.server.<dc>.<domain>`.
    public func serverName(node: String) -> String {
        "\(node).\(self.serverName)"
    }
}

/// Checks on DNS names given on the command line or to the library.
enum DNSName {
    static func label(_ value: String, what: String) throws -> String {
        let lower = value.lowercased()
        guard isLabel(lower) else {
            throw CairnTLSError(
                .invalidArgument,
                "invalid \(what) \"\(value)\": use letters, digits and '-' (1-63 characters, not starting or ending with '-')"
            )
        }
        return lower
    }

    /// A host name: dot-separated labels, optionally starting with a `*.` wildcard label.
    static func hostName(_ value: String) throws -> String {
        var labels = value.lowercased().split(separator: ".", omittingEmptySubsequences: false).map(String.init)
        if labels.first == "*", labels.count > 1 {
            labels.removeFirst()
        }
        guard !value.isEmpty, value.utf8.count <= 253, labels.allSatisfy(isLabel) else {
            throw CairnTLSError(.invalidArgument, "invalid DNS name \"\(value)\"")
        }
        return value.lowercased()
    }

    private static func isLabel(_ label: String) -> Bool {
        let bytes = Array(label.utf8)
        guard (1...63).contains(bytes.count), bytes.first != UInt8(ascii: "-"), bytes.last != UInt8(ascii: "-") else {
            return false
        }
        return bytes.allSatisfy { byte in
            (UInt8(ascii: "a")...UInt8(ascii: "z")).contains(byte)
                || (UInt8(ascii: "0")...UInt8(ascii: "9")).contains(byte)
                || byte == UInt8(ascii: "-")
        }
    }
}
