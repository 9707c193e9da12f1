import CairnKernel
import CairnWire

// The binary forms of the catalog's model types, shared by commands and snapshots. Every
// collection is written in a fixed order (dictionaries sorted by key) so that equal values
// always encode to equal bytes.
//
// - meta: `u32 count, (string key, string value)...` sorted by key
// - strings: `u32 count, string...`
// - kind: `u8 1 ttl, u64 ttl` | `u8 2 http, string url, u64 interval, u64 timeout`
//   | `u8 3 tcp, string address, u64 interval, u64 timeout`
// - definition: `string id, string name, kind, u8 initialStatus, u64 deregisterCriticalAfter`

extension BinaryWriter {
    mutating func write(meta: [String: String]) {
        write(UInt32(meta.count))
        for key in meta.keys.sorted() {
            write(string: key)
            write(string: meta[key]!)
        }
    }

    mutating func write(strings: [String]) {
        write(UInt32(strings.count))
        for string in strings { write(string: string) }
    }

    mutating func write(kind: CheckKind) {
        switch kind {
        case .ttl(let ttl):
            write(UInt8(1))
            write(ttl)
        case .http(let url, let interval, let timeout):
            write(UInt8(2))
            write(string: url)
            write(interval)
            write(timeout)
        case .tcp(let address, let interval, let timeout):
            write(UInt8(3))
            write(string: address)
            write(interval)
            write(timeout)
        }
    }

    mutating func write(definition: CheckDefinition) {
        write(string: definition.id)
        write(string: definition.name)
        write(kind: definition.kind)
        write(definition.initialStatus.rawValue)
        write(definition.deregisterCriticalAfterMilliseconds)
    }
}

extension BinaryReader {
    mutating func readMeta() -> [String: String]? {
        guard let count = read(UInt32.self) else { return nil }
        var meta: [String: String] = [:]
        for _ in 0..<count {
            guard let key = readString(), let value = readString(), meta.updateValue(value, forKey: key) == nil else {
                return nil
            }
        }
        return meta
    }

    mutating func readStrings() -> [String]? {
        guard let count = read(UInt32.self) else { return nil }
        var strings: [String] = []
        for _ in 0..<count {
            guard let string = readString() else { return nil }
            strings.append(string)
        }
        return strings
    }

    mutating func readKind() -> CheckKind? {
        guard let op = read(UInt8.self) else { return nil }
        switch op {
        case 1:
            guard let ttl = read(UInt64.self) else { return nil }
            return .ttl(ttlMilliseconds: ttl)
        case 2:
            guard let url = readString(), let interval = read(UInt64.self), let timeout = read(UInt64.self) else { return nil }
            return .http(url: url, intervalMilliseconds: interval, timeoutMilliseconds: timeout)
        case 3:
            guard let address = readString(), let interval = read(UInt64.self), let timeout = read(UInt64.self) else {
                return nil
            }
            return .tcp(address: address, intervalMilliseconds: interval, timeoutMilliseconds: timeout)
        default:
            return nil
        }
    }

    mutating func readStatus() -> CheckStatus? {
        read(UInt8.self).flatMap(CheckStatus.init(rawValue:))
    }

    mutating func readDefinition() -> CheckDefinition? {
        guard let id = readString(), let name = readString(), let kind = readKind(), let initial = readStatus(),
              let deregisterAfter = read(UInt64.self)
        else { return nil }
        return CheckDefinition(id: id, name: name, kind: kind, initialStatus: initial,
                               deregisterCriticalAfterMilliseconds: deregisterAfter)
    }
}
