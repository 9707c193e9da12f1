/// Where the `watch` workload's watchers come from: the client library (``CairnClientExecutor``,
/// whose client multiplexes all its watches over one connection) or a fake in tests. One source
/// serves many watchers, so ``watch(prefix:)`` may be called concurrently.
public protocol BenchmarkWatchSource: Sendable {
    /// A watch of every key starting with `prefix`, from index 0: its first event is a snapshot
    /// of the prefix (``WatchEvent/Payload/keys(_:snapshot:)`` with `snapshot: true`), then one
    /// event per later index that changed a key under it. Nothing need be sent before it is
    /// iterated.
    func watch(prefix: String) -> any BenchmarkWatch
    /// Where the watchers of this source should run, if it has a preference (the client
    /// library's connection thread); nil runs them on Swift's global pool.
    var watchTaskExecutor: (any TaskExecutor)? { get }
}

extension BenchmarkWatchSource {
    /// No preference.
    public var watchTaskExecutor: (any TaskExecutor)? { nil }
}
