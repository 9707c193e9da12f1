import CairnCatalog
import CairnWire
import Testing

@Suite("Health-check schedule")
struct HealthScheduleTests {
    static func check(_ id: String, node: String = "n1", service: String = "web", status: CheckStatus = .critical,
                      _ definition: CheckDefinition) -> HealthCheck {
        var definition = definition
        definition.id = id
        return HealthCheck(id: id, name: id, node: node, serviceID: service, serviceName: service, status: status,
                           output: "", definition: definition)
    }

    static let http = httpCheck(url: "http://127.0.0.1:8080/", interval: 10_000, timeout: 2_000)

    @Test("a new HTTP check is probed at once, not again while in flight, then one interval after it finished")
    func probesAtInterval() {
        var schedule = HealthSchedule()
        schedule.sync([Self.check("h", Self.http)], now: 1_000)
        #expect(schedule.nextDeadline == 1_000)
        #expect(schedule.due(now: 1_000) == [.probe(node: "n1", checkID: "h", kind: Self.http.kind)])
        #expect(schedule.isProbing(node: "n1", checkID: "h"))
        #expect(schedule.nextDeadline == nil)
        #expect(schedule.due(now: 50_000).isEmpty)
        schedule.probeFinished(node: "n1", checkID: "h", now: 51_500)
        #expect(!schedule.isProbing(node: "n1", checkID: "h"))
        #expect(schedule.nextDeadline == 61_500)
        #expect(schedule.due(now: 61_499).isEmpty)
        #expect(schedule.due(now: 61_500) == [.probe(node: "n1", checkID: "h", kind: Self.http.kind)])
    }

    @Test("a finished probe that was not in flight changes nothing")
    func strayProbeFinished() {
        var schedule = HealthSchedule()
        schedule.sync([Self.check("h", Self.http)], now: 0)
        schedule.probeFinished(node: "n1", checkID: "h", now: 5_000)
        schedule.probeFinished(node: "n9", checkID: "x", now: 5_000)
        #expect(schedule.nextDeadline == 0)
    }

