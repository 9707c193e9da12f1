import ArgumentParser
import CairnTLS

/// `cairn tls cert create --server|--client|--cli …`: writes `<dc>-<kind>-<domain>-<n>.pem` and
/// its `-key.pem`, signed by the CA.
public struct TLSCertCreateCommand: ParsableCommand {
    public static let configuration = CommandConfiguration(
        commandName: "create",
        abstract: "Create a server, client or CLI certificate signed by the CA.",
        discussion: """
            Subject alternative names, as Consul's:
              --server  server.<dc>.<domain>, <node>.server.<dc>.<domain>
                        (with --node), localhost, 127.0.0.1
              --client  client.<dc>.<domain>, localhost, 127.0.0.1
              --cli     cli.<dc>.<domain>
            plus every --additional-dnsname and --additional-ipaddress.

            Files take the first unused number n:
              <dc>-<kind>-<domain>-<n>.pem and <dc>-<kind>-<domain>-<n>-key.pem
            Bad input prints one line on stderr, exits with code 2, writes nothing.
            """
    )

    @Flag(help: "Create a server certificate (grants the right to join the cluster as a server).")
    var server = false

    @Flag(help: "Create a client certificate.")
    var client = false

    @Flag(help: "Create a CLI certificate.")
    var cli = false

    @Option(help: "The datacenter.")
    var dc: String = ClusterName.defaultDatacenter

    @Option(help: "The cluster's domain, the last label of every certificate name.")
    var domain: String = ClusterName.defaultDomain

    @Option(help: "For --server: also add <node>.server.<dc>.<domain>.")
    var node: String?

    @Option(name: .customLong("additional-dnsname"), help: "An extra DNS name (repeatable).")
    var additionalDNSNames: [String] = []

    @Option(name: .customLong("additional-ipaddress"), help: "An extra IP address (repeatable).")
    var additionalIPAddresses: [String] = []

    @Option(help: "Number of days the certificate is valid for.")
    var days: Int = CertificateValidity.defaultLeafDays

    @Option(help: "The CA certificate. Default: <dir>/<domain>-agent-ca.pem.")
    var ca: String?

    @Option(help: "The CA key. Default: <dir>/<domain>-agent-ca-key.pem.")
    var key: String?

    @Option(help: "Directory to write the files into (must exist).")
    var dir: String = "."

    public init() {}

    public func run() throws {
        try TLSCommandRunner.run { say in try self.perform(say: say) }
    }

    /// Does the work; `say` receives each line of output. Throws ``CairnTLSError`` for bad input;
    /// nothing is written then.
    public func perform(say: (String) -> Void) throws {
        let chosen: [(Bool, CertificateKind)] = [(self.server, .server), (self.client, .client), (self.cli, .cli)]
        let kinds = chosen.filter { $0.0 }.map { $0.1 }
        guard kinds.count == 1, let kind = kinds.first else {
            throw CairnTLSError(.invalidArgument, "give exactly one of --server, --client or --cli")
        }
        let cluster = try ClusterName(datacenter: self.dc, domain: self.domain)
        let request = try LeafCertificateRequest(
            kind: kind,
            cluster: cluster,
            node: self.node,
            additionalDNSNames: self.additionalDNSNames,
            additionalIPAddresses: self.additionalIPAddresses.map { try IPAddress($0) },
            validity: CertificateValidity.days(self.days)
        )
        let directory = CertificateDirectory(self.dir)
        let caFile = self.ca ?? directory.file(CertificateDirectory.caCertificateFileName(domain: cluster.domain))
        let keyFile = self.key ?? directory.file(CertificateDirectory.caKeyFileName(domain: cluster.domain))
        let authority = try CertificateDirectory.loadCA(certificateFile: caFile, keyFile: keyFile)
        let issued = try authority.issue(request)
        if kind == .server {
            say("==> WARNING: Server certificates grant the authority to join the cluster as a server")
            say("    and to read and change all of its state. Give them only to server nodes,")
            say("    and store them as carefully as the CA key.")
        }
        say("==> Using \(caFile) and \(keyFile)")
        for path in try directory.saveLeaf(issued, kind: kind, cluster: cluster) {
            say("==> Saved \(path)")
        }
    }
}
