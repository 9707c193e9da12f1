import CairnClient
import CairnWire
import Foundation
import Testing
#if canImport(Glibc)
import Glibc
#endif

/// The `cairn` binary's lock, watch and read commands against a scripted server.
@Suite("cairn client commands against a scripted server")
struct ClientUnitCLIServerTests {
    /// A running `cairn` process whose output goes to files.
    final class Run {
        let process = Process()
        let stdoutPath: String
        let stderrPath: String

        init(_ server: FakeCairnServer, _ arguments: [String]) throws {
            let base = server.root + "/run-\(UUID().uuidString.prefix(8))"
            stdoutPath = base + ".out"
            stderrPath = base + ".err"
            _ = FileManager.default.createFile(atPath: stdoutPath, contents: nil)
            _ = FileManager.default.createFile(atPath: stderrPath, contents: nil)
            Self.prepare(process, arguments, against: server)
            process.standardOutput = try FileHandle(forWritingTo: URL(fileURLWithPath: stdoutPath))
            process.standardError = try FileHandle(forWritingTo: URL(fileURLWithPath: stderrPath))
            try process.run()
        }

        deinit {
            if process.isRunning { kill(process.processIdentifier, SIGKILL) }
        }

        /// Sets `process` up as `cairn arguments`, with the CAIRN_* variables pointing at `server`.
        static func prepare(_ process: Process, _ arguments: [String], against server: FakeCairnServer) {
            process.executableURL = URL(fileURLWithPath: ClusterFixture.cairnBinary)
            process.arguments = arguments
            var environment = ProcessInfo.processInfo.environment.filter { !$0.key.hasPrefix("CAIRN_") }
            environment["CAIRN_ADDR"] = server.address
            environment["CAIRN_CACERT"] = server.root + "/cairn-agent-ca.pem"
            environment["CAIRN_CLIENT_CERT"] = server.root + "/dc1-cli-cairn-0.pem"
            environment["CAIRN_CLIENT_KEY"] = server.root + "/dc1-cli-cairn-0-key.pem"
            process.environment = environment
        }

        var stdout: String { (try? String(contentsOfFile: stdoutPath, encoding: .utf8)) ?? "" }
        var stderr: String { (try? String(contentsOfFile: stderrPath, encoding: .utf8)) ?? "" }

        /// Polls until `condition` holds, or 20 s pass.
        func waitFor(_ what: String, _ condition: () -> Bool) async throws {
            let deadline = ContinuousClock.now + .seconds(20)
            while !condition() {
                guard ContinuousClock.now < deadline else {
                    throw FixtureError("cairn never showed \(what); stdout: \(stdout) stderr: \(stderr)")
                }
                try await Task.sleep(for: .milliseconds(20))
            }
        }

        /// Waits for the process to exit; its status.
        func exitStatus() async throws -> Int32 {
            try await waitFor("an exit") { !process.isRunning }
            return process.terminationStatus
        }
    }

