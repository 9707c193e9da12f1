import CairnRaft

/// A deterministic state machine replicated by Raft: every server applies the same committed
/// entries in the same order and so holds the same state.
///
/// Implementations must be deterministic — the result and the new state depend only on the
/// current state and the entry (no clock, no randomness, no IO) — and `snapshot()` followed by
/// `restore(_:)` on a fresh instance must reproduce the state exactly.
public protocol ReplicatedStateMachine {
    /// The index of the last entry applied (or restored from a snapshot).
    var appliedIndex: LogIndex { get }

    /// Applies one committed entry and returns the result for the client that proposed it.
    /// Called for every committed entry, in index order, exactly once per entry per state.
    /// Entries of kind `.empty` and `.membership` carry no command but still advance the index.
    mutating func apply(_ entry: Entry) -> [UInt8]

    /// Serializes the whole state as of `appliedIndex`.
    func snapshot() -> [UInt8]

    /// Replaces the whole state with a snapshot taken at `index`.
    mutating func restore(_ snapshot: [UInt8], at index: LogIndex) throws
}

/// A failure to restore a state machine from snapshot bytes.
public struct StateMachineError: Error, Hashable, CustomStringConvertible {
    /// An opaque kind of failure; equality compares only this.
    public struct Code: Hashable, Sendable {
        let raw: String
        /// The snapshot bytes do not decode.
        public static let malformedSnapshot = Code(raw: "malformedSnapshot")
        /// A snapshot section names a module this build does not have.
        public static let unknownModule = Code(raw: "unknownModule")
    }

    /// What kind of failure.
    public var code: Code
    /// A human explanation.
    public var reason: String

    /// Creates an error.
    public init(_ code: Code, _ reason: String) {
        self.code = code
        self.reason = reason
    }

    public var description: String { "state machine: \(reason)" }

    public static func == (lhs: StateMachineError, rhs: StateMachineError) -> Bool { lhs.code == rhs.code }
    public func hash(into hasher: inout Hasher) { hasher.combine(code) }
}
