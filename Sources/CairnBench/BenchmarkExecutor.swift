import CairnWire

/// What the runner sends requests through: the real client library (``CairnClientExecutor``) or a
/// fake in tests. One executor is shared by several concurrent requesters, so every method may be
/// called concurrently.
///
/// A failure is thrown; throw ``BenchmarkRequestError`` to say what kind it was (anything else is
/// counted as ``BenchmarkErrorKind/other``). "Key not found" and "CAS index moved" are results.
public protocol BenchmarkExecutor: Sendable {
    /// Writes `key` unconditionally; returns the Raft index of the write.
    @discardableResult
    func put(key: String, value: [UInt8]) async throws -> UInt64
    /// Reads `key`; returns its modify index, or nil when it does not exist.
    func get(key: String, consistency: ReadConsistency) async throws -> UInt64?
    /// Writes `key` only if its modify index equals `expectedIndex` (0: only if absent);
    /// returns whether it applied.
    func cas(key: String, value: [UInt8], expectedIndex: UInt64) async throws -> Bool
    /// Deletes every key starting with `prefix` (absent keys are fine).
    func deleteTree(prefix: String) async throws
    /// Where the requesters using this executor should run, if it has a preference (the client
    /// library's connection thread); nil runs them on Swift's global pool.
    var taskExecutor: (any TaskExecutor)? { get }
}

extension BenchmarkExecutor {
    /// No preference.
    public var taskExecutor: (any TaskExecutor)? { nil }
}

/// The kinds of failed request the summary counts separately.
public enum BenchmarkErrorKind: String, Sendable, Hashable, CaseIterable, Codable {
    /// No answer within the client's request timeout.
    case timeout
    /// Every attempt met "not the leader" or "no leader" until the client gave up.
    case leaderUnavailable = "leader-unavailable"
    /// No server could be reached.
    case unreachable
    /// A write's connection dropped after it was sent: it may or may not have applied.
    case outcomeUnknown = "outcome-unknown"
    /// The server refused the request with an error.
    case server
    /// Anything else.
    case other
}

/// A failed request, with its kind. Compare by `kind`.
public struct BenchmarkRequestError: Error, Hashable, CustomStringConvertible {
    /// What kind of failure it was; the summary counts it under this kind.
    public var kind: BenchmarkErrorKind
    /// What happened, for a human.
    public var reason: String

    /// Creates the error.
    public init(_ kind: BenchmarkErrorKind, _ reason: String) {
        self.kind = kind
        self.reason = reason
    }

    /// `kind: reason`.
    public var description: String { "\(kind.rawValue): \(reason)" }

    /// Errors are equal when they are of the same kind, whatever the reason.
    public static func == (lhs: Self, rhs: Self) -> Bool { lhs.kind == rhs.kind }
    /// Hashes the kind only, consistently with `==`.
    public func hash(into hasher: inout Hasher) { hasher.combine(kind) }
}
