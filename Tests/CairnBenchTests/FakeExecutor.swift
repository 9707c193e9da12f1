import CairnBench
import CairnWire
import Foundation

/// An in-memory executor: a dictionary of keys and modify indices, an optional scripted failure or
/// stall, and a count of calls.
final class FakeExecutor: BenchmarkExecutor, @unchecked Sendable {
    private let lock = NSLock()
    private var store: [String: UInt64] = [:]
    private var index: UInt64 = 0
    private var calls = 0
    /// Called with the 0-based call number; may throw or sleep.
    private let behaviour: @Sendable (Int) async throws -> Void

    init(behaviour: @escaping @Sendable (Int) async throws -> Void = { _ in }) {
        self.behaviour = behaviour
    }

    var callCount: Int { lock.withLock { calls } }

    private func nextCall() -> Int {
        lock.withLock {
            defer { calls += 1 }
            return calls
        }
    }

    func put(key: String, value: [UInt8]) async throws {
        try await behaviour(nextCall())
        lock.withLock {
            index += 1
            store[key] = index
        }
    }

    func get(key: String, consistency: ReadConsistency) async throws -> UInt64? {
        try await behaviour(nextCall())
        return lock.withLock { store[key] }
    }

    func cas(key: String, value: [UInt8], expectedIndex: UInt64) async throws -> Bool {
        try await behaviour(nextCall())
        return lock.withLock {
            guard (store[key] ?? 0) == expectedIndex else { return false }
            index += 1
            store[key] = index
            return true
        }
    }
}
