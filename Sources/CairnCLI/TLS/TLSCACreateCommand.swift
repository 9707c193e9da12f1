import ArgumentParser
import CairnTLS

/// `cairn tls ca create [--days N] [--domain cairn] [--dir DIR]`: writes `<domain>-agent-ca.pem`
/// and `<domain>-agent-ca-key.pem`.
public struct TLSCACreateCommand: ParsableCommand {
    public static let configuration = CommandConfiguration(
        commandName: "create",
        abstract: "Create a new self-signed CA (ECDSA P-256).",
        discussion: """
            Writes <domain>-agent-ca.pem (give it to every node) and
            <domain>-agent-ca-key.pem (keep it with the operator: it can mint
            server certificates). Refuses to overwrite either file.
            """
    )

    @Option(help: "Number of days the CA is valid for.")
    var days: Int = CertificateValidity.defaultCADays

    @Option(help: "The cluster's domain, the last label of every certificate name; names the files.")
    var domain: String = ClusterName.defaultDomain

    @Option(help: "Directory to write the files into (must exist).")
    var dir: String = "."

    public init() {}

    public func run() throws {
        try TLSCommandRunner.run { say in try self.perform(say: say) }
    }

    /// Does the work; `say` receives each line of output. Throws ``CairnTLSError`` for bad input.
    public func perform(say: (String) -> Void) throws {
        let cluster = try ClusterName(domain: self.domain)
        let validity = try CertificateValidity.days(self.days)
        let directory = CertificateDirectory(self.dir)
        let ca = try CertificateAuthority.create(validity: validity)
        for path in try directory.saveCA(ca, domain: cluster.domain) {
            say("==> Saved \(path)")
        }
    }
}
