#if canImport(Glibc)
import Glibc
#elseif canImport(Darwin)
import Darwin
#endif

/// Runs ranges of seeds and, should the process die inside one (a failed precondition in the
/// Raft core is a trap, not a thrown error), prints which seed and how to replay it first.
public enum SeedSweep {
    nonisolated(unsafe) private static var crashBanner: [UInt8] = []
    nonisolated(unsafe) private static var installed = false

    /// Seeds to run, from the environment: `CAIRN_SIM_SEED=N` replays one seed; otherwise
    /// `CAIRN_SIM_SEEDS=K` (default `defaultCount`) seeds starting at `CAIRN_SIM_FIRST_SEED`
    /// (default 1).
    public static func seedsFromEnvironment(defaultCount: Int) -> ClosedRange<UInt64> {
        func env(_ name: String) -> UInt64? {
            guard let raw = getenv(name) else { return nil }
            return UInt64(String(cString: raw))
        }
        if let one = env("CAIRN_SIM_SEED") { return one...one }
        let count = max(1, env("CAIRN_SIM_SEEDS") ?? UInt64(defaultCount))
        let first = env("CAIRN_SIM_FIRST_SEED") ?? 1
        return first...(first + count - 1)
    }

    /// Runs `options` and returns its report; a trap inside the run prints the seed's replay line.
    public static func run(_ options: SimulationOptions) -> SimulationReport {
        installCrashHandler()
        let banner = "\ncairn simulation crashed in seed \(options.seed) (\(options.nodeCount) nodes); replay: swift run -c release cairn-sim --seed \(options.seed) --nodes \(options.nodeCount) --trace\n"
        crashBanner = Array(banner.utf8)
        let report = Simulation(options: options).run()
        return report
    }

    private static func installCrashHandler() {
        guard !installed else { return }
        installed = true
        for sig in [SIGILL, SIGTRAP, SIGABRT, SIGSEGV] {
            signal(sig) { number in
                SeedSweep.crashBanner.withUnsafeBufferPointer { buffer in
                    _ = write(2, buffer.baseAddress, buffer.count)
                }
                signal(number, SIG_DFL)
                raise(number)
            }
        }
    }
}