    @Test("several due checks come in node then id order, TCP included")
    func order() {
        let tcp = tcpCheck(interval: 5_000, timeout: 1_000)
        var schedule = HealthSchedule()
        schedule.sync([Self.check("b", node: "n2", Self.http), Self.check("z", Self.http), Self.check("a", node: "n2", tcp)], now: 0)
        #expect(schedule.due(now: 0) == [
            .probe(node: "n1", checkID: "z", kind: Self.http.kind),
            .probe(node: "n2", checkID: "a", kind: tcp.kind),
            .probe(node: "n2", checkID: "b", kind: Self.http.kind),
        ])
    }

    @Test("a TTL check expires once per missed deadline, and a report starts a fresh TTL")
    func ttlExpiry() {
        var schedule = HealthSchedule()
        schedule.sync([Self.check("t", status: .passing, ttlCheck(seconds: 10))], now: 0)
        #expect(schedule.due(now: 9_999).isEmpty)
        let expired = HealthDirective.setStatus(node: "n1", checkID: "t", status: .critical, output: HealthSchedule.ttlExpiredOutput)
        #expect(schedule.due(now: 10_000) == [expired])
        #expect(schedule.due(now: 10_001).isEmpty)
        #expect(schedule.due(now: 100_000).isEmpty)
        schedule.ttlReported(node: "n1", checkID: "t", now: 100_000)
        #expect(schedule.nextDeadline == 110_000)
        schedule.ttlReported(node: "n1", checkID: "t", now: 105_000)
        #expect(schedule.due(now: 114_999).isEmpty)
        #expect(schedule.due(now: 115_000) == [expired])
    }

    @Test("reports for unknown or non-TTL checks are ignored")
    func ttlReportIgnored() {
        var schedule = HealthSchedule()
        schedule.sync([Self.check("h", Self.http)], now: 0)
        _ = schedule.due(now: 0)
        schedule.ttlReported(node: "n1", checkID: "h", now: 10)
        schedule.ttlReported(node: "n1", checkID: "nope", now: 10)
        #expect(schedule.count == 1)
        #expect(schedule.nextDeadline == nil)
    }

    @Test("a check critical for its deregister-after period asks once to deregister its instance")
    func deregisterCriticalAfter() {
        var schedule = HealthSchedule()
        let ttl = ttlCheck(seconds: 60, deregisterAfter: 5_000)
        schedule.sync([Self.check("t", ttl)], now: 1_000)
        #expect(schedule.due(now: 5_999).isEmpty)
        #expect(schedule.due(now: 6_000) == [.deregister(node: "n1", serviceID: "web")])
        #expect(schedule.due(now: 7_000).isEmpty)
        // Passing ends the spell; a new spell counts from when it is seen.
        schedule.observe(node: "n1", checkID: "t", status: .passing, now: 8_000)
        schedule.observe(node: "n1", checkID: "t", status: .critical, now: 9_000)
        schedule.observe(node: "n1", checkID: "t", status: .critical, now: 12_000)
        #expect(schedule.due(now: 13_999).isEmpty)
        #expect(schedule.due(now: 14_000) == [.deregister(node: "n1", serviceID: "web")])
    }

    @Test("a status seen through sync starts and ends the critical spell too")
    func criticalThroughSync() {
        var schedule = HealthSchedule()
        let ttl = ttlCheck(seconds: 60, deregisterAfter: 5_000)
        schedule.sync([Self.check("t", status: .passing, ttl)], now: 0)
        #expect(schedule.due(now: 20_000).isEmpty)
        schedule.sync([Self.check("t", status: .critical, ttl)], now: 20_000)
        schedule.sync([Self.check("t", status: .critical, ttl)], now: 22_000)
        #expect(schedule.due(now: 24_999).isEmpty)
        #expect(schedule.due(now: 25_000) == [.deregister(node: "n1", serviceID: "web")])
    }

    @Test("two critical checks of one instance ask for one deregistration; node-level checks ask for none")
    func oneDeregistrationPerInstance() {
        var schedule = HealthSchedule()
        let ttl = ttlCheck(seconds: 60, deregisterAfter: 1_000)
        schedule.sync([Self.check("a", ttl), Self.check("b", ttl), Self.check("agent", service: "", ttl)], now: 0)
        #expect(schedule.due(now: 1_000) == [.deregister(node: "n1", serviceID: "web")])
        #expect(schedule.due(now: 2_000).isEmpty)
    }

    @Test("sync drops removed checks and reschedules changed definitions")
    func syncChanges() {
        var schedule = HealthSchedule()
        schedule.sync([Self.check("h", Self.http), Self.check("t", ttlCheck(seconds: 10))], now: 0)
        _ = schedule.due(now: 0)
        schedule.probeFinished(node: "n1", checkID: "h", now: 100)
        schedule.sync([Self.check("t", ttlCheck(seconds: 20))], now: 5_000)
        #expect(schedule.count == 1)
        #expect(schedule.due(now: 24_999).isEmpty)
        #expect(schedule.due(now: 25_000).count == 1)
        // An unchanged definition keeps its timers.
        schedule.sync([Self.check("t", ttlCheck(seconds: 20)), Self.check("h", Self.http)], now: 30_000)
        #expect(schedule.due(now: 30_000) == [.probe(node: "n1", checkID: "h", kind: Self.http.kind)])
        schedule.sync([Self.check("t", ttlCheck(seconds: 20)), Self.check("h", Self.http)], now: 31_000)
        #expect(schedule.isProbing(node: "n1", checkID: "h"))
        #expect(schedule.due(now: 60_000).isEmpty)
    }

    @Test("resetAll gives every TTL a fresh deadline, forgets probes in flight and restarts critical spells")
    func resetAll() {
        var schedule = HealthSchedule()
        let ttl = ttlCheck(seconds: 10, deregisterAfter: 30_000)
        schedule.sync([Self.check("h", Self.http), Self.check("t", ttl)], now: 0)
        #expect(schedule.due(now: 10_000).count == 2)
        schedule.resetAll(now: 20_000)
        #expect(!schedule.isProbing(node: "n1", checkID: "h"))
        #expect(schedule.due(now: 20_000) == [.probe(node: "n1", checkID: "h", kind: Self.http.kind)])
        #expect(schedule.due(now: 29_999).isEmpty)
        #expect(schedule.due(now: 30_000) == [.setStatus(node: "n1", checkID: "t", status: .critical,
                                                         output: HealthSchedule.ttlExpiredOutput)])
        // Critical since 0, but since the reset only from 20 000: no deregistration at 30 000.
        #expect(schedule.due(now: 49_999).isEmpty)
        #expect(schedule.due(now: 50_000) == [.deregister(node: "n1", serviceID: "web")])
    }

    @Test("huge TTLs saturate instead of overflowing")
    func saturation() {
        var schedule = HealthSchedule()
        schedule.sync([Self.check("t", ttlCheck(seconds: UInt64.max / 1_000))], now: UInt64.max - 5)
        #expect(schedule.nextDeadline == UInt64.max)
        #expect(schedule.due(now: UInt64.max - 1).isEmpty)
    }
}
