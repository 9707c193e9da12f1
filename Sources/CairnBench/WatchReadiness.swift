import Foundation

/// Counts the `watch` workload's watchers that are ready (received their snapshot) or failed
/// before that, so the runner can wait for all of them without scanning every watcher.
final class WatchReadiness: @unchecked Sendable {
    private let lock = NSLock()
    private var _ready = 0
    private var _failed = 0
    private var _firstFailure: String?

    func markReady() { lock.withLock { _ready += 1 } }

    func markFailed(watcher: Int, reason: String) {
        lock.withLock {
            _failed += 1
            if _firstFailure == nil { _firstFailure = "watcher \(watcher): \(reason)" }
        }
    }

    /// Ready watchers, watchers that failed before their snapshot, and the first failure.
    var counts: (ready: Int, failed: Int, firstFailure: String?) { lock.withLock { (_ready, _failed, _firstFailure) } }
}
