import CairnKernel

/// A change to the KV store, as it travels through the Raft log.
///
/// Encoded (after the module tag byte) as `u8 op` then the fields, big-endian:
/// `1 put: string key, bytes value, u64 flags, optional u64 cas`;
/// `2 delete: string key, optional u64 cas`.
public enum KVCommand: Sendable, Hashable {
    /// Writes `key`. With `cas`, only if the key's modify index equals it (0: only if absent).
    case put(key: String, value: [UInt8], flags: UInt64, cas: UInt64?)
    /// Deletes `key`. With `cas`, only if the key's modify index equals it.
    case delete(key: String, cas: UInt64?)

    /// The log entry bytes: module tag, then the command.
    public func encoded() -> [UInt8] {
        var w = BinaryWriter(capacity: 32)
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
        }
        return w.bytes
    }

    /// Decodes the command bytes that follow the module tag; nil when malformed.
    public init?(decoding bytes: ArraySlice<UInt8>) {
        var r = BinaryReader(bytes)
        guard let op = r.read(UInt8.self), let key = r.readString() else { return nil }
        switch op {
        case 1:
            guard let value = r.readBytes(), let flags = r.read(UInt64.self), let cas = r.readOptional() else { return nil }
            self = .put(key: key, value: value, flags: flags, cas: cas)
        case 2:
            guard let cas = r.readOptional() else { return nil }
            self = .delete(key: key, cas: cas)
        default:
            return nil
        }
        guard r.isAtEnd else { return nil }
    }
}

/// What applying a ``KVCommand`` did.
public enum KVResult: UInt8, Sendable, Hashable {
    /// The change was applied.
    case applied = 1
    /// A check-and-set index did not match; nothing changed.
    case casFailed = 2
    /// The command was invalid (malformed, empty key, value over the limit); nothing changed.
    case rejected = 3
}
