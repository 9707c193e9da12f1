import CairnClient
import Foundation
import Testing
#if canImport(Glibc)
import Glibc
#endif

/// `cairn agent --dev`, the first command of the README: a single-node server that makes its
/// own certificates and prints the exports the CLI needs.
@Suite("The dev agent", .serialized, .timeLimit(.minutes(2)))
struct DevAgentTests {
    /// A dev agent on two free loopback ports, its data in a fresh directory.
    final class DevAgent {
        let process = Process()
        let root = FileManager.default.temporaryDirectory.appendingPathComponent("cairn-dev-\(UUID().uuidString.prefix(8))").path
        let clientAddress: String
        let stdoutPath: String
        let stderrPath: String

        /// Starts it; `stdout` replaces the file its standard output goes to by default.
        init(stdout: Pipe? = nil) throws {
            let base = ClusterFixture.allocatePorts()
            clientAddress = "127.0.0.1:\(base + 2)"
            try FileManager.default.createDirectory(atPath: root, withIntermediateDirectories: true)
            stdoutPath = root + "/stdout"
            stderrPath = root + "/stderr"
            _ = FileManager.default.createFile(atPath: stdoutPath, contents: nil)
            _ = FileManager.default.createFile(atPath: stderrPath, contents: nil)
            process.executableURL = URL(fileURLWithPath: ClusterFixture.cairnBinary)
            process.arguments = ["agent", "--dev", "--data-dir", root + "/data", "--bind", "127.0.0.1:\(base + 1)", "--client-addr", clientAddress]
            process.environment = ProcessInfo.processInfo.environment.filter { !$0.key.hasPrefix("CAIRN_") }
            if let stdout {
                process.standardOutput = stdout
            } else {
                process.standardOutput = try FileHandle(forWritingTo: URL(fileURLWithPath: stdoutPath))
            }
            process.standardError = try FileHandle(forWritingTo: URL(fileURLWithPath: stderrPath))
            try process.run()
        }

        deinit {
            if process.isRunning { kill(process.processIdentifier, SIGKILL) }
            try? FileManager.default.removeItem(atPath: root)
        }

        var stdout: String { (try? String(contentsOfFile: stdoutPath, encoding: .utf8)) ?? "" }
        var stderr: String { (try? String(contentsOfFile: stderrPath, encoding: .utf8)) ?? "" }

        /// The client files the dev agent makes in its data directory.
        var certificates: (ca: String, cert: String, key: String) {
            let certs = root + "/data/certs/"
            return (certs + "cairn-agent-ca.pem", certs + "dc1-cli-cairn-0.pem", certs + "dc1-cli-cairn-0-key.pem")
        }

        /// SIGTERM, then the exit status once it has ended (nil if it had to be killed after 15 s).
        func terminate() async -> Int32? {
            await process.terminate(within: 15)
        }
    }

    /// Runs `cairn` with `environment` added; its exit status and standard output.
    func cairn(_ arguments: [String], environment: [String: String]) async throws -> (status: Int32, output: String) {
        let process = Process()
        process.executableURL = URL(fileURLWithPath: ClusterFixture.cairnBinary)
        process.arguments = arguments
        process.environment = ProcessInfo.processInfo.environment.filter { !$0.key.hasPrefix("CAIRN_") }.merging(environment) { $1 }
        let output = FileManager.default.temporaryDirectory.appendingPathComponent("cairn-dev-out-\(UUID().uuidString.prefix(8))")
        _ = FileManager.default.createFile(atPath: output.path, contents: nil)
        defer { try? FileManager.default.removeItem(at: output) }
        process.standardOutput = try FileHandle(forWritingTo: output)
        process.standardError = FileHandle.nullDevice
        guard let status = try await process.runToExit(within: 30) else { throw FixtureError("cairn \(arguments) did not finish within 30 s") }
        return (status, (try? String(contentsOf: output, encoding: .utf8)) ?? "")
    }

    @Test("it prints the exports the CLI needs, the CLI works with exactly those, and SIGTERM ends it with 0")
    func exportsWork() async throws {
        let agent = try DevAgent()
        let deadline = ContinuousClock.now + .seconds(60)
        while !agent.stdout.contains("export CAIRN_CLIENT_KEY=") {
            guard ContinuousClock.now < deadline, agent.process.isRunning else {
                throw FixtureError("no exports printed; stdout: \(agent.stdout) stderr: \(agent.stderr)")
            }
            try await Task.sleep(for: .milliseconds(20))
        }
        var exports: [String: String] = [:]
        for line in agent.stdout.split(separator: "\n") where line.hasPrefix("export ") {
            let pair = line.dropFirst("export ".count).split(separator: "=", maxSplits: 1)
            if pair.count == 2 { exports[String(pair[0])] = String(pair[1]) }
        }
        #expect(Set(exports.keys) == ["CAIRN_ADDR", "CAIRN_CACERT", "CAIRN_CLIENT_CERT", "CAIRN_CLIENT_KEY"])
        #expect(exports["CAIRN_ADDR"] == agent.clientAddress)

        // The first write may wait for the single node to elect itself; the CLI retries within its timeout.
        let put = try await cairn(["kv", "put", "dev/greeting", "hello"], environment: exports)
        #expect(put.status == 0)
        let get = try await cairn(["kv", "get", "dev/greeting"], environment: exports)
        #expect(get.status == 0)
        #expect(get.output == "hello\n")
        #expect(await agent.terminate() == 0, "stderr: \(agent.stderr)")
    }

    @Test("with its standard output a pipe nobody reads, it keeps running and serving (writing the exports stopped it)")
    func closedStandardOutput() async throws {
        let pipe = Pipe()
        try pipe.fileHandleForReading.close()  // nobody will read what it prints
        let agent = try DevAgent(stdout: pipe)
        try? pipe.fileHandleForWriting.close()
        let files = agent.certificates
        var configuration = ClientConfiguration(addresses: [agent.clientAddress], caFile: files.ca, certificateFile: files.cert, keyFile: files.key)
        configuration.requestTimeout = .seconds(5)
        // The certificates exist once the agent has started; it serves once it leads.
        let deadline = ContinuousClock.now + .seconds(60)
        var served = false
        while !served {
            guard ContinuousClock.now < deadline, agent.process.isRunning else {
                throw FixtureError("the dev agent did not serve (running: \(agent.process.isRunning)); stderr: \(agent.stderr)")
            }
            if FileManager.default.fileExists(atPath: files.key), let client = try? CairnClient(configuration: configuration) {
                served = (try? await client.put("dev/k", value: [1])) != nil
                await client.close()
            }
            if !served { try await Task.sleep(for: .milliseconds(50)) }
        }
        #expect(agent.process.isRunning)
        #expect(!agent.stderr.contains("Fatal error"), "stderr: \(agent.stderr)")
        #expect(await agent.terminate() == 0, "stderr: \(agent.stderr)")
    }
}
