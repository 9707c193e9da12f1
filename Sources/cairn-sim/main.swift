import CairnSimulation

#if canImport(Glibc)
import Glibc
#elseif canImport(Darwin)
import Darwin
#endif

// cairn-sim: replays or sweeps deterministic simulations of the Raft core.
//
//   cairn-sim --seed 1234 [--nodes 3|5] [--trace]     replay one seed, printing its trace
//   cairn-sim --seeds 1-2000 [--nodes 3|5]             sweep a range, print failures only

func usage(_ problem: String) -> Never {
    let text = "cairn-sim: \(problem)\nusage: cairn-sim (--seed N | --seeds A-B) [--nodes 3|5] [--trace] [--ticks N]\n"
    _ = text.withCString { write(2, $0, strlen($0)) }
    exit(2)
}

var seeds: ClosedRange<UInt64>? = nil
var nodeCount = 3
var trace = false
var ticks: Int? = nil
var args = CommandLine.arguments.dropFirst()
while let arg = args.popFirst() {
    switch arg {
    case "--seed":
        guard let v = args.popFirst(), let n = UInt64(v) else { usage("--seed takes a whole number") }
        seeds = n...n
    case "--seeds":
        guard let v = args.popFirst() else { usage("--seeds takes a range like 1-2000") }
        let parts = v.split(separator: "-")
        guard parts.count == 2, let a = UInt64(parts[0]), let b = UInt64(parts[1]), a <= b else {
            usage("--seeds takes a range like 1-2000, got '\(v)'")
        }
        seeds = a...b
    case "--nodes":
        guard let v = args.popFirst(), let n = Int(v), n == 3 || n == 5 else { usage("--nodes takes 3 or 5") }
        nodeCount = n
    case "--ticks":
        guard let v = args.popFirst(), let n = Int(v), n > 0 else { usage("--ticks takes a positive number") }
        ticks = n
    case "--trace":
        trace = true
    case "-h", "--help":
        print("usage: cairn-sim (--seed N | --seeds A-B) [--nodes 3|5] [--trace] [--ticks N]")
        exit(0)
    default:
        usage("unknown argument '\(arg)'")
    }
}
guard let range = seeds else { usage("give --seed N or --seeds A-B") }

var failures = 0
var appliedBeforeDurable = 0
for seed in range {
    var options = SimulationOptions(seed: seed, nodeCount: nodeCount)
    options.trace = trace
    if let ticks { options.faultTicks = ticks }
    let report = Simulation(options: options).run()
    appliedBeforeDurable += report.appliedBeforeDurable
    if trace {
        if let profile = report.profile { print("profile: \(profile)") }
        report.trace.forEach { print($0) }
    }
    if !report.passed {
        failures += 1
        print("seed \(seed) (\(nodeCount) nodes) FAILED:")
        report.violations.forEach { print("  \($0)") }
        print("  replay: \(report.replayCommand)")
    } else if range.count == 1 {
        print("seed \(seed) (\(nodeCount) nodes) passed: \(report.acknowledged) writes acknowledged, \(report.readsChecked) reads checked, \(report.leadersElected) leaders, \(report.crashes) crashes, \(report.snapshotsInstalled) snapshots installed, \(report.membershipChanges) membership changes, \(report.appliedBeforeDurable) entries applied before durable here, final index \(report.finalIndex)")
    }
}
if range.count > 1 { print("\(range.count - failures) passed, \(failures) failed; \(appliedBeforeDurable) entries applied before they were durable on the node applying them") }
exit(failures == 0 ? 0 : 1)
