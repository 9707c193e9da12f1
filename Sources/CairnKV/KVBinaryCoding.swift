import CairnKernel
import CairnWire

// The binary forms of the wire model values that KV commands, results and snapshots carry.
// Every reader returns nil rather than read past the end or accept an unknown tag.

extension BinaryWriter {
    /// `string key, bytes value, u64 flags, u64 createIndex, u64 modifyIndex, u64 lockIndex,
    /// string session`.
    mutating func write(entry: KVEntry) {
        write(string: entry.key)
        write(bytes: entry.value)
        write(entry.flags)
        write(entry.createIndex)
        write(entry.modifyIndex)
        write(entry.lockIndex)
        write(string: entry.session)
    }

    /// `string id, string name, string node, u64 ttl, u64 lockDelay, u8 behavior,
    /// u32 checkCount, string check..., u64 createIndex`.
    mutating func write(session: Session) {
        write(string: session.id)
        write(string: session.name)
        write(string: session.node)
        write(session.ttlMilliseconds)
        write(session.lockDelayMilliseconds)
        write(session.behavior.rawValue)
        write(UInt32(session.checks.count))
        for check in session.checks { write(string: check) }
        write(session.createIndex)
    }

    /// `u8 kind` then the operation's fields (see ``KVCommand``).
    mutating func write(operation: KVTransactionOperation) {
        switch operation {
        case .get(let key):
            write(UInt8(1))
            write(string: key)
        case .getTree(let prefix):
            write(UInt8(2))
            write(string: prefix)
        case .set(let key, let value, let flags):
            write(UInt8(3))
            write(string: key)
            write(bytes: value)
            write(flags)
        case .cas(let key, let value, let flags, let index):
            write(UInt8(4))
            write(string: key)
            write(bytes: value)
            write(flags)
            write(index)
        case .lock(let key, let value, let flags, let session):
            write(UInt8(5))
            write(string: key)
            write(bytes: value)
            write(flags)
            write(string: session)
        case .unlock(let key, let value, let flags, let session):
            write(UInt8(6))
            write(string: key)
            write(bytes: value)
            write(flags)
            write(string: session)
        case .delete(let key):
            write(UInt8(7))
            write(string: key)
        case .deleteTree(let prefix):
            write(UInt8(8))
            write(string: prefix)
        case .deleteCAS(let key, let index):
            write(UInt8(9))
            write(string: key)
            write(index)
        case .checkIndex(let key, let index):
            write(UInt8(10))
            write(string: key)
            write(index)
        case .checkSession(let key, let session):
            write(UInt8(11))
            write(string: key)
            write(string: session)
        case .checkNotExists(let key):
            write(UInt8(12))
            write(string: key)
        }
    }
}

extension BinaryReader {
    /// Reads what ``BinaryWriter/write(entry:)`` wrote.
    mutating func readEntry() -> KVEntry? {
        guard let key = readString(), let value = readBytes(), let flags = read(UInt64.self),
              let create = read(UInt64.self), let modify = read(UInt64.self), let lock = read(UInt64.self),
              let session = readString()
        else { return nil }
        return KVEntry(key: key, value: value, flags: flags, createIndex: create, modifyIndex: modify,
                       lockIndex: lock, session: session)
    }

    /// Reads what ``BinaryWriter/write(session:)`` wrote.
    mutating func readSession() -> Session? {
        guard let id = readString(), let name = readString(), let node = readString(),
              let ttl = read(UInt64.self), let lockDelay = read(UInt64.self),
              let behaviorRaw = read(UInt8.self), let behavior = SessionBehavior(rawValue: behaviorRaw),
              let checkCount = read(UInt32.self)
        else { return nil }
        var checks: [String] = []
        for _ in 0..<checkCount {
            guard let check = readString() else { return nil }
            checks.append(check)
        }
        guard let createIndex = read(UInt64.self) else { return nil }
        return Session(id: id, name: name, node: node, ttlMilliseconds: ttl, lockDelayMilliseconds: lockDelay,
                       behavior: behavior, checks: checks, createIndex: createIndex)
    }

    /// Reads what ``BinaryWriter/write(operation:)`` wrote.
    mutating func readOperation() -> KVTransactionOperation? {
        guard let kind = read(UInt8.self), let key = readString() else { return nil }
        switch kind {
        case 1: return .get(key: key)
        case 2: return .getTree(prefix: key)
        case 3:
            guard let value = readBytes(), let flags = read(UInt64.self) else { return nil }
            return .set(key: key, value: value, flags: flags)
        case 4:
            guard let value = readBytes(), let flags = read(UInt64.self), let index = read(UInt64.self) else { return nil }
            return .cas(key: key, value: value, flags: flags, index: index)
        case 5:
            guard let value = readBytes(), let flags = read(UInt64.self), let session = readString() else { return nil }
            return .lock(key: key, value: value, flags: flags, session: session)
        case 6:
            guard let value = readBytes(), let flags = read(UInt64.self), let session = readString() else { return nil }
            return .unlock(key: key, value: value, flags: flags, session: session)
        case 7: return .delete(key: key)
        case 8: return .deleteTree(prefix: key)
        case 9:
            guard let index = read(UInt64.self) else { return nil }
            return .deleteCAS(key: key, index: index)
        case 10:
            guard let index = read(UInt64.self) else { return nil }
            return .checkIndex(key: key, index: index)
        case 11:
            guard let session = readString() else { return nil }
            return .checkSession(key: key, session: session)
        case 12: return .checkNotExists(key: key)
        default: return nil
        }
    }
}
