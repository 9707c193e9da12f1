import Foundation

extension ClusterFixture {
    /// The environment that points the `cairn` CLI at this cluster.
    var cliEnvironment: [String: String] {
        [
            "CAIRN_ADDR": (1...count).map(clientAddress).joined(separator: ","),
            "CAIRN_CACERT": certs + "/cairn-agent-ca.pem",
            "CAIRN_CLIENT_CERT": certs + "/dc1-cli-cairn-0.pem",
            "CAIRN_CLIENT_KEY": certs + "/dc1-cli-cairn-0-key.pem",
        ]
    }

    /// Runs `cairn ARGS` against the cluster and returns its exit status; fails after `seconds`.
    /// Waits through a termination handler, so no thread blocks while the command runs.
    func runCLI(_ arguments: [String], extraEnvironment: [String: String] = [:], within seconds: Double = 60) async throws -> Int32 {
        let process = Process()
        process.executableURL = URL(fileURLWithPath: Self.cairnBinary)
        process.arguments = arguments
        process.environment = ProcessInfo.processInfo.environment.merging(cliEnvironment.merging(extraEnvironment) { $1 }) { $1 }
        let log = root + "/cli-\(UUID().uuidString.prefix(8)).log"
        _ = FileManager.default.createFile(atPath: log, contents: nil)
        let handle = try FileHandle(forWritingTo: URL(fileURLWithPath: log))
        process.standardOutput = handle
        process.standardError = handle
        guard let status = try await process.runToExit(within: seconds) else {
            throw FixtureError("cairn \(arguments.joined(separator: " ")) did not finish within \(seconds)s")
        }
        if status != 0 {
            print("cairn \(arguments.joined(separator: " ")) exited \(status):\n" + ((try? String(contentsOfFile: log, encoding: .utf8)) ?? ""))
        }
        return status
    }
}
