import CairnRaft
import CairnWire

extension KVStore {
    /// Applies a transaction at `index`: every operation in order, or — when one fails — none
    /// (the journal restores every touched key). Watch changes are recorded only on commit, one
    /// per touched key (in first-touch order) with its final entry.
    mutating func applyTransaction(_ operations: [KVTransactionOperation], now: UInt64,
                                   at index: LogIndex) -> KVApplyResult {
        guard (1...KVTransaction.maxOperations).contains(operations.count) else {
            return .rejected(reason: "a transaction holds 1 to \(KVTransaction.maxOperations) operations, not \(operations.count)")
        }
        forgetLockDelays(endingBy: now)
        journal = Journal()
        var results: [KVEntry] = []
        for (number, operation) in operations.enumerated() {
            if let reason = perform(operation, now: now, at: index, results: &results) {
                rollBack()
                return .transaction(.failed(index: index, operation: UInt32(number), reason: reason))
            }
        }
        commit(at: index)
        return .transaction(.committed(index: index, results: results))
    }

    /// Performs one operation; returns why it failed, or nil (appending what it read or wrote).
    private mutating func perform(_ operation: KVTransactionOperation, now: UInt64, at index: LogIndex,
                                  results: inout [KVEntry]) -> String? {
        if let problem = Self.validate(operation: operation) { return problem.message }
        switch operation {
        case .get(let key):
            guard let entry = get(key) else { return "the key \"\(key)\" does not exist" }
            results.append(entry)
        case .getTree(let prefix):
            results.append(contentsOf: list(prefix: prefix))
        case .set(let key, let value, let flags):
            results.append(set(key: key, value: value, flags: flags, at: index))
        case .cas(let key, let value, let flags, let cas):
            if let refusal = casRefusal(key: key, index: cas) { return refusal }
            results.append(set(key: key, value: value, flags: flags, at: index))
        case .lock(let key, let value, let flags, let session):
            if let refusal = acquireRefusal(key: key, session: session, now: now) { return refusal }
            results.append(acquire(key: key, value: value, flags: flags, session: session, at: index))
        case .unlock(let key, let value, let flags, let session):
            if let refusal = releaseRefusal(key: key, session: session) { return refusal }
            results.append(release(key: key, value: value, flags: flags, at: index))
        case .delete(let key):
            delete(key: key, at: index)
        case .deleteTree(let prefix):
            deleteTree(prefix: prefix, at: index)
        case .deleteCAS(let key, let cas):
            if let refusal = deleteCASRefusal(key: key, index: cas) { return refusal }
            delete(key: key, at: index)
        case .checkIndex(let key, let expected):
            guard let entry = get(key) else { return "the key \"\(key)\" does not exist" }
            if entry.modifyIndex != expected {
                return "the key \"\(key)\" has modify index \(entry.modifyIndex), not \(expected)"
            }
        case .checkSession(let key, let session):
            let holder = get(key)?.session ?? ""
            if !ByteOrder.same(holder, session) {
                return holder.isEmpty
                    ? "the key \"\(key)\" is not locked by the session \"\(session)\": nobody holds it"
                    : session.isEmpty
                        ? "the key \"\(key)\" is locked by session \"\(holder)\""
                        : "the key \"\(key)\" is locked by session \"\(holder)\", not \"\(session)\""
            }
        case .checkNotExists(let key):
            if let entry = get(key) { return "the key \"\(key)\" exists (modify index \(entry.modifyIndex))" }
        }
        return nil
    }

    /// Restores every key the running transaction touched and ends it.
    private mutating func rollBack() {
        guard let touched = journal else { return }
        journal = nil
        for (key, original) in touched.originals.reversed() { write(original, at: key) }
    }

    /// Ends the running transaction, recording one change per touched key.
    private mutating func commit(at index: LogIndex) {
        guard let touched = journal else { return }
        journal = nil
        for (key, original) in touched.originals {
            let final = get(key)
            if original == nil && final == nil { continue }
            changes.append(.key(KVChange(key: key, entry: final), index: index))
        }
    }
}
