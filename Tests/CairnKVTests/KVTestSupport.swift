import CairnKV
import CairnKernel
import CairnRaft
import CairnWire

/// A session as the leader would propose it.
func makeSession(_ id: String, behavior: SessionBehavior = .release, lockDelay: UInt64 = 0,
                 ttl: UInt64 = 0, name: String = "") -> Session {
    Session(id: id, name: name, node: "node-1", ttlMilliseconds: ttl, lockDelayMilliseconds: lockDelay,
            behavior: behavior, checks: [], createIndex: 0)
}

/// UTF-8 bytes of `text`.
func bytes(_ text: String) -> [UInt8] { Array(text.utf8) }

extension KVApplyResult {
    /// The result with every human reason blanked, to compare outcomes whose wording differs.
    var withoutReasons: KVApplyResult {
        switch self {
        case .rejected: return .rejected(reason: "")
        case .transaction(.failed(let index, let operation, _)):
            return .transaction(.failed(index: index, operation: operation, reason: ""))
        default: return self
        }
    }

    /// Whether the result is a rejection.
    var isRejected: Bool { kind == .rejected }
}
