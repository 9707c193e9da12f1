import CairnKernel
import CairnWire

/// What applying a ``KVCommand`` did: the bytes ``KVStore``'s byte-level `apply` returns, typed. Every outcome that is not ``applied``, ``sessionCreated(id:)`` or a committed
/// transaction left the state unchanged.
///
/// Encoded as `u8 kind` (``Kind``) then: `rejected` `string reason`; `transaction` `u8 1,
/// u64 index, u32 count, entry...` (committed) or `u8 2, u64 index, u32 operation,
/// string reason` (failed), an entry being `string key, bytes value, u64 flags,
/// u64 createIndex, u64 modifyIndex, u64 lockIndex, string session`; `sessionCreated`
/// `string id`; the others nothing.
public enum KVApplyResult: Sendable, Hashable {
    /// The change was applied (put, delete, delete-tree, session destroy).
    case applied
    /// A check-and-set index did not match.
    case casFailed
    /// The command was invalid (malformed bytes, bad key, oversized value, bad session,
    /// duplicate session id, too many transaction operations).
    case rejected(reason: String)
    /// The lock was not acquired: the session does not exist, another session holds the key,
    /// or the key is within a lock-delay.
    case notAcquired
    /// The lock was not released: the key is absent or not held by the session.
    case notReleased
    /// How a transaction ended (a failed one changed nothing).
    case transaction(KVTransactionOutcome)
    /// The session was created.
    case sessionCreated(id: String)
    /// The session to destroy does not exist (it expired or was destroyed already).
    case sessionNotFound

    /// The first byte of an encoded result.
    public enum Kind: UInt8, Sendable, Hashable {
        /// ``KVApplyResult/applied``.
        case applied = 1
        /// ``KVApplyResult/casFailed``.
        case casFailed = 2
        /// ``KVApplyResult/rejected(reason:)``.
        case rejected = 3
        /// ``KVApplyResult/notAcquired``.
        case notAcquired = 4
        /// ``KVApplyResult/notReleased``.
        case notReleased = 5
        /// ``KVApplyResult/transaction(_:)``.
        case transaction = 6
        /// ``KVApplyResult/sessionCreated(id:)``.
        case sessionCreated = 7
        /// ``KVApplyResult/sessionNotFound``.
        case sessionNotFound = 8
    }

    /// The result's kind.
    public var kind: Kind {
        switch self {
        case .applied: return .applied
        case .casFailed: return .casFailed
        case .rejected: return .rejected
        case .notAcquired: return .notAcquired
        case .notReleased: return .notReleased
        case .transaction: return .transaction
        case .sessionCreated: return .sessionCreated
        case .sessionNotFound: return .sessionNotFound
        }
    }

    /// Whether the command changed the state (for a put, delete, acquire or release: the
    /// `succeeded` a client is told).
    public var succeeded: Bool {
        switch self {
        case .applied, .sessionCreated: return true
        case .transaction(.committed): return true
        case .casFailed, .rejected, .notAcquired, .notReleased, .transaction(.failed), .sessionNotFound: return false
        }
    }

    /// The encoded result.
    public func encoded() -> [UInt8] {
        var w = BinaryWriter(capacity: 16)
        w.write(kind.rawValue)
        switch self {
        case .rejected(let reason):
            w.write(string: reason)
        case .transaction(.committed(let index, let results)):
            w.write(UInt8(1))
            w.write(index)
            w.write(UInt32(truncatingIfNeeded: results.count))
            for entry in results { w.write(entry: entry) }
        case .transaction(.failed(let index, let operation, let reason)):
            w.write(UInt8(2))
            w.write(index)
            w.write(operation)
            w.write(string: reason)
        case .sessionCreated(let id):
            w.write(string: id)
        case .applied, .casFailed, .notAcquired, .notReleased, .sessionNotFound:
            break
        }
        return w.bytes
    }

    /// Decodes a result; nil when the bytes are not one (unknown kind, truncated, trailing bytes).
    public init?(decoding bytes: [UInt8]) {
        var r = BinaryReader(bytes[...])
        guard let raw = r.read(UInt8.self), let kind = Kind(rawValue: raw) else { return nil }
        switch kind {
        case .applied: self = .applied
        case .casFailed: self = .casFailed
        case .rejected:
            guard let reason = r.readString() else { return nil }
            self = .rejected(reason: reason)
        case .notAcquired: self = .notAcquired
        case .notReleased: self = .notReleased
        case .transaction:
            guard let outcome = r.read(UInt8.self), let index = r.read(UInt64.self) else { return nil }
            switch outcome {
            case 1:
                guard let count = r.read(UInt32.self) else { return nil }
                var results: [KVEntry] = []
                for _ in 0..<count {
                    guard let entry = r.readEntry() else { return nil }
                    results.append(entry)
                }
                self = .transaction(.committed(index: index, results: results))
            case 2:
                guard let operation = r.read(UInt32.self), let reason = r.readString() else { return nil }
                self = .transaction(.failed(index: index, operation: operation, reason: reason))
            default:
                return nil
            }
        case .sessionCreated:
            guard let id = r.readString() else { return nil }
            self = .sessionCreated(id: id)
        case .sessionNotFound: self = .sessionNotFound
        }
        guard r.isAtEnd else { return nil }
    }
}
