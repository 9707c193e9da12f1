import CairnKV
import CairnKernel
import CairnRaft
import CairnWire

extension ConsensusLoop {
    /// The KV store's operations.
    func planKV(_ request: ClientRequest) -> RequestPlan {
        switch request {
        case .kvGet(let key, let consistency):
            return .read(consistency) { .kvGet($0.kv.get(key), $0.meta) }
        case .kvList(let prefix, let consistency):
            return .read(consistency) { .kvList($0.kv.list(prefix: prefix), $0.meta) }
        case .kvKeys(let prefix, let separator, let consistency):
            return .read(consistency) { .kvKeys($0.kv.keys(prefix: prefix, separator: separator), $0.meta) }
        case .kvPut(let key, let value, let flags, let cas):
            if let problem = KVStore.validateKey(key, value: value) { return .answer(.error(problem.code, message: problem.message)) }
            return .propose(KVCommand.put(key: key, value: value, flags: flags, cas: cas).encoded(), complete: Self.kvPutAnswer)
        case .kvDelete(let key, let cas):
            if let problem = KVStore.validateKey(key) { return .answer(.error(problem.code, message: problem.message)) }
            return .propose(KVCommand.delete(key: key, cas: cas).encoded(), complete: Self.kvDeleteAnswer)
        case .kvDeleteTree(let prefix):
            if let problem = KVStore.validatePrefix(prefix) { return .answer(.error(problem.code, message: problem.message)) }
            return .propose(KVCommand.deleteTree(prefix: prefix).encoded(), complete: Self.kvDeleteAnswer)
        case .kvAcquire(let key, let value, let flags, let session):
            if let problem = KVStore.validateKey(key, value: value) { return .answer(.error(problem.code, message: problem.message)) }
            return .propose(KVCommand.acquire(key: key, value: value, flags: flags, session: session, now: wallMilliseconds).encoded(),
                            complete: Self.kvPutAnswer)
        case .kvRelease(let key, let value, let flags, let session):
            if let problem = KVStore.validateKey(key, value: value) { return .answer(.error(problem.code, message: problem.message)) }
            return .propose(KVCommand.release(key: key, value: value, flags: flags, session: session).encoded(),
                            complete: Self.kvPutAnswer)
        case .kvTransaction(let operations):
            if let problem = KVStore.validateTransaction(operations) {
                return .answer(.error(problem.code, message: problem.message))
            }
            return .propose(KVCommand.transaction(operations, now: wallMilliseconds).encoded()) { bytes, index in
                guard case .transaction(let outcome)? = KVApplyResult(decoding: bytes) else {
                    return Self.unexpected(bytes, index)
                }
                return .kvTransaction(outcome)
            }
        default:
            return .answer(.error(.internalError, message: "KV planner given \(request)"))
        }
    }

    static func kvPutAnswer(_ bytes: [UInt8], _ index: LogIndex) -> ClientResponse {
        switch KVApplyResult(decoding: bytes) {
        case .applied?: return .kvPut(succeeded: true, index: index)
        case .casFailed?, .notAcquired?, .notReleased?: return .kvPut(succeeded: false, index: index)
        case .rejected(let reason)?: return .error(.invalidArgument, message: reason)
        default: return unexpected(bytes, index)
        }
    }

    static func kvDeleteAnswer(_ bytes: [UInt8], _ index: LogIndex) -> ClientResponse {
        switch KVApplyResult(decoding: bytes) {
        case .applied?: return .kvDelete(succeeded: true, index: index)
        case .casFailed?: return .kvDelete(succeeded: false, index: index)
        case .rejected(let reason)?: return .error(.invalidArgument, message: reason)
        default: return unexpected(bytes, index)
        }
    }

    static func unexpected(_ bytes: [UInt8], _ index: LogIndex) -> ClientResponse {
        .error(.internalError, message: "entry \(index) applied with an unexpected result (\(bytes.count) bytes)")
    }
}
