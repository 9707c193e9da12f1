import CairnKernel
import CairnWire

/// A change to the catalog, as it travels through the Raft log.
///
/// Encoded with ``BinaryWriter`` (big-endian, strings as `u32 length, UTF-8`) after the module tag
/// byte ``CatalogStore/moduleTag``, as `u8 op` and the fields:
/// - `1 register: string node, string nodeAddress, string serviceID, string serviceName,
///   strings tags, string serviceAddress, u16 port, meta, u32 checkCount, definition...`
/// - `2 deregister: string node, string serviceID`
/// - `3 updateCheck: string node, string checkID, u8 status, string output`
/// - `4 registerNodeCheck: string node, definition`
/// - `5 deregisterCheck: string node, string checkID`
///
/// where `strings` is `u32 count, string...`, `meta` is `u32 count, (string key, string value)...`
/// sorted by key, and a `definition` is `string id, string name, kind, u8 initialStatus,
/// u64 deregisterCriticalAfterMilliseconds` with `kind` one of `u8 1, u64 ttl`,
/// `u8 2, string url, u64 interval, u64 timeout` and `u8 3, string address, u64 interval,
/// u64 timeout`. A status is `0 passing, 1 warning, 2 critical`.
///
/// The instance's own `node`, `createIndex` and `modifyIndex` are not encoded: the catalog takes
/// the node from the registration and assigns the indices, so a decoded registration's instance
/// has an empty node and zero indices.
public enum CatalogCommand: Sendable, Hashable {
    /// Registers (or updates) a service instance, its node and its checks. The registration's
    /// `node` must be resolved (non-empty) by the server before proposing.
    ///
    /// The node's address becomes `nodeAddress` when given, else stays the registered node's,
    /// else is the service's address. The instance's id defaults to its name; an update keeps
    /// `createIndex` and sets `modifyIndex`. The instance's checks are replaced by the given ones
    /// (ids default to `service:<id>`, or `service:<id>:<n>` counting from 1 when there are
    /// several; names to `Service '<name>' check`); a check whose defaulted definition is
    /// unchanged keeps its status and output, any other starts at its `initialStatus`.
    case register(ServiceRegistration)
    /// Removes service instance `serviceID` and its checks from `node`; an empty `node` removes
    /// every instance with that id, whichever node it is on.
    case deregister(node: String, serviceID: String)
    /// Sets a check's status and output; an empty `node` updates every check with that id.
    case updateCheck(node: String, checkID: String, status: CheckStatus, output: String)
    /// Registers (or updates) a node-level check (one that belongs to no service) on an existing
    /// node. Its id defaults to its name, its name to its id.
    case registerNodeCheck(node: String, check: CheckDefinition)
    /// Removes one check (node-level or a service's); an empty `node` removes it from every node.
    case deregisterCheck(node: String, checkID: String)

    /// The log entry bytes: the module tag, then the command.
    public func encoded() -> [UInt8] {
        var w = BinaryWriter(capacity: 128)
        w.write(CatalogStore.moduleTag)
        switch self {
        case .register(let registration):
            w.write(UInt8(1))
            w.write(string: registration.node)
            w.write(string: registration.nodeAddress)
            let service = registration.service
            w.write(string: service.id)
            w.write(string: service.name)
            w.write(strings: service.tags)
            w.write(string: service.address)
            w.write(service.port)
            w.write(meta: service.meta)
            w.write(UInt32(registration.checks.count))
            for check in registration.checks { w.write(definition: check) }
        case .deregister(let node, let serviceID):
            w.write(UInt8(2))
            w.write(string: node)
            w.write(string: serviceID)
        case .updateCheck(let node, let checkID, let status, let output):
            w.write(UInt8(3))
            w.write(string: node)
            w.write(string: checkID)
            w.write(status.rawValue)
            w.write(string: output)
        case .registerNodeCheck(let node, let check):
            w.write(UInt8(4))
            w.write(string: node)
            w.write(definition: check)
        case .deregisterCheck(let node, let checkID):
            w.write(UInt8(5))
            w.write(string: node)
            w.write(string: checkID)
        }
        return w.bytes
    }

    /// Decodes the command bytes that follow the module tag; nil when malformed (an unknown op,
    /// a truncated field, invalid UTF-8, an unknown status or check kind, or trailing bytes).
    public init?(decoding bytes: ArraySlice<UInt8>) {
        var r = BinaryReader(bytes)
        guard let op = r.read(UInt8.self), let node = r.readString() else { return nil }
        switch op {
        case 1:
            guard let nodeAddress = r.readString(), let id = r.readString(), let name = r.readString(),
                  let tags = r.readStrings(), let address = r.readString(), let port = r.read(UInt16.self),
                  let meta = r.readMeta(), let count = r.read(UInt32.self)
            else { return nil }
            var checks: [CheckDefinition] = []
            for _ in 0..<count {
                guard let check = r.readDefinition() else { return nil }
                checks.append(check)
            }
            let service = ServiceInstance(id: id, name: name, tags: tags, address: address, port: port, meta: meta)
            self = .register(ServiceRegistration(node: node, nodeAddress: nodeAddress, service: service, checks: checks))
        case 2:
            guard let serviceID = r.readString() else { return nil }
            self = .deregister(node: node, serviceID: serviceID)
        case 3:
            guard let checkID = r.readString(), let status = r.readStatus(), let output = r.readString() else { return nil }
            self = .updateCheck(node: node, checkID: checkID, status: status, output: output)
        case 4:
            guard let check = r.readDefinition() else { return nil }
            self = .registerNodeCheck(node: node, check: check)
        case 5:
            guard let checkID = r.readString() else { return nil }
            self = .deregisterCheck(node: node, checkID: checkID)
        default:
            return nil
        }
        guard r.isAtEnd else { return nil }
    }
}
