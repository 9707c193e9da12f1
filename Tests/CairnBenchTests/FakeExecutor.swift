import CairnBench
import CairnWire
import Foundation

/// An in-memory executor: a dictionary of keys and modify indices, an optional scripted failure or
/// stall, and a count of calls. Each write takes the next index and is published, in index
/// order, to the given watch hubs.
final class FakeExecutor: BenchmarkExecutor, @unchecked Sendable {
    private let lock = NSLock()
    private var store: [String: UInt64] = [:]
    private var index: UInt64 = 0
    private var calls = 0
    private let hubs: [FakeWatchHub]
    /// How long `put` waits after publishing its write before it returns.
    private let ackDelay: Duration
    /// Called with the 0-based call number; may throw or sleep.
    private let behaviour: @Sendable (Int) async throws -> Void

    init(hubs: [FakeWatchHub] = [], ackDelay: Duration = .zero, behaviour: @escaping @Sendable (Int) async throws -> Void = { _ in }) {
        self.hubs = hubs
        self.ackDelay = ackDelay
        self.behaviour = behaviour
    }

    var callCount: Int { lock.withLock { calls } }

    private func nextCall() -> Int {
        lock.withLock {
            defer { calls += 1 }
            return calls
        }
    }

    /// Takes the next index and publishes the change; the caller holds the lock.
    private func write(_ key: String) -> UInt64 {
        index += 1
        store[key] = index
        for hub in hubs { hub.publish(index: index, key: key) }
        return index
    }

    @discardableResult
    func put(key: String, value: [UInt8]) async throws -> UInt64 {
        try await behaviour(nextCall())
        let written = lock.withLock { write(key) }
        if ackDelay > .zero { try await Task.sleep(for: ackDelay) }
        return written
    }

    func get(key: String, consistency: ReadConsistency) async throws -> UInt64? {
        try await behaviour(nextCall())
        return lock.withLock { store[key] }
    }

    func cas(key: String, value: [UInt8], expectedIndex: UInt64) async throws -> Bool {
        try await behaviour(nextCall())
        return lock.withLock {
            guard (store[key] ?? 0) == expectedIndex else { return false }
            _ = write(key)
            return true
        }
    }

    /// Not counted as a call. Takes an index, as the real deletion does, and publishes nothing.
    func deleteTree(prefix: String) async throws {
        lock.withLock {
            index += 1
            store = store.filter { !$0.key.hasPrefix(prefix) }
            for hub in hubs { hub.advance(to: index) }
        }
    }
}
