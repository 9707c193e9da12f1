import CairnKernel
import CairnRaft
import CairnWire

/// The replicated key/value store: a module of the replicated state machine.
///
/// Semantics follow Consul's KV: every key carries the Raft index that created it
/// (`createIndex`) and last modified it (`modifyIndex`); a check-and-set put or delete applies only
/// when the key's `modifyIndex` equals the given index, and a put with index 0 only creates.
/// Values are limited to ``maxValueSize`` bytes; the server refuses larger ones before proposing,
/// and the module rejects them too so that a bad entry can never change state.
public struct KVStore: StateMachineModule, Sendable {
    /// The module's tag in log entries and snapshots.
    public static let moduleTag: UInt8 = 1
    /// The largest value accepted: 512 KiB.
    public static let maxValueSize = 512 * 1024
    /// The longest key accepted, in UTF-8 bytes.
    public static let maxKeySize = 1024

    public var tag: UInt8 { Self.moduleTag }
    private(set) var entries: [String: KVEntry] = [:]

    /// Creates an empty store.
    public init() {}

    /// The entry for `key`, if present.
    public func get(_ key: String) -> KVEntry? { entries[key] }

    /// The number of keys.
    public var count: Int { entries.count }

    /// Why a key or value cannot be stored, or nil when it can.
    public static func validate(key: String, value: [UInt8]? = nil) -> String? {
        if key.isEmpty { return "the key is empty" }
        if key.utf8.count > maxKeySize { return "the key is \(key.utf8.count) bytes; the limit is \(maxKeySize)" }
        if let value, value.count > maxValueSize {
            return "the value is \(value.count) bytes; the limit is \(maxValueSize) (512 KiB)"
        }
        return nil
    }

    public mutating func apply(_ command: ArraySlice<UInt8>, at index: LogIndex) -> [UInt8] {
        guard let decoded = KVCommand(decoding: command) else { return [KVResult.rejected.rawValue] }
        return [apply(decoded, at: index).rawValue]
    }

    /// Applies a decoded command at Raft index `index`.
    public mutating func apply(_ command: KVCommand, at index: LogIndex) -> KVResult {
        switch command {
        case .put(let key, let value, let flags, let cas):
            guard Self.validate(key: key, value: value) == nil else { return .rejected }
            let existing = entries[key]
            if let cas, cas != (existing?.modifyIndex ?? 0) { return .casFailed }
            entries[key] = KVEntry(key: key, value: value, flags: flags, createIndex: existing?.createIndex ?? index,
                                   modifyIndex: index, lockIndex: existing?.lockIndex ?? 0, session: existing?.session ?? "")
            return .applied
        case .delete(let key, let cas):
            guard Self.validate(key: key) == nil else { return .rejected }
            let existing = entries[key]
            if let cas, cas != (existing?.modifyIndex ?? 0) { return .casFailed }
            entries[key] = nil
            return .applied
        }
    }

    /// `u64 count, (string key, bytes value, u64 flags, u64 createIndex, u64 modifyIndex,
    /// u64 lockIndex, string session)...` in key order.
    public func snapshot() -> [UInt8] {
        var w = BinaryWriter(capacity: 64 * max(1, entries.count))
        w.write(UInt64(entries.count))
        for key in entries.keys.sorted() {
            let e = entries[key]!
            w.write(string: e.key)
            w.write(bytes: e.value)
            w.write(e.flags)
            w.write(e.createIndex)
            w.write(e.modifyIndex)
            w.write(e.lockIndex)
            w.write(string: e.session)
        }
        return w.bytes
    }

    public mutating func restore(_ bytes: ArraySlice<UInt8>) throws {
        var restored: [String: KVEntry] = [:]
        if !bytes.isEmpty {
            var r = BinaryReader(bytes)
            guard let count = r.read(UInt64.self) else { throw StateMachineError(.malformedSnapshot, "KV snapshot has no count") }
            for n in 0..<count {
                guard let key = r.readString(), let value = r.readBytes(), let flags = r.read(UInt64.self),
                      let create = r.read(UInt64.self), let modify = r.read(UInt64.self), let lock = r.read(UInt64.self),
                      let session = r.readString()
                else { throw StateMachineError(.malformedSnapshot, "KV snapshot entry \(n) of \(count) is malformed") }
                restored[key] = KVEntry(key: key, value: value, flags: flags, createIndex: create, modifyIndex: modify,
                                        lockIndex: lock, session: session)
            }
            guard r.isAtEnd else { throw StateMachineError(.malformedSnapshot, "KV snapshot has trailing bytes") }
        }
        entries = restored
    }
}
