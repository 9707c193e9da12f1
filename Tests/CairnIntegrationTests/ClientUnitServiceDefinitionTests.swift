import CairnClient
import CairnWire
import Testing

/// `ServiceDefinition`: Consul service definition files into registrations.
@Suite("Service definition files")
struct ClientUnitServiceDefinitionTests {
    func parse(_ json: String) throws -> [ServiceRegistration] {
        try ServiceDefinition.registrations(fromJSON: Array(json.utf8))
    }

    func failure(_ json: String) -> DefinitionError? {
        #expect(throws: DefinitionError.self) { try parse(json) }
    }

    @Test("a full service with an HTTP check becomes one registration")
    func fullService() throws {
        let registrations = try parse("""
            {"service": {"id": "web-1", "name": "web", "tags": ["v2", "edge"], "address": "10.0.0.5", "port": 8080,
                         "meta": {"team": "edge"},
                         "check": {"id": "web-health", "name": "HTTP health", "http": "http://10.0.0.5:8080/health",
                                   "interval": "10s", "timeout": "2s", "deregister_critical_service_after": "1m",
                                   "status": "passing", "notes": "checks /health"}}}
            """)
        let registration = try #require(registrations.first)
        #expect(registrations.count == 1)
        #expect(registration.service == ServiceInstance(id: "web-1", name: "web", tags: ["v2", "edge"], address: "10.0.0.5", port: 8080,
                                                       meta: ["team": "edge"]))
        #expect(registration.checks == [CheckDefinition(
            id: "web-health", name: "HTTP health",
            kind: .http(url: "http://10.0.0.5:8080/health", intervalMilliseconds: 10_000, timeoutMilliseconds: 2_000),
            initialStatus: .passing, deregisterCriticalAfterMilliseconds: 60_000)])
    }

    @Test("TTL and TCP checks parse, the TCP timeout defaults to 10 s, and the status to critical")
    func ttlAndTCP() throws {
        let registration = try #require(try parse("""
            {"service": {"name": "db", "port": 5432, "checks": [
                {"ttl": "30s"},
                {"tcp": "127.0.0.1:5432", "interval": "5s"}]}}
            """).first)
        #expect(registration.checks.map(\.kind) == [
            .ttl(ttlMilliseconds: 30_000), .tcp(address: "127.0.0.1:5432", intervalMilliseconds: 5_000, timeoutMilliseconds: 10_000),
        ])
        #expect(registration.checks.allSatisfy { $0.initialStatus == .critical })
        // Several checks without ids get Consul's numbered defaults.
        #expect(registration.checks.map(\.id) == ["service:db:1", "service:db:2"])
    }

    @Test("a single check without an id is left for the server to name")
    func singleCheckKeepsEmptyID() throws {
        let registration = try #require(try parse(#"{"service": {"name": "api", "check": {"ttl": "15s"}}}"#).first)
        #expect(registration.checks.map(\.id) == [""])
    }

    @Test("field names match regardless of case and underscores, as in Consul")
    func consulCapitalizedNames() throws {
        let registration = try #require(try parse("""
            {"Service": {"ID": "api-2", "Name": "api", "Port": 9000,
                         "Check": {"CheckID": "api-ttl", "TTL": "20s", "DeregisterCriticalServiceAfter": "90s"}}}
            """).first)
        #expect(registration.service.id == "api-2")
        #expect(registration.checks.first?.id == "api-ttl")
        #expect(registration.checks.first?.deregisterCriticalAfterMilliseconds == 90_000)
    }

    @Test("a services list gives one registration per service")
    func servicesList() throws {
        let registrations = try parse(#"{"services": [{"name": "a"}, {"name": "b", "port": 1}]}"#)
        #expect(registrations.map(\.service.name) == ["a", "b"])
    }

    @Test("bad input is refused with an error naming the field", arguments: [
        (#"{"service": {"name": "web", "check": {"ttl": "10x"}}}"#, DefinitionError.Code.invalidDuration, "service.check.ttl"),
        (#"{"service": {"port": 80}}"#, .missingField, "service.name"),
        (#"{"service": {"name": "web", "port": 70000}}"#, .invalidValue, "service.port"),
        (#"{"service": {"name": "web", "port": "80"}}"#, .invalidValue, "service.port"),
        (#"{"service": {"name": "web", "tags": ["a", 1]}}"#, .invalidValue, "service.tags[1]"),
        (#"{"service": {"name": "web", "meta": {"a": 1}}}"#, .invalidValue, "service.meta.a"),
        (#"{"service": {"name": "web", "chekc": {"ttl": "10s"}}}"#, .unknownField, "service.chekc"),
        (#"{"service": {"name": "web", "checks": [{"ttl": "1s"}, {"http": "http://x/", "interval": "1s", "tls_skip_verify": true}]}}"#,
         .unknownField, "service.checks[1].tls_skip_verify"),
        (#"{"service": {"name": "web", "check": {"http": "http://x/"}}}"#, .missingField, "service.check.interval"),
        (#"{"service": {"name": "web", "check": {"http": "https://x/", "interval": "1s"}}}"#, .invalidValue, "service.check.http"),
        (#"{"service": {"name": "web", "check": {"tcp": "nohost", "interval": "1s"}}}"#, .invalidValue, "service.check.tcp"),
        (#"{"service": {"name": "web", "check": {"ttl": "10s", "http": "http://x/"}}}"#, .invalidValue, "service.check"),
        (#"{"service": {"name": "web", "check": {"name": "nothing"}}}"#, .missingField, "service.check"),
        (#"{"service": {"name": "web", "check": {"ttl": "10s", "status": "green"}}}"#, .invalidValue, "service.check.status"),
        (#"{"service": {"name": "web", "check": {"ttl": "0s"}}}"#, .invalidValue, "service.check.ttl"),
        (#"{"name": "web"}"#, .unknownField, "name"),
        (#"{}"#, .missingField, "service"),
        (#"{"service": ["web"]}"#, .invalidValue, "service"),
        (#"{"service": {"name": "web""#, .invalidJSON, ""),
    ])
    func badInput(json: String, code: DefinitionError.Code, field: String) {
        let error = failure(json)
        #expect(error?.code == code)
        #expect(error?.field == field)
        if !field.isEmpty { #expect(error?.reason.hasPrefix(field) == true, "\(error?.reason ?? "")") }
    }
}
