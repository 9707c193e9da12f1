import CairnKernel
import CairnWire

/// A change to the KV store (keys and sessions), as it travels through the Raft log.
///
/// A command carries everything its effect depends on besides the store's state: the leader
/// chooses session ids and reads its wall clock (`now`, milliseconds since the Unix epoch) when
/// it proposes, never the replicas when they apply. See ``KVStore`` for what each one does.
///
/// ## Encoding
/// A log entry is `u8 KVStore.moduleTag`, `u8 op`, then the op's fields, with ``BinaryWriter``'s
/// forms (integers big-endian; `string` and `bytes` are `u32 length` + bytes; `optional u64` is
/// `u8 0` or `u8 1, u64`):
///
/// | op | command | fields |
/// |----|---------|--------|
/// | 1 | put | `string key, bytes value, u64 flags, optional u64 cas` |
/// | 2 | delete | `string key, optional u64 cas` |
/// | 3 | deleteTree | `string prefix` |
/// | 4 | acquire | `string key, bytes value, u64 flags, string session, u64 now` |
/// | 5 | release | `string key, bytes value, u64 flags, string session` |
/// | 6 | transaction | `u64 now, u32 count, operation...` |
/// | 7 | sessionCreate | `session` |
/// | 8 | sessionDestroy | `string id, u64 now` |
///
/// A `session` is `string id, string name, string node, u64 ttlMilliseconds,
/// u64 lockDelayMilliseconds, u8 behavior (0 release, 1 delete), u32 checkCount, string check...,
/// u64 createIndex`. An `operation` is `u8 kind` then: 1 get `string key`; 2 getTree
/// `string prefix`; 3 set `string key, bytes value, u64 flags`; 4 cas `string key, bytes value,
/// u64 flags, u64 index`; 5 lock and 6 unlock `string key, bytes value, u64 flags,
/// string session`; 7 delete `string key`; 8 deleteTree `string prefix`; 9 deleteCAS and
/// 10 checkIndex `string key, u64 index`; 11 checkSession `string key, string session`;
/// 12 checkNotExists `string key`. Nothing may follow the last field.
public enum KVCommand: Sendable, Hashable {
    /// Writes `key`. With `cas`, only if the key's modify index equals it (0: only if absent).
    case put(key: String, value: [UInt8], flags: UInt64, cas: UInt64?)
    /// Deletes `key`. With `cas`, only if the key's modify index equals it (an absent key counts
    /// as deleted, as in Consul).
    case delete(key: String, cas: UInt64?)
    /// Deletes every key starting with `prefix` (the empty prefix: every key).
    case deleteTree(prefix: String)
    /// Writes `key` and acquires its lock for `session`, as of the leader's time `now`.
    case acquire(key: String, value: [UInt8], flags: UInt64, session: String, now: UInt64)
    /// Writes `key` and releases its lock, if `session` holds it.
    case release(key: String, value: [UInt8], flags: UInt64, session: String)
    /// Applies `operations` all together or not at all, as of the leader's time `now`.
    case transaction([KVTransactionOperation], now: UInt64)
    /// Creates `session` (its id, node and settings chosen by the leader; its `createIndex` is
    /// replaced by the entry's index).
    case sessionCreate(Session)
    /// Invalidates session `id` (destroyed, expired, or one of its checks turned critical) at the
    /// leader's time `now`.
    case sessionDestroy(id: String, now: UInt64)

    /// The bytes of the command's variable-length fields (keys, values), to size its encoding.
    private var payloadSize: Int {
        switch self {
        case .put(let key, let value, _, _), .acquire(let key, let value, _, _, _), .release(let key, let value, _, _):
            key.utf8.count + value.count
        case .delete(let key, _): key.utf8.count
        case .deleteTree(let prefix): prefix.utf8.count
        case .transaction, .sessionCreate, .sessionDestroy: 0
        }
    }

    /// The log entry bytes: module tag, then the command.
    public func encoded() -> [UInt8] {
        var w = BinaryWriter(capacity: 48 + payloadSize)
        w.write(KVStore.moduleTag)
        switch self {
        case .put(let key, let value, let flags, let cas):
            w.write(UInt8(1))
            w.write(string: key)
            w.write(bytes: value)
            w.write(flags)
            w.write(optional: cas)
        case .delete(let key, let cas):
            w.write(UInt8(2))
            w.write(string: key)
            w.write(optional: cas)
        case .deleteTree(let prefix):
            w.write(UInt8(3))
            w.write(string: prefix)
        case .acquire(let key, let value, let flags, let session, let now):
            w.write(UInt8(4))
            w.write(string: key)
            w.write(bytes: value)
            w.write(flags)
            w.write(string: session)
            w.write(now)
        case .release(let key, let value, let flags, let session):
            w.write(UInt8(5))
            w.write(string: key)
            w.write(bytes: value)
            w.write(flags)
            w.write(string: session)
        case .transaction(let operations, let now):
            w.write(UInt8(6))
            w.write(now)
            w.write(UInt32(truncatingIfNeeded: operations.count))
            for operation in operations { w.write(operation: operation) }
        case .sessionCreate(let session):
            w.write(UInt8(7))
            w.write(session: session)
        case .sessionDestroy(let id, let now):
            w.write(UInt8(8))
            w.write(string: id)
            w.write(now)
        }
        return w.bytes
    }

    /// Decodes the command bytes that follow the module tag; nil when malformed (unknown op,
    /// truncated, invalid UTF-8, or trailing bytes).
    public init?(decoding bytes: ArraySlice<UInt8>) {
        var r = BinaryReader(bytes)
        guard let op = r.read(UInt8.self) else { return nil }
        switch op {
        case 1:
            guard let key = r.readString(), let value = r.readBytes(), let flags = r.read(UInt64.self),
                  let cas = r.readOptional()
            else { return nil }
            self = .put(key: key, value: value, flags: flags, cas: cas)
        case 2:
            guard let key = r.readString(), let cas = r.readOptional() else { return nil }
            self = .delete(key: key, cas: cas)
        case 3:
            guard let prefix = r.readString() else { return nil }
            self = .deleteTree(prefix: prefix)
        case 4:
            guard let key = r.readString(), let value = r.readBytes(), let flags = r.read(UInt64.self),
                  let session = r.readString(), let now = r.read(UInt64.self)
            else { return nil }
            self = .acquire(key: key, value: value, flags: flags, session: session, now: now)
        case 5:
            guard let key = r.readString(), let value = r.readBytes(), let flags = r.read(UInt64.self),
                  let session = r.readString()
            else { return nil }
            self = .release(key: key, value: value, flags: flags, session: session)
        case 6:
            guard let now = r.read(UInt64.self), let count = r.read(UInt32.self) else { return nil }
            var operations: [KVTransactionOperation] = []
            for _ in 0..<count {
                // Each operation takes at least five bytes, so a lying count ends at the bytes' end.
                guard let operation = r.readOperation() else { return nil }
                operations.append(operation)
            }
            self = .transaction(operations, now: now)
        case 7:
            guard let session = r.readSession() else { return nil }
            self = .sessionCreate(session)
        case 8:
            guard let id = r.readString(), let now = r.read(UInt64.self) else { return nil }
            self = .sessionDestroy(id: id, now: now)
        default:
            return nil
        }
        guard r.isAtEnd else { return nil }
    }
}
