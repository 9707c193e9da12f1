import CairnClient
import CairnWire
import Foundation
import Testing

/// Sessions, `cairn lock` and health checks on three real agents.
@Suite("Sessions, locks and health checks on three agents", .serialized)
struct SessionLockHealthTests {
    @Test("sessions that stop renewing expire and release or delete their keys; lock-delay holds off a re-acquire")
    func sessionsExpire() async throws {
        let fx = try ClusterFixture(nodes: 3)
        try fx.startAll()
        let client = try fx.client()
        defer { Task { await client.close() } }
        try await fx.waitForLeader(client)

        let created = ContinuousClock.now
        let releasing = try await client.createSession(SessionRequest(name: "rel", ttlMilliseconds: 10_000, lockDelayMilliseconds: 3_000, behavior: .release))
        let deleting = try await client.createSession(SessionRequest(name: "del", ttlMilliseconds: 10_000, lockDelayMilliseconds: 0, behavior: .delete))
        let other = try await client.createSession(SessionRequest(name: "other", ttlMilliseconds: 0))
        #expect(try await client.acquire(key: "s/released", value: Array("a".utf8), session: releasing))
        #expect(try await client.acquire(key: "s/deleted", value: Array("b".utf8), session: deleting))
        #expect(try await client.get("s/released")?.lockIndex == 1)
        #expect(try await client.acquire(key: "s/released", session: other) == false, "held by another session")
        #expect(Set(try await client.sessions().map(\.id)) == [releasing, deleting, other])

        // Nobody renews the first two: the leader invalidates them once their TTL has passed.
        let released = try await fx.eventually(within: 30, "the TTL sessions to expire") { () -> KVEntry? in
            guard let entry = try await client.get("s/released"), entry.session.isEmpty else { return nil }
            return entry
        }
        let waited = ContinuousClock.now - created
        #expect(waited >= .seconds(10), "expired \(waited) after it was created, before its 10 s TTL")
        // Lock-delay: the released key cannot be taken at once...
        #expect(try await client.acquire(key: "s/released", session: other) == false)
        #expect(released.value == Array("a".utf8), "release behaviour keeps the key")
        _ = try await fx.eventually(within: 10, "the delete session's key to go") { try await client.get("s/deleted") == nil ? true : nil }
        let remaining = try await client.sessions().map(\.id)
        #expect(remaining == [other])
        // ...but can once the lock-delay has passed; the lock index counts the new holder.
        _ = try await fx.eventually(within: 10, "the lock-delay to pass") { try await client.acquire(key: "s/released", session: other) ? true : nil }
        #expect(try await client.get("s/released")?.lockIndex == 2)

        // Destroying a session releases at once; renewing a destroyed session says it is gone.
        #expect(try await client.destroySession(other))
        #expect(try await client.get("s/released")?.session == "")
        #expect(try await client.renewSession(other) == nil)
        for i in 1...3 { #expect(await fx.terminate(i) == 0) }
    }

    @Test("leader election: campaigning again while leading proclaims the new identity at once, keeping the lease; the next candidate leads once the leader resigns",
          .timeLimit(.minutes(2)))
    func leaderElection() async throws {
        let fx = try ClusterFixture(nodes: 3)
        try fx.startAll()
        let client = try fx.client()
        defer { Task { await client.close() } }
        try await fx.waitForLeader(client)

        let first = LeaderElection(client: client, key: "svc/leader", lockDelay: .zero, retryInterval: .milliseconds(50))
        let lease = try await first.campaign(identity: "alpha")
        #expect(try await client.get("svc/leader")?.value == Array("alpha".utf8))

        // Again while leading: no queueing behind its own lock; the same lease, the new identity.
        let again = try await first.campaign(identity: "alpha-2")
        #expect(again === lease)
        let proclaimed = try await client.get("svc/leader")
        #expect(proclaimed?.value == Array("alpha-2".utf8))
        #expect(proclaimed?.session == lease.sessionID)
        #expect(proclaimed?.lockIndex == lease.lockIndex, "the fencing token stays")
        #expect(!lease.isLost, "its own value change is not a loss")

        // A second candidate waits until the leader resigns, then leads with a higher token.
        let second = LeaderElection(client: client, key: "svc/leader", lockDelay: .zero, retryInterval: .milliseconds(50))
        let next = Task { try await second.campaign(identity: "beta") }
        var leaders = second.observe().makeAsyncIterator()
        // Watches go to any server: one that has not applied the proclamation yet shows the
        // identity before it first, and never another one.
        var observed = try await leaders.next()
        while observed == "alpha" { observed = try await leaders.next() }
        #expect(observed == "alpha-2", "the first still leads while the second campaigns")
        try await first.resign()
        let nextLease = try await next.value
        #expect(nextLease.lockIndex > lease.lockIndex)
        #expect(try await client.get("svc/leader")?.value == Array("beta".utf8))
        try await second.resign()
        for i in 1...3 { #expect(await fx.terminate(i) == 0) }
    }

    @Test("two `cairn lock` holders never overlap, and each hold's LockIndex fencing token is higher than the last")
    func cairnLockHoldersNeverOverlap() async throws {
        let fx = try ClusterFixture(nodes: 3)
        try fx.startAll()
        let client = try fx.client()
        defer { Task { await client.close() } }
        try await fx.waitForLeader(client)

        let journal = fx.root + "/journal.txt"
        _ = FileManager.default.createFile(atPath: journal, contents: nil)
        let holds = 3
        // Each child appends start/end lines around a short piece of work while holding the lock.
        let script = "echo \"start $CAIRN_LOCK_INDEX $HOLDER\" >> \(journal); sleep 0.2; echo \"end $CAIRN_LOCK_INDEX $HOLDER\" >> \(journal)"
        try await withThrowingTaskGroup(of: Int32.self) { group in
            for holder in ["a", "b"] {
                group.addTask {
                    for _ in 0..<holds {
                        let status = try await fx.runCLI(["lock", "locks/job", "--", "/bin/sh", "-c", script], extraEnvironment: ["HOLDER": holder])
                        if status != 0 { return status }
                    }
                    return 0
                }
            }
            for try await status in group { #expect(status == 0) }
        }
        let lines = try String(contentsOfFile: journal, encoding: .utf8).split(separator: "\n").map { $0.split(separator: " ").map(String.init) }
        #expect(lines.count == 4 * holds)
        var lastIndex = 0
        for pair in stride(from: 0, to: lines.count - 1, by: 2) {
            let start = lines[pair], end = lines[pair + 1]
            #expect(start[0] == "start" && end[0] == "end", "holds interleave: \(lines)")
            #expect(start[1] == end[1] && start[2] == end[2], "one holder from start to end")
            let index = Int(start[1]) ?? 0
            #expect(index > lastIndex, "fencing tokens rise: \(lines)")
            lastIndex = index
        }
        for i in 1...3 { #expect(await fx.terminate(i) == 0) }
    }

    @Test("HTTP, TCP and TTL checks flip as a real HTTP server and TCP listener go away and come back, and a service watch sees it")
    func healthChecksFlip() async throws {
        let fx = try ClusterFixture(nodes: 3)
        try fx.startAll()
        let client = try fx.client()
        defer { Task { await client.close() } }
        try await fx.waitForLeader(client)

        let httpPort = fx.basePort + 5, tcpPort = fx.basePort + 6
        var http = try LocalServer(port: httpPort)
        var tcp = try LocalServer(port: tcpPort)
        defer { http.kill(); tcp.kill() }
        _ = try await fx.eventually(within: 10, "the local servers to listen") { http.isListening && tcp.isListening ? true : nil }

        func check(_ kind: CheckKind) -> CheckDefinition { CheckDefinition(kind: kind) }
        _ = try await client.register(ServiceRegistration(node: "app-host", nodeAddress: "127.0.0.1", service: ServiceInstance(
            id: "web-1", name: "web", tags: ["v1"], address: "127.0.0.1", port: UInt16(httpPort)),
            checks: [check(.http(url: "http://127.0.0.1:\(httpPort)/", intervalMilliseconds: 1_000, timeoutMilliseconds: 500))]))
        _ = try await client.register(ServiceRegistration(node: "app-host", service: ServiceInstance(
            id: "db-1", name: "db", port: UInt16(tcpPort)),
            checks: [check(.tcp(address: "127.0.0.1:\(tcpPort)", intervalMilliseconds: 1_000, timeoutMilliseconds: 500))]))
        _ = try await client.register(ServiceRegistration(node: "app-host", service: ServiceInstance(id: "job-1", name: "job"),
            checks: [CheckDefinition(id: "job-ttl", kind: .ttl(ttlMilliseconds: 2_000))]))
        #expect(Set(try await client.services().map(\.name)) == ["web", "db", "job"])

        let statuses = StatusLog()
        let watch = Task {
            for try await event in client.watch(.service(name: "web", tag: "v1", passingOnly: false)) {
                if case .service(let instances) = event.payload, let first = instances.first { statuses.append(first.aggregateStatus) }
            }
        }
        defer { watch.cancel() }

        func healthy(_ name: String) async throws -> Bool { try await client.service(name: name, passingOnly: true).count == 1 }
        _ = try await fx.eventually(within: 15, "web and db to pass") { () -> Bool? in
            let web = try await healthy("web"), db = try await healthy("db")
            return web && db ? true : nil
        }

        await http.stop()
        _ = try await fx.eventually(within: 15, "web to turn critical") {
            try await client.service(name: "web").first?.aggregateStatus == .critical ? true : nil
        }
        #expect(try await healthy("db"), "one service's failure leaves the other alone")
        http = try LocalServer(port: httpPort)
        _ = try await fx.eventually(within: 15, "web to pass again") { try await healthy("web") ? true : nil }

        await tcp.stop()
        _ = try await fx.eventually(within: 15, "db to turn critical") { try await healthy("db") ? nil : true }
        tcp = try LocalServer(port: tcpPort)
        _ = try await fx.eventually(within: 15, "db to pass again") { try await healthy("db") ? true : nil }

        // TTL: passing while reported, critical once the reports stop.
        _ = try await client.passTTL(checkID: "job-ttl", note: "alive")
        #expect(try await healthy("job"))
        _ = try await fx.eventually(within: 10, "the TTL check to expire") { try await healthy("job") ? nil : true }
        let output = try await client.checks(serviceName: "job").first?.output ?? ""
        #expect(output.contains("TTL"), "output says why: \(output)")

        // The watch saw web pass, fail and pass again.
        _ = try await fx.eventually(within: 5, "the watch to see web recover (saw \(statuses.values))") { () -> Bool? in
            let seen = statuses.values
            guard let passed = seen.firstIndex(of: .passing), let failed = seen[passed...].firstIndex(of: .critical),
                  seen[failed...].contains(.passing) else { return nil }
            return true
        }
        for i in 1...3 { #expect(await fx.terminate(i) == 0) }
    }
}

/// Statuses a watch saw, in order.
final class StatusLog: @unchecked Sendable {
    private let lock = NSLock()
    private var seen: [CheckStatus] = []
    var values: [CheckStatus] { lock.withLock { seen } }
    func append(_ status: CheckStatus) { lock.withLock { seen.append(status) } }
}

/// A real HTTP server (Python's `http.server`, which also serves as a TCP listener) on
/// 127.0.0.1, started and stopped by the test.
struct LocalServer {
    let process: Process
    let port: Int

    init(port: Int) throws {
        self.port = port
        process = Process()
        process.executableURL = URL(fileURLWithPath: "/usr/bin/python3")
        process.arguments = ["-m", "http.server", "--bind", "127.0.0.1", String(port), "--directory", FileManager.default.temporaryDirectory.path]
        process.standardOutput = FileHandle.nullDevice
        process.standardError = FileHandle.nullDevice
        try process.run()
    }

    /// Whether a TCP connect to the port succeeds.
    var isListening: Bool {
        let fd = socket(AF_INET, Int32(SOCK_STREAM.rawValue), 0)
        guard fd >= 0 else { return false }
        defer { close(fd) }
        var address = sockaddr_in()
        address.sin_family = sa_family_t(AF_INET)
        address.sin_port = in_port_t(UInt16(port).bigEndian)
        address.sin_addr.s_addr = inet_addr("127.0.0.1")
        return withUnsafePointer(to: &address) {
            $0.withMemoryRebound(to: sockaddr.self, capacity: 1) { connect(fd, $0, socklen_t(MemoryLayout<sockaddr_in>.size)) == 0 }
        }
    }

    /// Kills the server (it was started by this test) and waits, without holding a thread, until
    /// it is gone and its port free.
    func stop() async {
        kill()
        let deadline = Date().addingTimeInterval(10)
        while process.isRunning && Date() < deadline { try? await Task.sleep(for: .milliseconds(5)) }
    }

    /// Kills the server without waiting.
    func kill() {
        if process.isRunning { Glibc.kill(process.processIdentifier, SIGKILL) }
    }
}
