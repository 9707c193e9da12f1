/// The `u8` tags of the protocol's tagged unions (Protocol/README.md §6.4). Tags start at 1; 0 is
/// never used.
enum WireTag {
    /// ``KVTransactionOperation``'s tags.
    enum TransactionOperation: UInt8 {
        case get = 1
        case getTree = 2
        case set = 3
        case cas = 4
        case lock = 5
        case unlock = 6
        case delete = 7
        case deleteTree = 8
        case deleteCAS = 9
        case checkIndex = 10
        case checkSession = 11
        case checkNotExists = 12
    }

    /// ``KVTransactionOutcome``'s tags.
    enum TransactionOutcome: UInt8 {
        case committed = 1
        case failed = 2
    }

    /// ``CheckKind``'s tags.
    enum CheckKind: UInt8 {
        case ttl = 1
        case http = 2
        case tcp = 3
    }

    /// ``WatchTarget``'s tags.
    enum WatchTarget: UInt8 {
        case key = 1
        case keyPrefix = 2
        case service = 3
        case services = 4
    }

    /// ``WatchEvent/Payload``'s tags.
    enum WatchPayload: UInt8 {
        case keys = 1
        case service = 2
        case services = 3
    }
}
