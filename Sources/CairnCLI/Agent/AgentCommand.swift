import ArgumentParser
import CairnServer
import Foundation

/// `cairn agent`: runs a Cairn server.
struct AgentCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "agent",
        abstract: "Run a Cairn server agent.",
        discussion: """
            A three-node cluster on one machine:
              cairn agent --server --bootstrap-expect 3 --node n1 --data-dir /var/lib/cairn/n1 \\
                --bind 127.0.0.1:8300 --client-addr 127.0.0.1:8500 \\
                --retry-join 127.0.0.2:8300 --retry-join 127.0.0.3:8300 --datacenter dc1 \\
                --ca-file cairn-agent-ca.pem --cert-file dc1-server-cairn-0.pem --key-file dc1-server-cairn-0-key.pem
            A single-node server for trying Cairn out (certificates made on first start):
              cairn agent --dev
            """
    )

    @Flag(help: "Run as a server (the only mode so far).") var server = false
    @Flag(help: "A single-node development server with generated certificates and safe defaults.") var dev = false
    @Option(help: "Servers expected before the cluster bootstraps (3 or 5 for a cluster).") var bootstrapExpect: Int?
    @Option(help: "This node's name.") var node: String?
    @Option(help: "Where Raft state, snapshots and the node id live.") var dataDir: String?
    @Option(help: "host:port of the server-to-server listener.") var bind: String?
    @Option(help: "host:port of the client listener.") var clientAddr: String?
    @Option(help: "host:port of another server to join (repeatable).") var retryJoin: [String] = []
    @Option(help: "The datacenter name.") var datacenter: String?
    @Option(help: "The cluster CA certificate (PEM).") var caFile: String?
    @Option(help: "This server's certificate (PEM).") var certFile: String?
    @Option(help: "This server's private key (PEM).") var keyFile: String?
    @Option(help: "A JSON configuration file; flags override it.") var configFile: String?
    @Option(help: "trace, debug, info, notice, warning, error or critical.") var logLevel: String?
    @Option(help: "Threads serving client connections; 0 serves them on the consensus thread (default: 0 with up to 2 cores, else 2).")
    var clientThreads: Int?

    func run() async throws {
        var config = AgentConfiguration()
        do {
            if let configFile { try config.load(file: configFile) }
            if server { config.server = true }
            if let bootstrapExpect { config.bootstrapExpect = bootstrapExpect }
            if let node { config.nodeName = node }
            if let dataDir { config.dataDirectory = dataDir }
            if let bind { config.bindAddress = bind }
            if let clientAddr { config.clientAddress = clientAddr }
            if !retryJoin.isEmpty { config.retryJoin = retryJoin }
            if let datacenter { config.datacenter = datacenter }
            if let caFile { config.caFile = caFile }
            if let certFile { config.certFile = certFile }
            if let keyFile { config.keyFile = keyFile }
            if let logLevel { config.logLevel = logLevel }
            if let clientThreads { config.clientThreads = clientThreads }
            if dev { try DevMode.prepare(&config) }
            try config.validate()
        } catch let problem as AgentConfiguration.Problem {
            StandardStreams.error("cairn agent: \(problem.description)\n")
            throw ExitCode(2)
        }
        do {
            try await Agent.run(configuration: config)
        } catch let problem as AgentConfiguration.Problem {
            StandardStreams.error("cairn agent: \(problem.description)\n")
            throw ExitCode(2)
        }
    }
}
