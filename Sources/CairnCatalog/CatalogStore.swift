import CairnKernel
import CairnRaft
import CairnWire

/// The replicated catalog: nodes, the service instances registered on them and their health
/// checks. A module of the replicated state machine, with Consul's catalog and health semantics.
///
/// Invariants:
/// - A service instance is identified by its node and its id; a check by its node and its id. A
///   check either belongs to one instance on its node (`serviceID` and `serviceName` set to the
///   instance's) or to the node itself (both empty).
/// - A node exists exactly while it has at least one service instance or node-level check:
///   registering creates it, removing its last instance and check removes it. Its address is set
///   by registrations (see ``CatalogCommand/register(_:)``); its metadata is kept as it is (no
///   command sets it yet).
/// - Every name (node, service name and id, check id and name, tags, meta keys) is non-empty where
///   required and at most ``maxNameBytes`` UTF-8 bytes; check outputs are at most
///   ``maxOutputBytes`` (longer ones are cut at a character boundary).
/// - `createIndex` is the Raft index that first registered a thing and never changes while it
///   exists; `modifyIndex` is the index that last changed it. Registering an instance always sets
///   its `modifyIndex`; a check's `modifyIndex` moves only when the check itself changes.
///
/// Applying is deterministic (no clock, no randomness): the health of HTTP, TCP and TTL checks is
/// decided outside, by the leader's ``HealthSchedule`` and prober, and enters the log as
/// ``CatalogCommand/updateCheck(node:checkID:status:output:)``.
///
/// Every applied change is also recorded for watchers (``takeChanges()``): that record is not
/// part of the replicated state or the snapshot.
public struct CatalogStore: StateMachineModule, Sendable {
    /// The module's tag in log entries and snapshots.
    public static let moduleTag: UInt8 = 2
    /// The longest name accepted (node, service, id, check id and name, tag, meta key), in UTF-8 bytes.
    public static let maxNameBytes = 1024
    /// The longest check output kept, in UTF-8 bytes; longer outputs are cut.
    public static let maxOutputBytes = 4096
    /// The shortest TTL of a TTL check: 1 s.
    public static let minimumTTLMilliseconds: UInt64 = 1_000
    /// The shortest interval of an HTTP or TCP check: 1 s.
    public static let minimumIntervalMilliseconds: UInt64 = 1_000
    /// The shortest non-zero "deregister after critical for": 1 s. Consul asks for a minute;
    /// Cairn accepts shorter so that tests and demos need not wait, and leaves the choice to the
    /// operator.
    public static let minimumDeregisterCriticalAfterMilliseconds: UInt64 = 1_000

    /// ``moduleTag``.
    public var tag: UInt8 { Self.moduleTag }

    /// The nodes, by name.
    var nodesByName: [String: CatalogNode] = [:]
    /// The service instances: node name → instance id → instance.
    var instancesByNode: [String: [String: ServiceInstance]] = [:]
    /// The checks: node name → check id → check.
    var checksByNode: [String: [String: HealthCheck]] = [:]
    /// Which instances carry each service name (kept in step with `instancesByNode`).
    var instanceKeysByName: [String: Set<InstanceKey>] = [:]
    /// The changes recorded since the last ``takeChanges()``.
    var pendingChanges: [StateChange] = []

    /// Creates an empty catalog.
    public init() {}

    /// Returns and forgets the changes applied since the last call, in apply order. Within one
    /// command: one `.service` per affected service name (sorted by name), then `.serviceList`
    /// when the set of service names or any service's tag union changed. Check updates never
    /// record `.serviceList`. Restoring a snapshot forgets the pending changes.
    public mutating func takeChanges() -> [StateChange] {
        defer { pendingChanges = [] }
        return pendingChanges
    }

    /// Applies a command's bytes (those after the tag) committed at `index` and returns the
    /// encoded ``CatalogResult``; bytes that do not decode are rejected without any change.
    public mutating func apply(_ command: ArraySlice<UInt8>, at index: LogIndex) -> [UInt8] {
        guard let decoded = CatalogCommand(decoding: command) else {
            return CatalogResult.rejected("the catalog command does not decode").encoded()
        }
        return apply(decoded, at: index).encoded()
    }

    /// Applies a decoded command at Raft index `index`.
    public mutating func apply(_ command: CatalogCommand, at index: LogIndex) -> CatalogResult {
        switch command {
        case .register(let registration): return register(registration, at: index)
        case .deregister(let node, let serviceID): return deregister(node: node, serviceID: serviceID, at: index)
        case .updateCheck(let node, let checkID, let status, let output):
            return updateCheck(node: node, checkID: checkID, status: status, output: output, at: index)
        case .registerNodeCheck(let node, let check): return registerNodeCheck(node: node, check: check, at: index)
        case .deregisterCheck(let node, let checkID): return deregisterCheck(node: node, checkID: checkID, at: index)
        }
    }

