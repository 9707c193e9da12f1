import Foundation
import Testing

/// `cairn agent` refuses bad flags and bad config with one clear line and exit code 2, before
/// starting anything.
@Suite("Agent command line")
struct AgentCommandLineTests {
    struct Outcome {
        var status: Int32
        var stderr: String
    }

    func runAgent(_ arguments: [String]) async throws -> Outcome {
        let p = Process()
        p.executableURL = URL(fileURLWithPath: ClusterFixture.cairnBinary)
        p.arguments = ["agent"] + arguments
        let err = Pipe()
        p.standardError = err
        p.standardOutput = Pipe()
        guard try await p.runToExit(within: 20) != nil else {
            return Outcome(status: -1, stderr: "still running: it started instead of refusing")
        }
        let text = String(decoding: err.fileHandleForReading.readDataToEndOfFile(), as: UTF8.self)
        return Outcome(status: p.terminationStatus, stderr: text)
    }

    func validFlags(_ fx: ClusterFixture) -> [String] {
        ["--server", "--node", "n1", "--data-dir", fx.dataDir(1), "--bind", fx.peerAddress(1), "--client-addr", fx.clientAddress(1),
         "--ca-file", fx.certs + "/cairn-agent-ca.pem", "--cert-file", fx.certs + "/dc1-server-cairn-0.pem",
         "--key-file", fx.certs + "/dc1-server-cairn-0-key.pem"]
    }

    func replacing(_ flags: [String], _ flag: String, with value: String) -> [String] {
        var out = flags
        if let i = out.firstIndex(of: flag) { out[i + 1] = value } else { out += [flag, value] }
        return out
    }

    @Test("each bad flag is refused with a specific message and exit code 2", arguments: [
        ("--bind", "127.0.0.1", "is not host:port"),
        ("--client-addr", "localhost:99999", "port from 0 to 65535"),
        ("--bootstrap-expect", "42", "--bootstrap-expect must be between 0 and 9"),
        ("--datacenter", "DC_1", "must be lower-case letters"),
        ("--cert-file", "/nonexistent/cert.pem", "--cert-file /nonexistent/cert.pem cannot be read"),
        ("--log-level", "loud", "--log-level must be one of"),
    ])
    func badFlag(flag: String, value: String, expected: String) async throws {
        let fx = try ClusterFixture(nodes: 1)
        let outcome = try await runAgent(replacing(validFlags(fx), flag, with: value))
        #expect(outcome.status == 2)
        #expect(outcome.stderr.contains(expected), "stderr was: \(outcome.stderr)")
        #expect(outcome.stderr.split(separator: "\n").count == 1)
    }

    @Test("a missing data directory flag and a wrong key file are refused")
    func missingAndMismatched() async throws {
        let fx = try ClusterFixture(nodes: 2)
        var flags = validFlags(fx)
        let i = flags.firstIndex(of: "--data-dir")!
        flags.removeSubrange(i...(i + 1))
        let missing = try await runAgent(flags)
        #expect(missing.status == 2)
        #expect(missing.stderr.contains("--data-dir is required"))
        // The key of another certificate: the pair does not match.
        let mismatched = try await runAgent(replacing(validFlags(fx), "--key-file", with: fx.certs + "/dc1-server-cairn-1-key.pem"))
        #expect(mismatched.status == 2, "stderr: \(mismatched.stderr)")
        #expect(!mismatched.stderr.isEmpty)
    }

    @Test("a client thread count out of range is refused")
    func badClientThreads() async throws {
        let fx = try ClusterFixture(nodes: 1)
        for value in ["65", "-1"] {
            let outcome = try await runAgent(validFlags(fx) + ["--client-threads=\(value)"])
            #expect(outcome.status == 2)
            #expect(outcome.stderr.contains("--client-threads must be between 0 and 64, got \(value)"), "stderr: \(outcome.stderr)")
        }
    }

    @Test("a bad config file is refused with the file and the setting named")
    func badConfigFile() async throws {
        let fx = try ClusterFixture(nodes: 1)
        let cases: [(String, String)] = [
            ("{\"bootstrap_expect\": \"three\"}", "bootstrap_expect must be a whole number"),
            ("{\"no_such_setting\": 1}", "unknown setting \"no_such_setting\""),
            ("{not json", "is not valid JSON"),
            ("[1, 2]", "must hold a JSON object"),
            ("{\"client_threads\": 65}", "client_threads must be between 0 and 64, got 65"),
            ("{\"client_threads\": -1}", "client_threads must be between 0 and 64, got -1"),
        ]
        for (text, expected) in cases {
            let path = fx.root + "/bad.json"
            try text.write(toFile: path, atomically: true, encoding: .utf8)
            let outcome = try await runAgent(validFlags(fx) + ["--config-file", path])
            #expect(outcome.status == 2)
            #expect(outcome.stderr.contains(expected), "for \(text): \(outcome.stderr)")
            #expect(outcome.stderr.contains(path) || expected.contains("JSON"))
        }
    }

    @Test("settings come from the config file and flags override them")
    func configFileAndFlags() async throws {
        let fx = try ClusterFixture(nodes: 1)
        // The file names a bad bind address; the flag overrides it, so only the file's bad
        // datacenter is left to complain about.
        let path = fx.root + "/cfg.json"
        try "{\"bind_addr\": \"nonsense\", \"datacenter\": \"Bad DC\"}".write(toFile: path, atomically: true, encoding: .utf8)
        let outcome = try await runAgent(validFlags(fx) + ["--config-file", path])
        #expect(outcome.status == 2)
        #expect(outcome.stderr.contains("--datacenter \"Bad DC\""), "stderr: \(outcome.stderr)")
    }
}
