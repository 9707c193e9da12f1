import ArgumentParser
import CairnBench
import CairnClient
import Foundation

/// `cairn bench`: a load generator driving a cluster through the client library.
///
/// The flags are read as strings and parsed by ``BenchmarkFlags``, so that every bad value (and
/// any unknown flag) ends as one line on standard error and exit code 2.
struct BenchCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "bench",
        abstract: "Generate load against a cluster and report throughput and latency.",
        discussion: """
            Closed loop by default (each client sends when its last request answered); --rate makes it open loop, with latency measured from each request's scheduled time. The watch workload opens --watchers watches on bench/ (spread over the connections), waits for all of them, then writes, and reports the delay from each write's acknowledgement to each watcher receiving it. Bad flags exit with code 2; a run that cannot reach the cluster, or whose watchers did not receive every write, exits with code 1. See Benchmarks/bench/README.md.

              cairn bench --workload put --clients 32 --duration 5s
              cairn bench --workload mixed --read-ratio 0.9 --rate 2000 --format json
              cairn bench --workload watch --watchers 10000 --clients 10 --connections 10 --duration 10s
            """
    )

    /// The exit code of every refused flag.
    static let badInputExitCode = ExitCode(2)

    @OptionGroup var connection: ConnectionOptions
    @Option(help: "put, get, stale-get, cas, mixed or watch.") var workload: String = "put"
    @Option(help: "The fraction of reads in the mixed workload.") var readRatio: String = "0.9"
    @Option(help: "Concurrent requesters.") var clients: String = "16"
    @Option(help: "Client connections; requesters (and watchers) are spread over them.") var connections: String = "1"
    @Option(help: "Watches on bench/ for the watch workload, 1-20000 (default 1000).") var watchers: String?
    @Option(help: "Value size in bytes.") var valueSize: String = "256"
    @Option(help: "Distinct keys (bench/0 …).") var keySpace: String = "10000"
    @Option(help: "uniform or zipf (s=0.99).") var keyDistribution: String = "uniform"
    @Option(help: "Measured phase length, e.g. 500ms, 10s, 2m (default 10s unless --requests is given).") var duration: String?
    @Option(help: "Measured requests to send; with --duration, whichever comes first.") var requests: String?
    @Option(help: "Unmeasured warmup before the measured phase.") var warmup: String = "1s"
    @Option(help: "Open loop at this many requests/s in all (default: closed loop).") var rate: String?
    @Option(help: "Seed for key choice and values.") var seed: String = "1"
    @Option(help: "text or json.") var format: String = "text"
    @Option(help: "Write the full latency distribution (percentiles, ms) to this file.") var histogramOut: String?
    @Argument(parsing: .allUnrecognized, help: .hidden) var unrecognized: [String] = []

    func refuse(_ message: String) -> ExitCode {
        StandardStreams.error("cairn bench: \(message)\n")
        return Self.badInputExitCode
    }

    func run() async throws {
        if let first = unrecognized.first { throw refuse("unknown flag or argument '\(first)'") }
        var flags = BenchmarkFlags()
        flags.workload = workload
        flags.readRatio = readRatio
        flags.clients = clients
        flags.valueSize = valueSize
        flags.keySpace = keySpace
        flags.keyDistribution = keyDistribution
        flags.duration = duration
        flags.requests = requests
        flags.warmup = warmup
        flags.rate = rate
        flags.seed = seed
        flags.watchers = watchers
        let config: BenchmarkConfiguration
        do { config = try flags.configuration() } catch { throw refuse(error.description) }
        guard let connectionCount = Int(connections), (1...64).contains(connectionCount) else {
            throw refuse("--connections: must be an integer between 1 and 64")
        }
        guard format == "text" || format == "json" else { throw refuse("--format: '\(format)' is not one of text, json") }
        let clientConfiguration: ClientConfiguration
        do { clientConfiguration = try connection.configuration() } catch { throw refuse("\(error)") }

        var clientList: [CairnClient] = []
        do {
            // Connection i lists the servers starting at the i-th, so the connections' watch
            // streams (each client starts them on the second server it lists) spread over the
            // whole cluster, as etcd's benchmark spreads its connections. Requests still find
            // and follow the leader.
            for i in 0..<connectionCount {
                var rotated = clientConfiguration
                let addresses = clientConfiguration.addresses
                rotated.addresses = Array(addresses[(i % addresses.count)...] + addresses[..<(i % addresses.count)])
                clientList.append(try CairnClient(configuration: rotated))
            }
        } catch let error as CairnClientError {
            for client in clientList { await client.close() }
            throw refuse(error.reason)
        }
        let clientsToClose = clientList
        func closeAll() async { for client in clientsToClose { await client.close() } }

        // One cheap request per connection first, so a cluster that cannot be reached is one clear
        // error instead of a run full of failures.
        for client in clientList {
            do {
                _ = try await client.get(BenchmarkRunner.key(0), consistency: .stale)
            } catch let error as CairnClientError {
                await closeAll()
                fail("cannot reach the cluster: \(error.reason)", code: 1)
            }
        }

        let live = isatty(STDOUT_FILENO) == 1
        let executors = clientList.map { CairnClientExecutor(client: $0) }
        let runner = BenchmarkRunner(configuration: config, executors: executors, watchSources: executors)
        let result: BenchmarkResult
        do {
            result = try await runner.run(progress: live ? Self.printProgress : nil)
        } catch {
            await closeAll()
            if live { StandardStreams.output("\r\u{1B}[2K") }
            fail("\(error)", code: 1)
        }
        await closeAll()
        if live { StandardStreams.output("\r\u{1B}[2K") }
        print(format == "json" ? result.summary.json() : result.summary.text())
        if let histogramOut {
            do {
                try Data(result.percentileDistribution().utf8).write(to: URL(fileURLWithPath: histogramOut))
            } catch {
                fail("cannot write \(histogramOut): \(error.localizedDescription)", code: 1)
            }
        }
        if let watch = result.summary.watch {
            if watch.missed > 0 {
                fail("the watchers skipped \(watch.missed) of \(watch.eventsExpected) events", code: 1)
            }
            if watch.undelivered > 0 {
                fail("\(watch.undelivered) of \(watch.eventsExpected) events had not reached their watchers "
                     + "\(String(format: "%.1f", watch.drainSeconds)) s after the last write", code: 1)
            }
        }
    }

    @Sendable static func printProgress(_ p: BenchmarkProgress) {
        let seconds = p.elapsed.components.seconds
        let line = p.warmingUp || p.operations == 0
            ? String(format: "[%3llds] warmup  %9.1f ops/s", seconds, p.requestsPerSecond)
            : String(format: "[%3llds] %9.1f ops/s  p50 %8.3f ms  p99 %8.3f ms  errors %d",
                     seconds, p.requestsPerSecond, p.p50Milliseconds, p.p99Milliseconds, p.errors)
        StandardStreams.output("\r\u{1B}[2K\(line)")
    }
}
