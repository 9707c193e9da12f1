import CairnKernel
import CairnWire

extension CatalogStore {
    /// The snapshot format's version byte.
    static let snapshotVersion: UInt8 = 1

    /// The catalog as bytes; equal catalogs give equal bytes.
    ///
    /// Format (``BinaryWriter``, big-endian): `u8 version (1), u32 nodeCount, node...` in name
    /// order, where a node is `string name, string address, meta, u32 serviceCount, service...,
    /// u32 checkCount, check...`; a service (in id order) is `string id, string name, strings tags,
    /// string address, u16 port, meta, u64 createIndex, u64 modifyIndex`; a check (in id order) is
    /// `string id, string name, string serviceID, string serviceName, u8 status, string output,
    /// definition, u64 createIndex, u64 modifyIndex`. `meta`, `strings` and `definition` are as
    /// in ``CatalogCommand``. Empty bytes are the empty catalog.
    public func snapshot() -> [UInt8] {
        var w = BinaryWriter(capacity: 256 * max(1, nodesByName.count))
        w.write(Self.snapshotVersion)
        w.write(UInt32(nodesByName.count))
        for name in nodesByName.keys.sorted() {
            let node = nodesByName[name]!
            w.write(string: node.name)
            w.write(string: node.address)
            w.write(meta: node.meta)
            let instances = instancesByNode[name] ?? [:]
            w.write(UInt32(instances.count))
            for id in instances.keys.sorted() {
                let s = instances[id]!
                w.write(string: s.id)
                w.write(string: s.name)
                w.write(strings: s.tags)
                w.write(string: s.address)
                w.write(s.port)
                w.write(meta: s.meta)
                w.write(s.createIndex)
                w.write(s.modifyIndex)
            }
            let checks = checksByNode[name] ?? [:]
            w.write(UInt32(checks.count))
            for id in checks.keys.sorted() {
                let c = checks[id]!
                w.write(string: c.id)
                w.write(string: c.name)
                w.write(string: c.serviceID)
                w.write(string: c.serviceName)
                w.write(c.status.rawValue)
                w.write(string: c.output)
                w.write(definition: c.definition)
                w.write(c.createIndex)
                w.write(c.modifyIndex)
            }
        }
        return w.bytes
    }

    /// Replaces the catalog with a snapshot's (empty bytes: the empty catalog) and forgets the
    /// pending changes. All or nothing: malformed bytes throw
    /// ``StateMachineError/Code/malformedSnapshot`` naming the problem and leave the catalog as it was.
    public mutating func restore(_ bytes: ArraySlice<UInt8>) throws {
        var restored = CatalogStore()
        if !bytes.isEmpty { try restored.decodeSnapshot(bytes) }
        self = restored
    }

    private mutating func decodeSnapshot(_ bytes: ArraySlice<UInt8>) throws {
        func malformed(_ reason: String) -> StateMachineError { StateMachineError(.malformedSnapshot, "catalog snapshot: \(reason)") }
        var r = BinaryReader(bytes)
        guard let version = r.read(UInt8.self) else { throw malformed("no version byte") }
        guard version == Self.snapshotVersion else { throw malformed("unknown version \(version)") }
        guard let nodeCount = r.read(UInt32.self) else { throw malformed("no node count") }
        for n in 0..<nodeCount {
            guard let name = r.readString(), let address = r.readString(), let meta = r.readMeta() else {
                throw malformed("node \(n) of \(nodeCount) is truncated or not UTF-8")
            }
            guard !name.isEmpty else { throw malformed("node \(n) has an empty name") }
            guard nodesByName.updateValue(CatalogNode(name: name, address: address, meta: meta), forKey: name) == nil else {
                throw malformed("node \"\(name)\" appears twice")
            }
            guard let serviceCount = r.read(UInt32.self) else { throw malformed("node \"\(name)\" has no service count") }
            var instances: [String: ServiceInstance] = [:]
            for s in 0..<serviceCount {
                guard let id = r.readString(), let serviceName = r.readString(), let tags = r.readStrings(),
                      let serviceAddress = r.readString(), let port = r.read(UInt16.self), let serviceMeta = r.readMeta(),
                      let create = r.read(UInt64.self), let modify = r.read(UInt64.self)
                else { throw malformed("service \(s) of \(serviceCount) on node \"\(name)\" is truncated or not UTF-8") }
                guard !id.isEmpty, !serviceName.isEmpty else {
                    throw malformed("service \(s) on node \"\(name)\" has an empty id or name")
                }
                let instance = ServiceInstance(id: id, name: serviceName, tags: tags, address: serviceAddress, port: port,
                                               meta: serviceMeta, node: name, createIndex: create, modifyIndex: modify)
                guard instances.updateValue(instance, forKey: id) == nil else {
                    throw malformed("service \"\(id)\" appears twice on node \"\(name)\"")
                }
                instanceKeysByName[serviceName, default: []].insert(InstanceKey(node: name, id: id))
            }
            guard let checkCount = r.read(UInt32.self) else { throw malformed("node \"\(name)\" has no check count") }
            var checks: [String: HealthCheck] = [:]
            for c in 0..<checkCount {
                guard let id = r.readString(), let checkName = r.readString(), let serviceID = r.readString(),
                      let serviceName = r.readString(), let status = r.readStatus(), let output = r.readString(),
                      let definition = r.readDefinition(), let create = r.read(UInt64.self), let modify = r.read(UInt64.self)
                else { throw malformed("check \(c) of \(checkCount) on node \"\(name)\" is truncated or malformed") }
                guard !id.isEmpty else { throw malformed("check \(c) on node \"\(name)\" has an empty id") }
                if serviceID.isEmpty {
                    guard serviceName.isEmpty else {
                        throw malformed("node-level check \"\(id)\" on node \"\(name)\" names service \"\(serviceName)\"")
                    }
                } else {
                    guard let instance = instances[serviceID] else {
                        throw malformed("check \"\(id)\" on node \"\(name)\" belongs to unknown service \"\(serviceID)\"")
                    }
                    guard instance.name == serviceName else {
                        throw malformed("check \"\(id)\" on node \"\(name)\" names service \"\(serviceName)\", not \"\(instance.name)\"")
                    }
                }
                let check = HealthCheck(id: id, name: checkName, node: name, serviceID: serviceID, serviceName: serviceName,
                                        status: status, output: output, definition: definition, createIndex: create,
                                        modifyIndex: modify)
                guard checks.updateValue(check, forKey: id) == nil else {
                    throw malformed("check \"\(id)\" appears twice on node \"\(name)\"")
                }
            }
            guard !instances.isEmpty || !checks.isEmpty else { throw malformed("node \"\(name)\" has no services and no checks") }
            if !instances.isEmpty { instancesByNode[name] = instances }
            if !checks.isEmpty { checksByNode[name] = checks }
        }
        guard r.isAtEnd else { throw malformed("trailing bytes after the last node") }
    }
}
