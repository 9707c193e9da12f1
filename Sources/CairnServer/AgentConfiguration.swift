import Foundation
import NIOCore

/// Everything `cairn agent` needs to run, from flags and an optional JSON config file (flags win).
///
/// JSON keys follow Consul's: `server`, `bootstrap_expect`, `node_name`, `data_dir`, `bind_addr`
/// (host:port of the peer listener), `client_addr` (host:port of the client listener),
/// `retry_join` (list of host:port), `datacenter`, `ca_file`, `cert_file`, `key_file`,
/// `log_level`; plus Cairn's `tick_ms`, `election_ticks`, `heartbeat_ticks`, `snapshot_every`.
public struct AgentConfiguration: Sendable, Hashable {
    public var server = true
    public var dev = false
    public var bootstrapExpect = 0
    public var nodeName = ""
    public var dataDirectory = ""
    public var bindAddress = "127.0.0.1:8300"
    public var clientAddress = "127.0.0.1:8500"
    public var retryJoin: [String] = []
    public var datacenter = "dc1"
    public var caFile = ""
    public var certFile = ""
    public var keyFile = ""
    public var logLevel = "info"
    /// Real milliseconds per Raft tick.
    public var tickMilliseconds = 50
    /// Election timeout in ticks (each node draws its own from `[n, 2n)`).
    public var electionTicks = 6
    /// Heartbeat interval in ticks.
    public var heartbeatTicks = 1
    /// Snapshot and compact after this many applied entries.
    public var snapshotEvery: UInt64 = 8_192
    /// Event-loop threads serving client connections; 0 serves them on the consensus thread
    /// itself. nil (the default) chooses from the machine: 0 with two cores or fewer, else 2.
    /// See ``effectiveClientThreads``.
    public var clientThreads: Int?

    /// The accepted values of ``clientThreads``.
    public static let clientThreadsRange = 0...64

    private static var clientThreadsRule: String {
        "must be between \(clientThreadsRange.lowerBound) and \(clientThreadsRange.upperBound)"
    }

    /// The client threads the agent runs: ``clientThreads``, or the machine's default.
    ///
    /// Why 0 on small machines: each client request otherwise crosses from a client thread to
    /// the consensus thread and its answer back, two hand-offs that each cost a wake-up and two
    /// context switches. With two cores a separate client thread cannot run beside the
    /// consensus thread and the peers for long anyway; measured on a 2-core VM, serving clients
    /// on the consensus thread cut a single client's put p50 by ~7% and cost nothing in
    /// throughput (Benchmarks/README.md). With more cores, client threads take the TLS work of
    /// many connections off the consensus thread.
    public var effectiveClientThreads: Int {
        clientThreads ?? (System.coreCount <= 2 ? 0 : 2)
    }

    public init() {}

    /// A configuration error: one clear line for the user.
    public struct Problem: Error, CustomStringConvertible, Hashable {
        public var description: String
        public init(_ description: String) { self.description = description }
    }

    /// Merges the settings of a JSON config file under the current ones (call before applying flags).
    public mutating func load(file path: String) throws {
        guard let data = FileManager.default.contents(atPath: path) else {
            throw Problem("config file \(path) cannot be read")
        }
        let object: Any
        do {
            object = try JSONSerialization.jsonObject(with: data)
        } catch {
            throw Problem("config file \(path) is not valid JSON: \(error.localizedDescription)")
        }
        guard let dict = object as? [String: Any] else { throw Problem("config file \(path) must hold a JSON object") }
        func string(_ key: String) throws -> String? {
            guard let value = dict[key] else { return nil }
            guard let s = value as? String else { throw Problem("config file \(path): \(key) must be a string") }
            return s
        }
        func int(_ key: String) throws -> Int? {
            guard let value = dict[key] else { return nil }
            guard let n = value as? Int, !(value is Bool) else { throw Problem("config file \(path): \(key) must be a whole number") }
            return n
        }
        let known: Set<String> = ["server", "bootstrap_expect", "node_name", "data_dir", "bind_addr", "client_addr", "retry_join",
                                  "datacenter", "ca_file", "cert_file", "key_file", "log_level", "tick_ms", "election_ticks",
                                  "heartbeat_ticks", "snapshot_every", "client_threads"]
        if let unknown = dict.keys.sorted().first(where: { !known.contains($0) }) {
            throw Problem("config file \(path): unknown setting \"\(unknown)\"")
        }
        if let value = dict["server"] {
            guard let b = value as? Bool else { throw Problem("config file \(path): server must be true or false") }
            server = b
        }
        if let n = try int("bootstrap_expect") { bootstrapExpect = n }
        if let s = try string("node_name") { nodeName = s }
        if let s = try string("data_dir") { dataDirectory = s }
        if let s = try string("bind_addr") { bindAddress = s }
        if let s = try string("client_addr") { clientAddress = s }
        if let value = dict["retry_join"] {
            guard let list = value as? [String] else { throw Problem("config file \(path): retry_join must be a list of strings") }
            retryJoin = list
        }
        if let s = try string("datacenter") { datacenter = s }
        if let s = try string("ca_file") { caFile = s }
        if let s = try string("cert_file") { certFile = s }
        if let s = try string("key_file") { keyFile = s }
        if let s = try string("log_level") { logLevel = s }
        if let n = try int("tick_ms") { tickMilliseconds = n }
        if let n = try int("election_ticks") { electionTicks = n }
        if let n = try int("heartbeat_ticks") { heartbeatTicks = n }
        if let n = try int("snapshot_every") { snapshotEvery = UInt64(max(0, n)) }
        if let n = try int("client_threads") {
            guard Self.clientThreadsRange.contains(n) else {
                throw Problem("config file \(path): client_threads \(Self.clientThreadsRule), got \(n)")
            }
            clientThreads = n
        }
    }

