import CairnRaft

/// A tiny state machine for tests and simulations: it records every command it applies (with
/// the entry's index and term) and a running digest of them, so two replicas can be compared
/// exactly and double or missing applications are visible.
public struct RecordingStateMachine: ReplicatedStateMachine, Sendable, Hashable {
    /// One applied command.
    public struct Record: Sendable, Hashable {
        /// The entry's index.
        public var index: LogIndex
        /// The entry's term.
        public var term: Term
        /// The command bytes.
        public var command: [UInt8]
    }

    /// Every normal entry applied, in order.
    public private(set) var records: [Record] = []
    /// The index of the last entry applied.
    public private(set) var appliedIndex: LogIndex = 0
    /// Problems seen while applying (an entry applied out of order or twice); empty when healthy.
    public private(set) var anomalies: [String] = []
    /// An FNV-1a digest over every record applied.
    public private(set) var digest: UInt64 = 0xcbf2_9ce4_8422_2325

    /// Creates an empty state machine.
    public init() {}

    /// Records the entry. Returns the number of commands applied so far, little-endian.
    public mutating func apply(_ entry: Entry) -> [UInt8] {
        if entry.index != appliedIndex + 1 {
            anomalies.append("applied index \(entry.index) after \(appliedIndex): a gap or a repeat")
        }
        appliedIndex = entry.index
        if entry.kind == .normal {
            records.append(Record(index: entry.index, term: entry.term, command: entry.data))
            mix(entry.index)
            mix(entry.term)
            for byte in entry.data { mix(UInt64(byte)) }
        }
        return withUnsafeBytes(of: UInt64(records.count).littleEndian) { Array($0) }
    }

    private mutating func mix(_ value: UInt64) {
        digest = (digest ^ value) &* 0x0000_0100_0000_01B3
    }

    /// `u64 appliedIndex, u64 digest, u32 count, (u64 index, u64 term, bytes command)...`,
    /// written with ``BinaryWriter``.
    public func snapshot() -> [UInt8] {
        var w = BinaryWriter(capacity: 24 + records.count * 24)
        w.write(appliedIndex)
        w.write(digest)
        w.write(UInt32(records.count))
        for r in records {
            w.write(r.index)
            w.write(r.term)
            w.write(bytes: r.command)
        }
        return w.bytes
    }

    public mutating func restore(_ snapshot: [UInt8], at index: LogIndex) throws {
        var r = BinaryReader(snapshot[...])
        guard let applied = r.read(UInt64.self), let digest = r.read(UInt64.self), let count = r.read(UInt32.self) else {
            throw StateMachineError(.malformedSnapshot, "recording snapshot header truncated")
        }
        var records: [Record] = []
        for n in 0..<count {
            guard let i = r.read(UInt64.self), let t = r.read(UInt64.self), let command = r.readBytes() else {
                throw StateMachineError(.malformedSnapshot, "recording snapshot record \(n) of \(count) is truncated")
            }
            records.append(Record(index: i, term: t, command: command))
        }
        guard r.isAtEnd, applied == index else {
            throw StateMachineError(.malformedSnapshot, "recording snapshot for index \(applied) restored as \(index), or trailing bytes")
        }
        self.records = records
        self.appliedIndex = applied
        self.digest = digest
    }
}
