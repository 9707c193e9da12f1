import CairnSimulation
import CairnTestSupport
import Testing

/// The simulation itself: determinism, and that it actually exercises what it claims to. The runs
/// are CPU-bound, so they run in the background (``inBackground(oneOf:_:)``).
@Suite("Simulation sanity")
struct SimulationSanityTests {
    @Test("the same seed replays the same run exactly")
    func sameSeedSameRun() async {
        await inBackground {
            var options = SimulationOptions(seed: 42, nodeCount: 5)
            options.trace = true
            let a = Simulation(options: options).run()
            let b = Simulation(options: options).run()
            #expect(a.trace == b.trace)
            #expect(a.trace.count > 1_000)
        }
    }

    @Test("different seeds take different paths")
    func differentSeedsDiffer() async {
        await inBackground {
            var one = SimulationOptions(seed: 1)
            one.trace = true
            var two = SimulationOptions(seed: 2)
            two.trace = true
            #expect(Simulation(options: one).run().trace != Simulation(options: two).run().trace)
        }
    }

    @Test("a sweep exercises crashes, elections, snapshots, membership changes and reads")
    func faultsAreExercised() async {
        await inBackground {
            var crashes = 0, leaders = 0, snapshots = 0, changes = 0, reads = 0
            for seed in UInt64(1)...40 {
                let report = Simulation(options: SimulationOptions(seed: seed, nodeCount: 3)).run()
                #expect(report.passed)
                crashes += report.crashes
                leaders += report.leadersElected
                snapshots += report.snapshotsInstalled
                changes += report.membershipChanges
                reads += report.readsChecked
            }
            #expect(crashes > 40)
            #expect(leaders > 80)
            #expect(snapshots > 10)
            #expect(changes > 40)
            #expect(reads > 200)
        }
    }
}

