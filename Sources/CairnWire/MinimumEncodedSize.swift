/// The smallest encodings of the structures, for the count check of a `list<T>` (Protocol/README.md
/// §5): a count is rejected before anything is allocated when that many items of this size cannot
/// fit in the bytes that remain.
enum MinimumEncodedSize {
    /// A `string` or `bytes`: its `u32` length.
    static let string = 4
    /// A map entry: two empty strings.
    static let mapEntry = 2 * string
    /// `kvEntry`: key, value, flags, createIndex, modifyIndex, lockIndex, session.
    static let kvEntry = string + string + 4 * 8 + string
    /// `kvChange`: key, an absent entry.
    static let kvChange = string + 1
    /// `txnOp`: the tag and a key (`get`, `delete`, …).
    static let transactionOperation = 1 + string
    /// `member`: id, name, peerAddress, clientAddress, voter, role, term, lastIndex, reachable.
    static let member = 8 + 3 * string + 1 + string + 8 + 8 + 1
    /// `catalogNode`: name, address, an empty meta.
    static let catalogNode = 3 * string
    /// `serviceInstance`: id, name, tags, address, port, meta, node, createIndex, modifyIndex.
    static let serviceInstance = 4 * string + 2 + 2 * string + 8 + 8
    /// `checkKind`: the tag and the smallest kind (`ttl`, one `u64`).
    static let checkKind = 1 + 8
    /// `checkDefinition`: id, name, kind, initialStatus, deregisterCriticalAfterMilliseconds.
    static let checkDefinition = 2 * string + checkKind + 1 + 8
    /// `healthCheck`: id, name, node, serviceID, serviceName, status, output, definition,
    /// createIndex, modifyIndex.
    static let healthCheck = 5 * string + 1 + string + checkDefinition + 8 + 8
    /// `serviceHealth`: node, service, an empty list of checks.
    static let serviceHealth = catalogNode + serviceInstance + 4
    /// `serviceSummary`: name, an empty list of tags.
    static let serviceSummary = 2 * string
    /// `session`: id, name, node, ttl, lockDelay, behavior, checks, createIndex.
    static let session = 3 * string + 8 + 8 + 1 + 4 + 8
}
