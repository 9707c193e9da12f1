import CairnTLS
import Foundation

/// `cairn agent --dev`: a single-node server with safe defaults for trying Cairn out.
///
/// Data goes to `--data-dir` or a fresh temporary directory; on first start a CA, a server
/// certificate and a CLI certificate are made in `<data-dir>/certs` (mutual TLS stays on); the
/// agent prints the environment the CLI needs.
public enum DevMode {
    /// Fills in what the user did not set.
    public static func prepare(_ config: inout AgentConfiguration) throws {
        config.server = true
        config.dev = true
        if config.bootstrapExpect == 0 { config.bootstrapExpect = 1 }
        if config.nodeName.isEmpty { config.nodeName = "dev" }
        if config.dataDirectory.isEmpty {
            let base = FileManager.default.temporaryDirectory.appendingPathComponent("cairn-dev-\(UUID().uuidString.prefix(8))").path
            config.dataDirectory = base
        }
        let certs = config.dataDirectory + "/certs"
        if config.caFile.isEmpty && config.certFile.isEmpty && config.keyFile.isEmpty {
            let files = try makeCertificates(in: certs, datacenter: config.datacenter)
            config.caFile = files.ca
            config.certFile = files.serverCert
            config.keyFile = files.serverKey
        }
    }

    /// The certificate files of a dev agent.
    public struct Files: Sendable, Hashable {
        public var ca: String
        public var serverCert: String
        public var serverKey: String
        public var cliCert: String
        public var cliKey: String
    }

    /// Makes (or finds, on a restart) the dev agent's CA, server and CLI certificates.
    public static func makeCertificates(in directory: String, datacenter: String) throws -> Files {
        let cluster = try ClusterName(datacenter: datacenter)
        let serverNames = CertificateDirectory.leafFileNames(kind: .server, cluster: cluster, number: 0)
        let cliNames = CertificateDirectory.leafFileNames(kind: .cli, cluster: cluster, number: 0)
        let dir = CertificateDirectory(directory)
        let files = Files(
            ca: dir.file(CertificateDirectory.caCertificateFileName()),
            serverCert: dir.file(serverNames.certificate), serverKey: dir.file(serverNames.key),
            cliCert: dir.file(cliNames.certificate), cliKey: dir.file(cliNames.key))
        if FileManager.default.fileExists(atPath: files.ca) { return files }
        do {
            try FileManager.default.createDirectory(atPath: directory, withIntermediateDirectories: true)
            let ca = try CertificateAuthority.create(validity: .days(CertificateValidity.defaultCADays))
            try dir.saveCA(ca)
            let server = try ca.issue(LeafCertificateRequest(kind: .server, cluster: cluster, validity: .days(CertificateValidity.defaultLeafDays)))
            try dir.saveLeaf(server, kind: .server, cluster: cluster)
            let cli = try ca.issue(LeafCertificateRequest(kind: .cli, cluster: cluster, validity: .days(CertificateValidity.defaultLeafDays)))
            try dir.saveLeaf(cli, kind: .cli, cluster: cluster)
        } catch let error as CairnTLSError {
            throw AgentConfiguration.Problem("--dev could not make certificates in \(directory): \(error.reason)")
        }
        return files
    }
}