    // MARK: - Commands

    private mutating func register(_ registration: ServiceRegistration, at index: LogIndex) -> CatalogResult {
        if let problem = Self.validate(registration) { return .rejected(problem.message) }
        let node = registration.node
        guard !node.isEmpty else { return .rejected("the registration names no node") }
        let serviceID = Self.serviceID(of: registration.service)
        let definitions = Self.defaultedChecks(registration.checks, serviceID: serviceID,
                                              serviceName: registration.service.name)
        var nodeChecks = checksByNode[node] ?? [:]
        for definition in definitions {
            if let existing = nodeChecks[definition.id], existing.serviceID != serviceID {
                return .rejected("check \"\(definition.id)\" on node \"\(node)\" belongs to \(Self.owner(of: existing))")
            }
        }

        let key = InstanceKey(node: node, id: serviceID)
        let old = instancesByNode[node]?[serviceID]
        // The instance's service name before and after: the names whose tag unions can change.
        var ownNames = Set([registration.service.name])
        if let old { ownNames.insert(old.name) }
        let unionsBefore = tagUnions(of: ownNames)
        var affected = ownNames

        let existingNode = nodesByName[node]
        let address = !registration.nodeAddress.isEmpty ? registration.nodeAddress
            : (existingNode?.address ?? registration.service.address)
        nodesByName[node] = CatalogNode(name: node, address: address, meta: existingNode?.meta ?? [:])
        if let existingNode, existingNode.address != address {
            // Every entry of the node's services shows the node's address.
            affected.formUnion((instancesByNode[node] ?? [:]).values.map(\.name))
        }

        var instance = registration.service
        instance.id = serviceID
        instance.node = node
        instance.createIndex = old?.createIndex ?? index
        instance.modifyIndex = index
        if let old, old.name != instance.name { removeKey(key, name: old.name) }
        instanceKeysByName[instance.name, default: []].insert(key)
        instancesByNode[node, default: [:]][serviceID] = instance

        let kept = Set(definitions.map(\.id))
        for (id, check) in nodeChecks where check.serviceID == serviceID && !kept.contains(id) {
            nodeChecks[id] = nil
        }
        for definition in definitions {
            let existing = nodeChecks[definition.id]
            if var check = existing, check.definition == definition {
                check.serviceName = instance.name
                if check != existing { check.modifyIndex = index }
                nodeChecks[definition.id] = check
            } else {
                nodeChecks[definition.id] = HealthCheck(
                    id: definition.id, name: definition.name, node: node, serviceID: serviceID,
                    serviceName: instance.name, status: definition.initialStatus, output: "", definition: definition,
                    createIndex: existing?.createIndex ?? index, modifyIndex: index)
            }
        }
        checksByNode[node] = nodeChecks.isEmpty ? nil : nodeChecks

        record(services: affected, listChanged: tagUnions(of: ownNames) != unionsBefore, at: index)
        return .applied
    }

    private mutating func deregister(node: String, serviceID: String, at index: LogIndex) -> CatalogResult {
        if let problem = Self.nameProblem("service id", serviceID) ?? Self.lengthProblem("node name", node) {
            return .rejected(problem)
        }
        let nodes = node.isEmpty ? instancesByNode.keys.filter { instancesByNode[$0]?[serviceID] != nil }.sorted()
            : (instancesByNode[node]?[serviceID] == nil ? [] : [node])
        guard !nodes.isEmpty else { return .notFound }
        let affected = Set(nodes.compactMap { instancesByNode[$0]?[serviceID]?.name })
        let unionsBefore = tagUnions(of: affected)
        for node in nodes {
            guard let instance = instancesByNode[node]?.removeValue(forKey: serviceID) else { continue }
            removeKey(InstanceKey(node: node, id: serviceID), name: instance.name)
            checksByNode[node] = checksByNode[node]?.filter { $0.value.serviceID != serviceID }
            removeNodeIfEmpty(node)
        }
        record(services: affected, listChanged: tagUnions(of: affected) != unionsBefore, at: index)
        return .applied
    }

    private mutating func updateCheck(node: String, checkID: String, status: CheckStatus, output: String,
                                      at index: LogIndex) -> CatalogResult {
        if let problem = Self.nameProblem("check id", checkID) ?? Self.lengthProblem("node name", node) {
            return .rejected(problem)
        }
        let nodes = nodesHolding(checkID: checkID, on: node)
        guard !nodes.isEmpty else { return .notFound }
        let output = Self.truncated(output)
        var affected = Set<String>()
        for node in nodes {
            guard var check = checksByNode[node]?[checkID], check.status != status || check.output != output else {
                continue
            }
            check.status = status
            check.output = output
            check.modifyIndex = index
            checksByNode[node]?[checkID] = check
            affected.formUnion(servicesAffected(by: check))
        }
        record(services: affected, listChanged: false, at: index)
        return .applied
    }