    /// Checks every setting; the first problem found is thrown.
    public func validate() throws {
        guard server else { throw Problem("only server agents are supported so far: pass --server (or --dev)") }
        guard !dataDirectory.isEmpty else { throw Problem("--data-dir is required") }
        guard !nodeName.isEmpty else { throw Problem("--node is required") }
        guard datacenter.range(of: "^[a-z0-9][a-z0-9-]*$", options: .regularExpression) != nil else {
            throw Problem("--datacenter \"\(datacenter)\" must be lower-case letters, digits and dashes")
        }
        guard (0...9).contains(bootstrapExpect) else { throw Problem("--bootstrap-expect must be between 0 and 9, got \(bootstrapExpect)") }
        _ = try HostPort.parse(bindAddress, flag: "--bind")
        _ = try HostPort.parse(clientAddress, flag: "--client-addr")
        for peer in retryJoin { _ = try HostPort.parse(peer, flag: "--retry-join") }
        for (flag, file) in [("--ca-file", caFile), ("--cert-file", certFile), ("--key-file", keyFile)] {
            guard !file.isEmpty else { throw Problem("\(flag) is required (mutual TLS is always on)") }
            guard FileManager.default.isReadableFile(atPath: file) else { throw Problem("\(flag) \(file) cannot be read") }
        }
        guard (1...10_000).contains(tickMilliseconds) else { throw Problem("tick_ms must be between 1 and 10000") }
        guard electionTicks >= 2 * heartbeatTicks + 1, heartbeatTicks >= 1 else {
            throw Problem("election_ticks (\(electionTicks)) must exceed twice heartbeat_ticks (\(heartbeatTicks))")
        }
        if let clientThreads, !Self.clientThreadsRange.contains(clientThreads) {
            throw Problem("--client-threads \(Self.clientThreadsRule), got \(clientThreads)")
        }
        guard ["trace", "debug", "info", "notice", "warning", "error", "critical"].contains(logLevel) else {
            throw Problem("--log-level must be one of trace, debug, info, notice, warning, error, critical")
        }
    }
}

/// A `host:port` pair.
public struct HostPort: Sendable, Hashable, CustomStringConvertible {
    public var host: String
    public var port: Int

    public init(host: String, port: Int) {
        self.host = host
        self.port = port
    }

    /// Parses `host:port` (IPv6 as `[::1]:8300`).
    public static func parse(_ text: String, flag: String) throws -> HostPort {
        var host = Substring(text)
        var portText: Substring
        if host.hasPrefix("[") {
            guard let close = host.firstIndex(of: "]"), host[host.index(after: close)...].hasPrefix(":") else {
                throw AgentConfiguration.Problem("\(flag) \"\(text)\" is not host:port")
            }
            portText = host[host.index(close, offsetBy: 2)...]
            host = host[host.index(after: host.startIndex)..<close]
        } else {
            guard let colon = host.lastIndex(of: ":") else { throw AgentConfiguration.Problem("\(flag) \"\(text)\" is not host:port") }
            portText = host[host.index(after: colon)...]
            host = host[..<colon]
        }
        guard !host.isEmpty, let port = Int(portText), (0...65_535).contains(port) else {
            throw AgentConfiguration.Problem("\(flag) \"\(text)\" is not host:port with a port from 0 to 65535")
        }
        return HostPort(host: String(host), port: port)
    }

    public var description: String { host.contains(":") ? "[\(host)]:\(port)" : "\(host):\(port)" }
}
