// cairn-wal-bench: how fast the write-ahead log commits batches with a real fdatasync per batch.
//
// For each batch size it appends batches of `--entry-size`-byte entries (plus a hard state, as a
// Raft Ready would) to a fresh log for `--seconds`, and reports batches/s (= fdatasyncs/s),
// entries/s and the append latency distribution.

import CairnRaft
import CairnStorage
import Foundation

#if canImport(Glibc)
import Glibc
#elseif canImport(Musl)
import Musl
#elseif canImport(Darwin)
import Darwin
#endif

struct Configuration {
    var directory: String?
    var entrySize = 256
    var batchSizes = [1, 16, 256]
    var seconds = 3.0
    var preallocation = WriteAheadLog.Options().preallocation
    var segmentSize = 64 << 20
    var json = false
}

struct Result {
    var batchSize: Int
    var batches: Int
    var elapsedSeconds: Double
    var latenciesNanos: [UInt64]  // sorted

    var batchesPerSecond: Double { Double(batches) / elapsedSeconds }
    var entriesPerSecond: Double { batchesPerSecond * Double(batchSize) }
    var meanMicros: Double { Double(latenciesNanos.reduce(0, +)) / Double(max(batches, 1)) / 1000 }
    func percentileMicros(_ p: Double) -> Double {
        guard !latenciesNanos.isEmpty else { return 0 }
        let rank = min(latenciesNanos.count - 1, Int((p / 100 * Double(latenciesNanos.count)).rounded(.up)) - 1)
        return Double(latenciesNanos[max(rank, 0)]) / 1000
    }
}

let usage = """
    usage: cairn-wal-bench --dir DIR [--entry-size BYTES] [--batches N,N,...] [--seconds S]
                           [--preallocate off|on|zero] [--segment-size BYTES[K|M]] [--format text|json]
      --dir          directory to create the logs in (on the disk you want to measure)
      --entry-size   payload bytes per entry (default 256)
      --batches      entries per append, comma-separated (default 1,16,256)
      --seconds      time to run each batch size (default 3)
      --preallocate  off: segments grow; on: posix_fallocate (the default); zero: zero-filled
      --segment-size segment size (default 64M)
      --format       text or json (default text)
    """

func fail(_ message: String) -> Never {
    FileHandle.standardError.write(Data("cairn-wal-bench: \(message) (see --help)\n".utf8))
    exit(2)
}

func parseSize(_ text: String) -> Int? {
    let multiplier: Int
    var digits = Substring(text)
    switch text.last {
    case "K", "k": multiplier = 1 << 10; digits = digits.dropLast()
    case "M", "m": multiplier = 1 << 20; digits = digits.dropLast()
    case "G", "g": multiplier = 1 << 30; digits = digits.dropLast()
    default: multiplier = 1
    }
    guard let value = Int(digits), value > 0, value <= Int(Int32.max) / multiplier else { return nil }
    return value * multiplier
}

func parseArguments(_ arguments: [String]) -> Configuration {
    var configuration = Configuration()
    var remaining = arguments[...]
    while let flag = remaining.popFirst() {
        if flag == "--help" || flag == "-h" {
            print(usage)
            exit(0)
        }
        guard ["--dir", "--entry-size", "--batches", "--seconds", "--preallocate", "--segment-size", "--format"].contains(flag)
        else { fail("unknown flag '\(flag)'") }
        guard let value = remaining.popFirst() else { fail("\(flag) needs a value") }
        switch flag {
        case "--dir":
            configuration.directory = value
        case "--entry-size":
            guard let size = Int(value), (0...(64 << 20)).contains(size) else {
                fail("--entry-size must be an integer in 0...67108864, not '\(value)'")
            }
            configuration.entrySize = size
        case "--batches":
            let sizes = value.split(separator: ",", omittingEmptySubsequences: false).map { Int($0) }
            guard !sizes.isEmpty, sizes.allSatisfy({ ($0 ?? 0) > 0 && $0! <= 1_000_000 }) else {
                fail("--batches must be a comma-separated list of integers in 1...1000000, not '\(value)'")
            }
            configuration.batchSizes = sizes.map { $0! }
        case "--seconds":
            guard let seconds = Double(value), seconds > 0, seconds <= 3600 else {
                fail("--seconds must be a number in (0, 3600], not '\(value)'")
            }
            configuration.seconds = seconds
        case "--preallocate":
            switch value {
            case "off": configuration.preallocation = .off
            case "on": configuration.preallocation = .fallocate
            case "zero": configuration.preallocation = .zeroFill
            default: fail("--preallocate must be off, on or zero, not '\(value)'")
            }
        case "--segment-size":
            guard let size = parseSize(value), size >= 4096 else {
                fail("--segment-size must be a size of at least 4096 bytes (e.g. 65536, 64M), not '\(value)'")
            }
            configuration.segmentSize = size
        case "--format":
            guard value == "text" || value == "json" else { fail("--format must be text or json, not '\(value)'") }
            configuration.json = value == "json"
        default:
            fail("unknown flag '\(flag)'")
        }
    }
    guard configuration.directory != nil else { fail("--dir is required") }
    return configuration
}