    private mutating func registerNodeCheck(node: String, check: CheckDefinition, at index: LogIndex) -> CatalogResult {
        if let problem = Self.nameProblem("node name", node) ?? Self.validate(check: check)?.message {
            return .rejected(problem)
        }
        guard nodesByName[node] != nil else { return .notFound }
        var definition = check
        definition.id = check.id.isEmpty ? check.name : check.id
        definition.name = check.name.isEmpty ? definition.id : check.name
        guard !definition.id.isEmpty else { return .rejected("a node-level check needs an id or a name") }
        let existing = checksByNode[node]?[definition.id]
        if let existing, !existing.serviceID.isEmpty {
            return .rejected("check \"\(definition.id)\" on node \"\(node)\" belongs to \(Self.owner(of: existing))")
        }
        if let existing, existing.definition == definition { return .applied }
        let updated = HealthCheck(id: definition.id, name: definition.name, node: node, serviceID: "", serviceName: "",
                                  status: definition.initialStatus, output: "", definition: definition,
                                  createIndex: existing?.createIndex ?? index, modifyIndex: index)
        checksByNode[node, default: [:]][definition.id] = updated
        record(services: servicesAffected(by: updated), listChanged: false, at: index)
        return .applied
    }

    private mutating func deregisterCheck(node: String, checkID: String, at index: LogIndex) -> CatalogResult {
        if let problem = Self.nameProblem("check id", checkID) ?? Self.lengthProblem("node name", node) {
            return .rejected(problem)
        }
        let nodes = nodesHolding(checkID: checkID, on: node)
        guard !nodes.isEmpty else { return .notFound }
        var affected = Set<String>()
        for node in nodes {
            guard let check = checksByNode[node]?.removeValue(forKey: checkID) else { continue }
            affected.formUnion(servicesAffected(by: check))
            if checksByNode[node]?.isEmpty == true { checksByNode[node] = nil }
            removeNodeIfEmpty(node)
        }
        record(services: affected, listChanged: false, at: index)
        return .applied
    }

    // MARK: - Helpers

    /// The nodes (sorted) holding check `checkID`: `node` alone when named, else every node.
    private func nodesHolding(checkID: String, on node: String) -> [String] {
        if !node.isEmpty { return checksByNode[node]?[checkID] == nil ? [] : [node] }
        return checksByNode.keys.filter { checksByNode[$0]?[checkID] != nil }.sorted()
    }

    /// The service names whose health `check` decides: its own service's, or for a node-level
    /// check every service on its node.
    private func servicesAffected(by check: HealthCheck) -> Set<String> {
        if !check.serviceID.isEmpty { return [check.serviceName] }
        return Set((instancesByNode[check.node] ?? [:]).values.map(\.name))
    }

    /// The sorted tag union of each name in `names` that has instances.
    private func tagUnions(of names: Set<String>) -> [String: [String]] {
        var unions: [String: [String]] = [:]
        for name in names {
            if let union = tagUnion(of: name) { unions[name] = union }
        }
        return unions
    }

    /// The sorted union of the tags of `name`'s instances; nil when it has none.
    func tagUnion(of name: String) -> [String]? {
        guard let keys = instanceKeysByName[name] else { return nil }
        var tags = Set<String>()
        for key in keys { tags.formUnion(instancesByNode[key.node]?[key.id]?.tags ?? []) }
        return tags.sorted()
    }

    private mutating func removeKey(_ key: InstanceKey, name: String) {
        instanceKeysByName[name]?.remove(key)
        if instanceKeysByName[name]?.isEmpty == true { instanceKeysByName[name] = nil }
    }

    private mutating func removeNodeIfEmpty(_ node: String) {
        if instancesByNode[node]?.isEmpty == true { instancesByNode[node] = nil }
        if checksByNode[node]?.isEmpty == true { checksByNode[node] = nil }
        if instancesByNode[node] == nil, checksByNode[node] == nil { nodesByName[node] = nil }
    }

    private mutating func record(services: Set<String>, listChanged: Bool, at index: LogIndex) {
        for name in services.sorted() { pendingChanges.append(.service(name: name, index: index)) }
        if listChanged { pendingChanges.append(.serviceList(index: index)) }
    }

    private static func owner(of check: HealthCheck) -> String {
        check.serviceID.isEmpty ? "the node itself" : "service instance \"\(check.serviceID)\""
    }

    /// `output` cut to at most ``maxOutputBytes`` UTF-8 bytes at a character boundary.
    static func truncated(_ output: String) -> String {
        guard output.utf8.count > maxOutputBytes else { return output }
        var bytes = 0
        var end = output.startIndex
        for index in output.indices {
            let next = output.index(after: index)
            let size = output.utf8.distance(from: index, to: next)
            guard bytes + size <= maxOutputBytes else { break }
            bytes += size
            end = next
        }
        return String(output[..<end])
    }
}