    @Test("cairn lock runs the command with the fencing token, releases the lock and exits with the command's status")
    func lockRunsTheCommand() async throws {
        let script = ClientUnitLockStreamTests.LockScript()
        let server = try await FakeCairnServer { script.handle($0, $1, $2) }
        let run = try Run(server, ["lock", "jobs/", "--", "sh", "-c", "echo index=$CAIRN_LOCK_INDEX key=$CAIRN_LOCK_KEY; exit 3"])
        #expect(try await run.exitStatus() == 3)
        #expect(run.stdout == "index=2 key=jobs/.lock\n")
        let requests = server.requests.map(\.request)
        #expect(requests.contains(.kvRelease(key: "jobs/.lock", value: Array("cairn lock (\(ProcessInfo.processInfo.hostName) pid \(run.process.processIdentifier))".utf8),
                                             flags: 0, session: "mine")))
        #expect(requests.contains(.sessionDestroy(id: "mine")))
        await server.shutdown()
    }

    @Test("cairn lock terminates the command and exits 1 when the lock is lost")
    func lockLossTerminatesTheCommand() async throws {
        let script = ClientUnitLockStreamTests.LockScript()
        let server = try await FakeCairnServer { script.handle($0, $1, $2) }
        let run = try Run(server, ["lock", "jobs", "--", "sleep", "60"])
        try await run.waitFor("the lease's watch") { script.state.withLockedValue { $0.watches.count } >= 2 }
        script.releaseBySomeoneElse(key: "jobs/.lock")
        #expect(try await run.exitStatus() == 1)
        #expect(run.stderr.contains("Error! lock on jobs/.lock lost (the lock was released by someone else); terminating the command"))
        await server.shutdown()
    }

    @Test("cairn lock passes SIGTERM on to the command and exits with its status")
    func lockForwardsSignals() async throws {
        let script = ClientUnitLockStreamTests.LockScript()
        let server = try await FakeCairnServer { script.handle($0, $1, $2) }
        let run = try Run(server, ["lock", "jobs", "--", "sh", "-c", "trap 'echo got-term; exit 7' TERM; echo ready; while true; do sleep 0.05; done"])
        try await run.waitFor("the command's start") { run.stdout.contains("ready") }
        kill(run.process.processIdentifier, SIGTERM)
        #expect(try await run.exitStatus() == 7)
        #expect(run.stdout.contains("got-term"))
        await server.shutdown()
    }

    @Test("cairn watch prints one JSON line per event and exits 0 on SIGTERM")
    func watchPrintsJSONLines() async throws {
        let server = try await FakeCairnServer { connection, stream, request in
            guard case .watch = request else { return }
            connection.send(stream, .watchEvent(keyEvent(4, key: "cfg/a", session: "", snapshot: true, value: "x")))
            connection.send(stream, .watchEvent(WatchEvent(index: 5, payload: .keys([KVChange(key: "cfg/a", entry: nil)], snapshot: false))))
        }
        let run = try Run(server, ["watch", "--type", "keyprefix", "--prefix", "cfg/", "--from-index", "3"])
        try await run.waitFor("two lines") { run.stdout.split(separator: "\n").count == 2 }
        kill(run.process.processIdentifier, SIGTERM)
        #expect(try await run.exitStatus() == 0)
        let lines = run.stdout.split(separator: "\n").map(String.init)
        #expect(lines[1] == #"{"Index":5,"Type":"keys","Snapshot":false,"Changes":[{"Key":"cfg/a","Entry":null}]}"#)
        let first = try JSONDecoder().decode(JSONValue.self, from: Data(lines[0].utf8))
        #expect(first["Index"] == .integer(4))
        #expect(server.watches.first?.target == .keyPrefix("cfg/"))
        #expect(server.watches.first?.fromIndex == 3)
        await server.shutdown()
    }

    @Test("cairn kv get --recurse prints key:value lines, --keys the keys, and --format json one document")
    func kvReadFormats() async throws {
        let entries = [KVEntry(key: "app/a", value: Array("1".utf8), modifyIndex: 3), KVEntry(key: "app/b", value: Array("2".utf8), modifyIndex: 4)]
        let server = try await FakeCairnServer { connection, stream, request in
            switch request {
            case .kvList: connection.send(stream, .kvList(entries, meta(4)))
            case .kvKeys(_, let separator, _): connection.send(stream, .kvKeys(separator == "/" ? ["app/"] : ["app/a", "app/b"], meta(4)))
            default: connection.send(stream, .error(.unknownOperation, message: "not scripted"))
            }
        }
        let recurse = try Run(server, ["kv", "get", "--recurse", "app/"])
        #expect(try await recurse.exitStatus() == 0)
        #expect(recurse.stdout == "app/a:1\napp/b:2\n")
        let keys = try Run(server, ["kv", "get", "--keys"])
        #expect(try await keys.exitStatus() == 0)
        #expect(keys.stdout == "app/\n")
        let json = try Run(server, ["kv", "get", "--recurse", "app/", "--format", "json"])
        #expect(try await json.exitStatus() == 0)
        let document = try JSONDecoder().decode(JSONValue.self, from: Data(json.stdout.utf8))
        guard case .array(let items) = document else { throw FixtureError("not an array: \(json.stdout)") }
        #expect(items.map { $0["Key"] } == [.string("app/a"), .string("app/b")])
        #expect(items.first?["Value"] == .string("MQ=="))
        await server.shutdown()
    }

    @Test("every query command sends a linearizable read, and a stale one with --stale", arguments: [
        ["kv", "get", "k"], ["catalog", "services"], ["catalog", "nodes"], ["catalog", "service", "web"],
        ["session", "list"], ["session", "info", "s-1"],
    ])
    func staleFlagReachesTheServer(command: [String]) async throws {
        // The server refuses every request: only what the CLI asked for matters here.
        let server = try await FakeCairnServer { connection, stream, _ in
            connection.send(stream, .error(.unknownOperation, message: "not scripted"))
        }
        for stale in [false, true] {
            let run = try Run(server, command + (stale ? ["--stale"] : []))
            #expect(try await run.exitStatus() == 1, "\(command): \(run.stderr)")
        }
        let asked: [ReadConsistency] = server.requests.compactMap {
            switch $0.request {
            case .kvGet(_, let c), .catalogServices(let c), .catalogNodes(let c), .catalogService(_, _, _, let c),
                 .sessionList(let c), .sessionInfo(_, let c):
                return c
            default:
                return nil
            }
        }
        #expect(asked == [.linearizable, .stale], "\(command)")
        await server.shutdown()
    }

    @Test("output into a pipe whose reader has gone ends the command by SIGPIPE, quietly, like any Unix tool (it crashed with a backtrace)")
    func closedPipeEndsQuietly() async throws {
        let entries = (0..<200).map { KVEntry(key: "app/\($0)", value: Array(repeating: 0x61, count: 100), modifyIndex: 3) }
        let server = try await FakeCairnServer { connection, stream, request in
            if case .kvList = request { connection.send(stream, .kvList(entries, meta(4))) }
        }
        let stderrPath = server.root + "/pipe.err"
        _ = FileManager.default.createFile(atPath: stderrPath, contents: nil)
        let process = Process()
        Run.prepare(process, ["kv", "get", "--recurse", "app/"], against: server)
        let output = Pipe()
        process.standardOutput = output
        process.standardError = try FileHandle(forWritingTo: URL(fileURLWithPath: stderrPath))
        try output.fileHandleForReading.close()  // the reader is gone before anything is written
        guard try await process.runToExit(within: 20, afterStart: { try? output.fileHandleForWriting.close() }) != nil else {
            throw FixtureError("cairn kv get did not end after its reader went away")
        }
        let stderr = (try? String(contentsOfFile: stderrPath, encoding: .utf8)) ?? ""
        #expect(process.terminationReason == .uncaughtSignal)
        #expect(process.terminationStatus == SIGPIPE, "ended by signal \(process.terminationStatus); stderr: \(stderr)")
        #expect(stderr.isEmpty, "no crash report: \(stderr)")
        await server.shutdown()
    }

    @Test("a server error exits 1 with one line on standard error")
    func serverErrorExitsOne() async throws {
        let server = try await FakeCairnServer { connection, stream, _ in
            connection.send(stream, .error(.invalidKey, message: "key too long"))
        }
        let run = try Run(server, ["catalog", "services"])
        #expect(try await run.exitStatus() == 1)
        #expect(run.stderr == "Error! invalid key: key too long\n")
        await server.shutdown()
    }
}
