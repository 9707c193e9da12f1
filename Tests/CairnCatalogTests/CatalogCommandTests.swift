import CairnCatalog
import CairnWire
import Testing

@Suite("Catalog commands, results and validation")
struct CatalogCommandTests {
    @Test("every command survives encoding and decoding", arguments: [
        CatalogCommand.register(ServiceRegistration(
            node: "n1", nodeAddress: "10.0.0.1",
            service: ServiceInstance(id: "web-1", name: "web", tags: ["a", "b"], address: "10.0.0.9", port: 8080,
                                     meta: ["k": "v", "z": "é"]),
            checks: [ttlCheck(id: "t", name: "T", seconds: 30, initial: .passing, deregisterAfter: 60_000),
                     httpCheck(url: "http://h:1/x"), tcpCheck(address: "[::1]:22")])),
        .register(registration(name: "plain")),
        .deregister(node: "n1", serviceID: "web-1"),
        .deregister(node: "", serviceID: "web-1"),
        .updateCheck(node: "n1", checkID: "c", status: .warning, output: "slow ✓"),
        .registerNodeCheck(node: "n1", check: ttlCheck(name: "agent")),
        .deregisterCheck(node: "", checkID: "agent"),
    ])
    func roundTrip(_ command: CatalogCommand) {
        let bytes = command.encoded()
        #expect(bytes.first == CatalogStore.moduleTag)
        #expect(CatalogCommand(decoding: bytes.dropFirst()) == command)
    }

    @Test("truncated, padded and unknown commands do not decode")
    func malformed() {
        let bytes = Array(CatalogCommand.register(registration(name: "web", checks: [ttlCheck()])).encoded().dropFirst())
        for length in 0..<bytes.count { #expect(CatalogCommand(decoding: bytes[..<length]) == nil) }
        #expect(CatalogCommand(decoding: (bytes + [0])[...]) == nil)
        #expect(CatalogCommand(decoding: [9, 0, 0, 0, 0]) == nil)
        var badStatus = CatalogCommand.updateCheck(node: "n", checkID: "c", status: .passing, output: "").encoded()
        badStatus[1 + 1 + 5 + 5] = 3
        #expect(CatalogCommand(decoding: badStatus.dropFirst()) == nil)
    }

    @Test("results survive encoding and decoding", arguments: [CatalogResult.applied, .notFound, .rejected("why ✗"), .rejected("")])
    func resultRoundTrip(_ result: CatalogResult) {
        #expect(CatalogResult(decoding: result.encoded()) == result)
    }

    @Test("bytes that are not a result do not decode")
    func resultMalformed() {
        #expect(CatalogResult(decoding: []) == nil)
        #expect(CatalogResult(decoding: [1, 0]) == nil)
        #expect(CatalogResult(decoding: [4]) == nil)
        #expect(CatalogResult(decoding: [3, 0xFF]) == nil)
    }

    @Test("valid registrations pass validation")
    func validRegistrations() {
        #expect(CatalogStore.validate(registration(node: "", name: "web")) == nil)
        #expect(CatalogStore.validate(registration(name: "web", port: 0, checks: [
            ttlCheck(seconds: 1), httpCheck(url: "http://[::1]:8080/h?x=1", interval: 1_000, timeout: 1_000),
            tcpCheck(address: "db.internal:5432"), ttlCheck(id: "z", deregisterAfter: 1_000),
        ])) == nil)
    }

    @Test("invalid registrations are refused as invalid arguments with a reason", arguments: [
        (registration(name: ""), "service name is empty"),
        (registration(name: String(repeating: "n", count: 1025)), "1025 bytes"),
        (registration(name: "web", checks: [ttlCheck(seconds: 0)]), "TTL"),
        (registration(name: "web", checks: [httpCheck(url: "ftp://x/")]), "http://"),
        (registration(name: "web", checks: [httpCheck(url: "https://x/")]), "https"),
        (registration(name: "web", checks: [httpCheck(url: "http:///path")]), "host"),
        (registration(name: "web", checks: [httpCheck(url: "http://a b/")]), "spaces"),
        (registration(name: "web", checks: [httpCheck(url: "http://u@h/")]), "host"),
        (registration(name: "web", checks: [httpCheck(url: "http://h:0/")]), "host"),
        (registration(name: "web", checks: [tcpCheck(address: "h:70000")]), "host:port"),
        (registration(name: "web", checks: [tcpCheck(address: "::1:80")]), "host:port"),
        (registration(name: "web", checks: [tcpCheck(interval: 999, timeout: 500)]), "interval"),
        (registration(name: "web", checks: [tcpCheck(interval: 2_000, timeout: 0)]), "timeout"),
        (registration(name: "web", checks: [tcpCheck(interval: 2_000, timeout: 2_001)]), "timeout"),
        (registration(name: "web", checks: [ttlCheck(deregisterAfter: 999)]), "deregisters"),
        (registration(name: "web", checks: [ttlCheck(), ttlCheck(id: "service:web:1")]), "two checks"),
    ])
    func invalidRegistrations(_ bad: ServiceRegistration, _ expected: String) throws {
        let problem = try #require(CatalogStore.validate(bad))
        #expect(problem.code == .invalidArgument)
        #expect(problem.message.contains(expected))
    }

    @Test("HTTP check URLs parse into host, port, path and Host header")
    func httpURLs() throws {
        let plain = try HTTPCheckURL(parsing: "http://example.com")
        #expect(plain.host == "example.com")
        #expect(plain.port == 80)
        #expect(plain.path == "/")
        #expect(plain.hostHeader == "example.com")
        let full = try HTTPCheckURL(parsing: "HTTP://10.0.0.1:8080/health/live?full=1#top")
        #expect(full.host == "10.0.0.1")
        #expect(full.port == 8080)
        #expect(full.path == "/health/live?full=1")
        #expect(full.hostHeader == "10.0.0.1:8080")
        let query = try HTTPCheckURL(parsing: "http://h?x")
        #expect(query.path == "/?x")
        let v6 = try HTTPCheckURL(parsing: "http://[::1]:9000/")
        #expect(v6.host == "::1")
        #expect(v6.hostHeader == "[::1]:9000")
        #expect(throws: CheckTargetError(.invalidURL, "")) { try HTTPCheckURL(parsing: "http://h:99999/") }
    }

    @Test("TCP check addresses parse into host and port")
    func tcpAddresses() throws {
        let a = try TCPCheckAddress(parsing: "db:5432")
        #expect(a.host == "db")
        #expect(a.port == 5432)
        #expect(a.description == "db:5432")
        let b = try TCPCheckAddress(parsing: "[fe80::1%eth0]:22")
        #expect(b.host == "fe80::1%eth0")
        #expect(b.description == "[fe80::1%eth0]:22")
        for bad in ["db", "db:", ":80", "db:0", "db:x", "[::1]", "[::1]x:1", "a:b:c", "h st:1"] {
            #expect(throws: CheckTargetError(.invalidAddress, "")) { try TCPCheckAddress(parsing: bad) }
        }
    }
}
