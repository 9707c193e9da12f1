import CairnBench
import Testing

@Suite struct BenchmarkFlagsTests {
    @Test func noFlagsGiveTheDocumentedDefaults() throws {
        let c = try BenchmarkFlags().configuration()
        #expect(c.workload == .put)
        #expect(c.clients == 16)
        #expect(c.valueSize == 256)
        #expect(c.keySpace == 10_000)
        #expect(c.keyDistribution == .uniform)
        #expect(c.duration == .seconds(10))
        #expect(c.requests == nil)
        #expect(c.warmup == .seconds(1))
        #expect(c.rate == nil)
        #expect(c.readRatio == 0.9)
        #expect(c.watchers == 1000)
    }

    @Test func watchersAreParsedForTheWatchWorkload() throws {
        var f = BenchmarkFlags()
        f.workload = "watch"
        f.watchers = "20000"
        let c = try f.configuration()
        #expect(c.workload == .watch)
        #expect(c.watchers == 20_000)
    }

    @Test func everyFlagIsParsed() throws {
        var f = BenchmarkFlags()
        f.workload = "stale-get"
        f.readRatio = "0.5"
        f.clients = "32"
        f.valueSize = "1024"
        f.keySpace = "500"
        f.keyDistribution = "zipf"
        f.requests = "1000"
        f.warmup = "250ms"
        f.rate = "1500.5"
        f.seed = "9"
        let c = try f.configuration()
        #expect(c.workload == .staleGet)
        #expect(c.readRatio == 0.5)
        #expect(c.clients == 32)
        #expect(c.valueSize == 1024)
        #expect(c.keySpace == 500)
        #expect(c.keyDistribution == .zipf)
        #expect(c.requests == 1000)
        #expect(c.duration == nil, "--requests alone replaces the default duration")
        #expect(c.warmup == .milliseconds(250))
        #expect(c.rate == 1500.5)
        #expect(c.seed == 9)
    }

    @Test func requestsAndDurationTogetherKeepBoth() throws {
        var f = BenchmarkFlags()
        f.requests = "10"
        f.duration = "2m"
        let c = try f.configuration()
        #expect(c.requests == 10)
        #expect(c.duration == .seconds(120))
    }

    @Test(arguments: [("500ms", Duration.milliseconds(500)), ("10s", .seconds(10)), ("1.5m", .seconds(90)), ("1h", .seconds(3600)), ("3", .seconds(3))])
    func durationsAreParsed(text: String, expected: Duration) throws {
        #expect(try BenchmarkFlags.duration(text, "--duration") == expected)
    }

    static func flags(_ set: (inout BenchmarkFlags) -> Void) -> BenchmarkFlags {
        var f = BenchmarkFlags()
        set(&f)
        return f
    }

    static let badFlags: [(String, BenchmarkFlags)] = [
        ("--workload", flags { $0.workload = "scan" }),
        ("--read-ratio", flags { $0.readRatio = "1.5" }),
        ("--read-ratio", flags { $0.readRatio = "lots" }),
        ("--clients", flags { $0.clients = "0" }),
        ("--clients", flags { $0.clients = "four" }),
        ("--value-size", flags { $0.valueSize = "-1" }),
        ("--key-space", flags { $0.keySpace = "0" }),
        ("--key-distribution", flags { $0.keyDistribution = "pareto" }),
        ("--duration", flags { $0.duration = "10 parsecs" }),
        ("--duration", flags { $0.duration = "0s" }),
        ("--duration", flags { $0.duration = "-5s" }),
        ("--requests", flags { $0.requests = "0" }),
        ("--warmup", flags { $0.warmup = "soon" }),
        ("--rate", flags { $0.rate = "0" }),
        ("--rate", flags { $0.rate = "inf" }),
        ("--seed", flags { $0.seed = "-1" }),
        ("--watchers", flags { $0.workload = "watch"; $0.watchers = "0" }),
        ("--watchers", flags { $0.workload = "watch"; $0.watchers = "20001" }),
        ("--watchers", flags { $0.workload = "watch"; $0.watchers = "lots" }),
        ("--watchers", flags { $0.watchers = "10" }),
        ("--watchers", flags { $0.workload = "put"; $0.watchers = "10" }),
    ]

    @Test(arguments: badFlags)
    func aBadFlagIsRefusedNamingTheFlag(flag: String, flags: BenchmarkFlags) {
        #expect(throws: BenchmarkConfigurationError(flag: flag, reason: "")) { try flags.configuration() }
    }
}
