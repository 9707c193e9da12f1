import CairnWire

/// The catalog: service instances, nodes and health checks (Consul's `/v1/catalog`,
/// `/v1/health` and TTL check updates).
extension CairnClient {
    /// Registers (or updates) a service instance with its node and checks; returns the Raft
    /// index of the registration. Registering the same definition again changes nothing, so the
    /// call is retried after a lost connection.
    @discardableResult
    public func register(_ registration: ServiceRegistration) async throws -> UInt64 {
        guard case .applied(let index) = try await perform(.catalogRegister(registration), idempotent: true) else { throw unexpected() }
        return index
    }

    /// Deregisters service instance `serviceID` and its checks from `node` (empty: whichever
    /// node has it); returns the Raft index of the change.
    @discardableResult
    public func deregister(serviceID: String, node: String = "") async throws -> UInt64 {
        guard case .applied(let index) = try await perform(.catalogDeregister(node: node, serviceID: serviceID), idempotent: true) else {
            throw unexpected()
        }
        return index
    }

    /// Every service with the union of its instances' tags, in name order.
    public func services(consistency: ReadConsistency = .linearizable) async throws -> [ServiceSummary] {
        guard case .catalogServices(let services, _) = try await perform(.catalogServices(consistency: consistency), idempotent: true) else {
            throw unexpected()
        }
        return services
    }

    /// The instances of service `name` with their node and checks, ordered by node then id.
    /// Only those tagged `tag` when it is not empty; only those whose checks all pass when
    /// `passingOnly` (Consul's `/v1/health/service/<name>?passing`).
    public func service(name: String, tag: String = "", passingOnly: Bool = false,
                        consistency: ReadConsistency = .linearizable) async throws -> [ServiceHealth] {
        try await serviceWithMeta(name: name, tag: tag, passingOnly: passingOnly, consistency: consistency).instances
    }

    /// ``service(name:tag:passingOnly:consistency:)`` with the read's ``ReadMeta``; its index is
    /// where a ``WatchTarget/service(name:tag:passingOnly:)`` watch continues.
    public func serviceWithMeta(name: String, tag: String = "", passingOnly: Bool = false,
                                consistency: ReadConsistency = .linearizable) async throws -> (instances: [ServiceHealth], meta: ReadMeta) {
        let request = ClientRequest.catalogService(name: name, tag: tag, passingOnly: passingOnly, consistency: consistency)
        guard case .catalogService(let instances, let meta) = try await perform(request, idempotent: true) else { throw unexpected() }
        return (instances, meta)
    }

    /// Every node, in name order.
    public func nodes(consistency: ReadConsistency = .linearizable) async throws -> [CatalogNode] {
        guard case .catalogNodes(let nodes, _) = try await perform(.catalogNodes(consistency: consistency), idempotent: true) else {
            throw unexpected()
        }
        return nodes
    }

    /// Node `node` (nil when unknown) and the service instances registered on it.
    public func nodeServices(node: String, consistency: ReadConsistency = .linearizable) async throws -> (node: CatalogNode?, services: [ServiceInstance]) {
        let request = ClientRequest.catalogNodeServices(node: node, consistency: consistency)
        guard case .catalogNodeServices(let found, let services, _) = try await perform(request, idempotent: true) else { throw unexpected() }
        return (found, services)
    }

    /// The health checks of service `serviceName` (empty: every check), ordered by node then id.
    public func checks(serviceName: String = "", consistency: ReadConsistency = .linearizable) async throws -> [HealthCheck] {
        let request = ClientRequest.healthChecks(serviceName: serviceName, consistency: consistency)
        guard case .healthChecks(let checks, _) = try await perform(request, idempotent: true) else { throw unexpected() }
        return checks
    }

    /// Reports TTL check `checkID`'s status, resetting its TTL (`node` empty: whichever node
    /// has the check). Returns the Raft index of the check's current state. Reporting the same
    /// status twice is harmless, so the call is retried after a lost connection.
    @discardableResult
    public func updateCheck(checkID: String, status: CheckStatus, output: String = "", node: String = "") async throws -> UInt64 {
        let request = ClientRequest.checkUpdate(node: node, checkID: checkID, status: status, output: output)
        guard case .applied(let index) = try await perform(request, idempotent: true) else { throw unexpected() }
        return index
    }

    /// Reports TTL check `checkID` as passing (Consul's `/v1/agent/check/pass`).
    @discardableResult
    public func passTTL(checkID: String, note: String = "", node: String = "") async throws -> UInt64 {
        try await updateCheck(checkID: checkID, status: .passing, output: note, node: node)
    }

    /// Reports TTL check `checkID` as warning (Consul's `/v1/agent/check/warn`).
    @discardableResult
    public func warnTTL(checkID: String, note: String = "", node: String = "") async throws -> UInt64 {
        try await updateCheck(checkID: checkID, status: .warning, output: note, node: node)
    }

    /// Reports TTL check `checkID` as critical (Consul's `/v1/agent/check/fail`).
    @discardableResult
    public func failTTL(checkID: String, note: String = "", node: String = "") async throws -> UInt64 {
        try await updateCheck(checkID: checkID, status: .critical, output: note, node: node)
    }
}
