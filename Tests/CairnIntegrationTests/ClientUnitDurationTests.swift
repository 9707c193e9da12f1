import CairnClient
import Testing

/// `ConsulDuration`: Consul's (Go's) duration syntax, in and out.
@Suite("Consul-style durations")
struct ClientUnitDurationTests {
    @Test("single-unit durations parse to milliseconds", arguments: [
        ("10s", UInt64(10_000)), ("1m", 60_000), ("500ms", 500), ("1h", 3_600_000), ("0", 0), ("2h", 7_200_000), ("+5s", 5_000),
    ])
    func singleUnits(text: String, milliseconds: UInt64) throws {
        #expect(try ConsulDuration.milliseconds(text) == milliseconds)
    }

    @Test("compound and fractional durations add their parts")
    func compoundDurations() throws {
        #expect(try ConsulDuration.milliseconds("1m30s") == 90_000)
        #expect(try ConsulDuration.milliseconds("1h0m5s") == 3_605_000)
        #expect(try ConsulDuration.milliseconds("1.5s") == 1_500)
        #expect(try ConsulDuration.milliseconds("0.25h") == 900_000)
        #expect(try ConsulDuration.parse("250us") == .microseconds(250))
        #expect(try ConsulDuration.parse("1500ns") == .nanoseconds(1_500))
    }

    @Test("sub-millisecond remainders round up, so a non-zero duration never becomes 0 ms")
    func roundsUp() throws {
        #expect(try ConsulDuration.milliseconds("500us") == 1)
        #expect(try ConsulDuration.milliseconds("1001us") == 2)
    }

    @Test("malformed durations are refused with a reason naming the field", arguments: [
        "", "10", "10x", "s", "-5s", "ten seconds", "1.s5", "99999999999999h",
    ])
    func malformed(text: String) {
        let error = #expect(throws: DefinitionError.self) { try ConsulDuration.milliseconds(text, field: "service.check.ttl") }
        #expect(error?.code == .invalidDuration)
        #expect(error?.field == "service.check.ttl")
        #expect(error?.reason.hasPrefix("service.check.ttl: ") == true)
    }

    @Test("formatting writes the shortest usual form", arguments: [
        (UInt64(0), "0s"), (500, "500ms"), (1_500, "1.5s"), (10_000, "10s"), (90_000, "1m30s"), (3_600_000, "1h"),
        (3_605_000, "1h0m5s"), (86_400_000, "24h"), (15_250, "15.25s"),
    ])
    func formats(milliseconds: UInt64, text: String) throws {
        #expect(ConsulDuration.format(milliseconds: milliseconds) == text)
        #expect(try ConsulDuration.milliseconds(text) == milliseconds)
    }
}
