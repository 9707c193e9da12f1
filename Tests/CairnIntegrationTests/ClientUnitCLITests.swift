import Foundation
import Testing
#if canImport(Glibc)
import Glibc
#endif

/// The `cairn` client commands' handling of bad usage and bad files: one clear line on standard
/// error and exit code 2, before any server is contacted (no server runs in these tests).
@Suite("cairn client commands refuse bad usage")
struct ClientUnitCLITests {
    struct Outcome {
        var status: Int32
        var stdout: String
        var stderr: String
    }

    /// Runs `cairn` with `arguments` and no CAIRN_* variables; fails the test after 30 s.
    func cairn(_ arguments: [String]) async throws -> Outcome {
        let process = Process()
        process.executableURL = URL(fileURLWithPath: ClusterFixture.cairnBinary)
        process.arguments = arguments
        process.environment = ProcessInfo.processInfo.environment.filter { !$0.key.hasPrefix("CAIRN_") }
        let out = Pipe()
        let err = Pipe()
        process.standardOutput = out
        process.standardError = err
        if try await process.runToExit(within: 30) == nil {
            Issue.record("cairn \(arguments.joined(separator: " ")) did not finish within 30 s")
        }
        return Outcome(status: process.terminationStatus,
                       stdout: String(decoding: out.fileHandleForReading.readDataToEndOfFile(), as: UTF8.self),
                       stderr: String(decoding: err.fileHandleForReading.readDataToEndOfFile(), as: UTF8.self))
    }

    func temporaryFile(_ contents: String) throws -> String {
        let path = FileManager.default.temporaryDirectory.appendingPathComponent("cairn-cli-\(UUID().uuidString.prefix(8)).json").path
        try contents.write(toFile: path, atomically: true, encoding: .utf8)
        return path
    }

    @Test("a service definition with a bad duration exits 2 naming the field")
    func badServiceDefinition() async throws {
        let file = try temporaryFile(#"{"service": {"name": "web", "check": {"ttl": "10x"}}}"#)
        defer { try? FileManager.default.removeItem(atPath: file) }
        let outcome = try await cairn(["services", "register", file])
        #expect(outcome.status == 2)
        #expect(outcome.stderr.hasPrefix("Error! \(file): service.check.ttl: \"10x\" is not a duration"))
        #expect(outcome.stderr.split(separator: "\n").count == 1)
    }

    @Test("a missing service definition file exits 2")
    func missingServiceDefinition() async throws {
        let outcome = try await cairn(["services", "register", "/nonexistent/cairn/service.json"])
        #expect(outcome.status == 2)
        #expect(outcome.stderr.hasPrefix("Error! cannot read /nonexistent/cairn/service.json"))
    }

    @Test("snapshot save refuses to overwrite an existing file without --force")
    func snapshotRefusesOverwrite() async throws {
        let file = try temporaryFile("keep me")
        defer { try? FileManager.default.removeItem(atPath: file) }
        let outcome = try await cairn(["snapshot", "save", file])
        #expect(outcome.status == 2)
        #expect(outcome.stderr.contains("already exists; pass --force"))
        #expect(try String(contentsOfFile: file, encoding: .utf8) == "keep me")
    }

    @Test("inconsistent flags exit 2", arguments: [
        (["watch", "--type", "key"], "--type key needs --key"),
        (["watch", "--type", "services", "--key", "a"], "--key does not apply to --type services"),
        (["watch", "--type", "table"], "table"),
        (["lock", "jobs"], "give the command to run after --"),
        (["lock", "--ttl", "5s", "jobs", "--", "true"], "--ttl must be between 10s and 24h"),
        (["lock", "--timeout", "soon", "jobs", "--", "true"], "--timeout: \"soon\" is not a duration"),
        (["kv", "put", "--cas", "1", "--acquire", "s", "k", "v"], "at most one of --cas, --acquire and --release"),
        (["kv", "get"], "missing the key"),
        (["kv", "get", "--recurse", "--keys", "a"], "--recurse or --keys, not both"),
        (["kv", "delete", "--recurse", "--cas", "3", "a"], "--cas applies to one key"),
        (["catalog", "service", "web", "--format", "xml"], "xml"),
    ])
    func badFlags(arguments: [String], message: String) async throws {
        let outcome = try await cairn(arguments)
        #expect(outcome.status == 2, "\(arguments): \(outcome.stderr)")
        #expect(outcome.stderr.contains(message), "\(arguments): \(outcome.stderr)")
    }
}