func monotonicNanos() -> UInt64 {
    var now = timespec()
    clock_gettime(CLOCK_MONOTONIC, &now)
    return UInt64(now.tv_sec) * 1_000_000_000 + UInt64(now.tv_nsec)
}

func run(batchSize: Int, configuration: Configuration, root: String) throws -> Result {
    let directory = root + "/cairn-wal-bench-\(getpid())-b\(batchSize)"
    defer { try? FileManager.default.removeItem(atPath: directory) }
    let options = WriteAheadLog.Options(segmentSize: configuration.segmentSize, preallocation: configuration.preallocation)
    let (log, _) = try WriteAheadLog.open(directory: directory, options: options)
    defer { try? log.close() }

    var payload = [UInt8](repeating: 0, count: configuration.entrySize)
    for i in payload.indices { payload[i] = UInt8(truncatingIfNeeded: i &* 31 &+ 7) }
    var batch = (0..<batchSize).map { Entry(term: 1, index: LogIndex($0 + 1), kind: .normal, data: payload) }
    var latencies: [UInt64] = []
    latencies.reserveCapacity(1 << 16)
    var next: LogIndex = 1
    let start = monotonicNanos()
    let deadline = start + UInt64(configuration.seconds * 1e9)
    var now = start
    while now < deadline {
        for k in batch.indices { batch[k].index = next + LogIndex(k) }
        try log.append(batch, hardState: HardState(term: 1, vote: 1, commit: next - 1))
        next += LogIndex(batchSize)
        let after = monotonicNanos()
        latencies.append(after - now)
        now = after
    }
    latencies.sort()
    return Result(
        batchSize: batchSize, batches: latencies.count, elapsedSeconds: Double(now - start) / 1e9, latenciesNanos: latencies)
}

func format(_ value: Double, _ decimals: Int = 0) -> String {
    String(format: "%.\(decimals)f", value)
}

let configuration = parseArguments(Array(CommandLine.arguments.dropFirst()))
let root = configuration.directory!
var results: [Result] = []
do {
    try FileManager.default.createDirectory(atPath: root, withIntermediateDirectories: true)
    for size in configuration.batchSizes {
        results.append(try run(batchSize: size, configuration: configuration, root: root))
    }
} catch {
    FileHandle.standardError.write(Data("cairn-wal-bench: \(error)\n".utf8))
    exit(1)
}

let preallocateName = ["off": "off", "fallocate": "on", "zeroFill": "zero"][configuration.preallocation.rawValue]!
if configuration.json {
    let rows = results.map { r in
        "{\"batch\":\(r.batchSize),\"batches\":\(r.batches),\"seconds\":\(format(r.elapsedSeconds, 3)),"
            + "\"batchesPerSecond\":\(format(r.batchesPerSecond, 1)),\"entriesPerSecond\":\(format(r.entriesPerSecond, 1)),"
            + "\"meanMicros\":\(format(r.meanMicros, 1)),\"p50Micros\":\(format(r.percentileMicros(50), 1)),"
            + "\"p99Micros\":\(format(r.percentileMicros(99), 1)),\"maxMicros\":\(format(r.percentileMicros(100), 1))}"
    }
    print(
        "{\"entrySize\":\(configuration.entrySize),\"preallocate\":\"\(preallocateName)\","
            + "\"segmentSize\":\(configuration.segmentSize),\"results\":[\(rows.joined(separator: ","))]}")
} else {
    print(
        "cairn-wal-bench: entry size \(configuration.entrySize) B, preallocate \(preallocateName), "
            + "segment \(configuration.segmentSize) B, \(format(configuration.seconds, 1)) s per batch size, dir \(root)")
    let header = ["batch", "batches/s", "entries/s", "MB/s", "mean us", "p50 us", "p99 us", "max us"]
    print(header.map { $0.padding(toLength: 11, withPad: " ", startingAt: 0) }.joined())
    for r in results {
        let megabytes = r.entriesPerSecond * Double(configuration.entrySize) / 1e6
        let cells = [
            "\(r.batchSize)", format(r.batchesPerSecond), format(r.entriesPerSecond), format(megabytes, 1),
            format(r.meanMicros, 1), format(r.percentileMicros(50), 1), format(r.percentileMicros(99), 1),
            format(r.percentileMicros(100), 1),
        ]
        print(cells.map { $0.padding(toLength: 11, withPad: " ", startingAt: 0) }.joined())
    }
}
