import CairnClient
import CairnTLS
import CairnWire
import Foundation
#if canImport(Glibc)
import Glibc
#endif

/// Test support: real `cairn agent` processes on loopback addresses, with freshly made
/// certificates, and clients for them.
final class ClusterFixture: @unchecked Sendable {
    let root: String
    let certs: String
    let basePort: Int
    let count: Int
    var processes: [Int: Process] = [:]
    var logs: [Int: String] = [:]

    private static let portLock = NSLock()
    nonisolated(unsafe) private static var nextPort = 21_000 + Int.random(in: 0..<300) * 10

    /// Ten ports no other fixture of this test process uses.
    static func allocatePorts() -> Int {
        portLock.lock()
        defer { portLock.unlock() }
        let base = nextPort
        nextPort += 10
        return base
    }

    static var cairnBinary: String {
        if let explicit = ProcessInfo.processInfo.environment["CAIRN_BINARY"] { return explicit }
        let testBinary = URL(fileURLWithPath: CommandLine.arguments[0]).resolvingSymlinksInPath()
        var dir = testBinary.deletingLastPathComponent()
        for _ in 0..<4 {
            let candidate = dir.appendingPathComponent("cairn").path
            if FileManager.default.isExecutableFile(atPath: candidate) { return candidate }
            dir = dir.deletingLastPathComponent()
        }
        return ".build/debug/cairn"
    }

    /// `extraConfig` adds fields to every agent's config file (JSON members, e.g. `"tick_ms": 500`).
    init(nodes: Int, snapshotEvery: Int = 8192, extraConfig: String = "") throws {
        count = nodes
        root = FileManager.default.temporaryDirectory.appendingPathComponent("cairn-it-\(UUID().uuidString.prefix(8))").path
        certs = root + "/certs"
        basePort = Self.allocatePorts()
        try FileManager.default.createDirectory(atPath: certs, withIntermediateDirectories: true)
        let cluster = try ClusterName(datacenter: "dc1")
        let dir = CertificateDirectory(certs)
        let ca = try CertificateAuthority.create(validity: .days(30))
        try dir.saveCA(ca)
        for i in 1...nodes {
            let issued = try ca.issue(LeafCertificateRequest(
                kind: .server, cluster: cluster, additionalIPAddresses: [try IPAddress("127.0.0.\(i)")], validity: .days(30)))
            try dir.saveLeaf(issued, kind: .server, cluster: cluster)
        }
        try dir.saveLeaf(try ca.issue(LeafCertificateRequest(kind: .cli, cluster: cluster, validity: .days(30))), kind: .cli, cluster: cluster)
        let config = "{\"snapshot_every\": \(snapshotEvery), \"log_level\": \"info\"\(extraConfig.isEmpty ? "" : ", " + extraConfig)}"
        try config.write(toFile: root + "/config.json", atomically: true, encoding: .utf8)
    }

    deinit {
        for (_, p) in processes where p.isRunning { kill(p.processIdentifier, SIGKILL) }
        if ProcessInfo.processInfo.environment["CAIRN_KEEP_TEST_DIRS"] == nil {
            try? FileManager.default.removeItem(atPath: root)
        }
    }

    func peerAddress(_ i: Int) -> String { "127.0.0.\(i):\(basePort + 1)" }
    func clientAddress(_ i: Int) -> String { "127.0.0.\(i):\(basePort + 2)" }
    func dataDir(_ i: Int) -> String { root + "/n\(i)" }

    func start(_ i: Int) throws {
        let p = Process()
        p.executableURL = URL(fileURLWithPath: Self.cairnBinary)
        var args = ["agent", "--server", "--bootstrap-expect", "\(count)", "--node", "n\(i)", "--data-dir", dataDir(i),
                    "--bind", peerAddress(i), "--client-addr", clientAddress(i), "--datacenter", "dc1",
                    "--ca-file", certs + "/cairn-agent-ca.pem",
                    "--cert-file", certs + "/dc1-server-cairn-\(i - 1).pem", "--key-file", certs + "/dc1-server-cairn-\(i - 1)-key.pem",
                    "--config-file", root + "/config.json"]
        for j in 1...count where j != i { args += ["--retry-join", peerAddress(j)] }
        // Odd nodes serve clients on client threads, even ones on the consensus thread, so that
        // every cluster test runs both ways whatever the machine's default.
        args += ["--client-threads", i % 2 == 1 ? "2" : "0"]
        p.arguments = args
        let log = root + "/n\(i).log"
        _ = FileManager.default.createFile(atPath: log, contents: nil)
        let handle = try FileHandle(forWritingTo: URL(fileURLWithPath: log))
        handle.seekToEndOfFile()
        p.standardOutput = handle
        p.standardError = handle
        try p.run()
        processes[i] = p
        logs[i] = log
    }

    /// Starts every node of the fixture.
    func startAll() throws {
        for i in 1...count { try start(i) }
    }

    /// Polls (up to 30 s) until `client` finds a leader; the leader as the cluster reports it.
    @discardableResult
    func waitForLeader(_ client: CairnClient) async throws -> MemberInfo {
        try await eventually(within: 30, "a leader") { try await client.members().first { $0.role == "leader" } }
    }

    /// SIGKILL, then waits (without holding a thread) until the process is gone.
    func kill9(_ i: Int) async {
        guard let p = processes[i] else { return }
        kill(p.processIdentifier, SIGKILL)
        let deadline = Date().addingTimeInterval(10)
        while p.isRunning && Date() < deadline { try? await Task.sleep(for: .milliseconds(5)) }
    }

    /// SIGTERM, then waits (bounded) and returns the exit status.
    func terminate(_ i: Int, within seconds: Double = 15) async -> Int32? {
        await processes[i]?.terminate(within: seconds)
    }

    func log(_ i: Int) -> String {
        (try? String(contentsOfFile: logs[i] ?? "", encoding: .utf8)) ?? ""
    }

    func client(_ nodes: [Int]? = nil, timeout: Duration = .seconds(10)) throws -> CairnClient {
        var config = ClientConfiguration(addresses: (nodes ?? Array(1...count)).map(clientAddress), caFile: certs + "/cairn-agent-ca.pem",
                                         certificateFile: certs + "/dc1-cli-cairn-0.pem", keyFile: certs + "/dc1-cli-cairn-0-key.pem")
        config.requestTimeout = timeout
        return try CairnClient(configuration: config)
    }

    /// Polls `body` until it returns a value or the time runs out.
    func eventually<T>(within seconds: Double, _ what: String, _ body: () async throws -> T?) async throws -> T {
        let deadline = Date().addingTimeInterval(seconds)
        var lastError: (any Error)?
        while Date() < deadline {
            do {
                if let value = try await body() { return value }
            } catch {
                lastError = error
            }
            try await Task.sleep(for: .milliseconds(50))
        }
        throw FixtureError("timed out after \(seconds)s waiting for \(what)" + (lastError.map { " (last error: \($0))" } ?? "")
                           + "\n" + logTails())
    }

    /// The last lines of every agent's log, to say why a wait timed out.
    func logTails(lines: Int = 12) -> String {
        processes.keys.sorted().map { i in
            let tail = log(i).split(separator: "\n", omittingEmptySubsequences: false).suffix(lines + 1).joined(separator: "\n")
            return "--- n\(i) (\(processes[i]?.isRunning == true ? "running" : "exited")), last lines of its log:\n\(tail)"
        }.joined(separator: "\n")
    }
}

struct FixtureError: Error, CustomStringConvertible {
    var description: String
    init(_ description: String) { self.description = description }
}
