import CairnWire

extension KVStore {
    /// Why a key or value cannot be stored, or nil when it can: the key must be 1 to
    /// ``maxKeySize`` UTF-8 bytes, the value at most ``maxValueSize`` bytes.
    public static func validate(key: String, value: [UInt8]? = nil) -> String? {
        if key.isEmpty { return "the key is empty" }
        if key.utf8.count > maxKeySize { return "the key is \(key.utf8.count) bytes; the limit is \(maxKeySize)" }
        if let value, value.count > maxValueSize {
            return "the value is \(value.count) bytes; the limit is \(maxValueSize) (512 KiB)"
        }
        return nil
    }

    /// Why a prefix cannot be listed or deleted, or nil when it can: at most ``maxKeySize``
    /// UTF-8 bytes (empty is fine: every key).
    public static func validate(prefix: String) -> String? {
        prefix.utf8.count > maxKeySize ? "the prefix is \(prefix.utf8.count) bytes; the limit is \(maxKeySize)" : nil
    }

    /// ``validate(key:value:)`` with the error code to answer: ``ClientErrorCode/invalidKey`` or
    /// ``ClientErrorCode/valueTooLarge``.
    public static func validateKey(_ key: String, value: [UInt8]? = nil) -> KVRequestProblem? {
        if let problem = validate(key: key) { return KVRequestProblem(code: .invalidKey, message: problem) }
        if let problem = validate(key: key, value: value) { return KVRequestProblem(code: .valueTooLarge, message: problem) }
        return nil
    }

    /// ``validate(prefix:)`` with the error code to answer (``ClientErrorCode/invalidKey``).
    public static func validatePrefix(_ prefix: String) -> KVRequestProblem? {
        validate(prefix: prefix).map { KVRequestProblem(code: .invalidKey, message: $0) }
    }

    /// Why a transaction cannot be proposed, or nil when it can: it holds 1 to
    /// ``KVTransaction/maxOperations`` operations (``ClientErrorCode/invalidArgument``) and every
    /// key, prefix and value is valid (the message names the operation, 0-based).
    public static func validateTransaction(_ operations: [KVTransactionOperation]) -> KVRequestProblem? {
        guard (1...KVTransaction.maxOperations).contains(operations.count) else {
            return KVRequestProblem(
                code: .invalidArgument,
                message: "a transaction holds 1 to \(KVTransaction.maxOperations) operations, not \(operations.count)")
        }
        for (number, operation) in operations.enumerated() {
            if let problem = validate(operation: operation) {
                return KVRequestProblem(code: problem.code, message: "operation \(number): \(problem.message)")
            }
        }
        return nil
    }

    /// Why one transaction operation's key, prefix or value is not valid, or nil.
    static func validate(operation: KVTransactionOperation) -> KVRequestProblem? {
        switch operation {
        case .get(let key), .delete(let key), .deleteCAS(let key, _), .checkIndex(let key, _),
             .checkSession(let key, _), .checkNotExists(let key):
            validateKey(key)
        case .getTree(let prefix), .deleteTree(let prefix):
            validatePrefix(prefix)
        case .set(let key, let value, _), .cas(let key, let value, _, _), .lock(let key, let value, _, _),
             .unlock(let key, let value, _, _):
            validateKey(key, value: value)
        }
    }

    /// Why a session cannot be created as asked, or nil when it can
    /// (``ClientErrorCode/invalidArgument``): the TTL is 0 or within
    /// ``SessionRequest/minimumTTLMilliseconds``...``SessionRequest/maximumTTLMilliseconds``, the
    /// lock-delay at most ``maxLockDelayMilliseconds``, the name and node at most
    /// ``maxSessionNameSize`` bytes, and at most ``maxSessionChecks`` non-empty check ids.
    public static func validateSessionRequest(_ request: SessionRequest) -> KVRequestProblem? {
        sessionSettingsProblem(name: request.name, node: request.node, ttl: request.ttlMilliseconds,
                               lockDelay: request.lockDelayMilliseconds, checks: request.checks)
            .map { KVRequestProblem(code: .invalidArgument, message: $0) }
    }

    /// Why `session` cannot be created, or nil: the request rules, and an id of 1 to
    /// ``maxSessionIDSize`` bytes.
    static func validate(session: Session) -> String? {
        if session.id.isEmpty { return "the session id is empty" }
        if session.id.utf8.count > maxSessionIDSize {
            return "the session id is \(session.id.utf8.count) bytes; the limit is \(maxSessionIDSize)"
        }
        return sessionSettingsProblem(name: session.name, node: session.node, ttl: session.ttlMilliseconds,
                                      lockDelay: session.lockDelayMilliseconds, checks: session.checks)
    }

    private static func sessionSettingsProblem(name: String, node: String, ttl: UInt64, lockDelay: UInt64,
                                               checks: [String]) -> String? {
        if ttl != 0 && !(SessionRequest.minimumTTLMilliseconds...SessionRequest.maximumTTLMilliseconds).contains(ttl) {
            return "the session TTL is \(ttl) ms; it must be 0 (none) or from \(SessionRequest.minimumTTLMilliseconds) ms (10 s) to \(SessionRequest.maximumTTLMilliseconds) ms (24 h)"
        }
        if lockDelay > maxLockDelayMilliseconds {
            return "the lock-delay is \(lockDelay) ms; the limit is \(maxLockDelayMilliseconds) ms (60 s)"
        }
        if name.utf8.count > maxSessionNameSize {
            return "the session name is \(name.utf8.count) bytes; the limit is \(maxSessionNameSize)"
        }
        if node.utf8.count > maxSessionNameSize {
            return "the node name is \(node.utf8.count) bytes; the limit is \(maxSessionNameSize)"
        }
        if checks.count > maxSessionChecks {
            return "the session names \(checks.count) checks; the limit is \(maxSessionChecks)"
        }
        for check in checks where check.isEmpty || check.utf8.count > maxSessionNameSize {
            return "a check id is empty or longer than \(maxSessionNameSize) bytes"
        }
        return nil
    }
}
