import CairnWire

extension CatalogStore {
    /// Every service name with the sorted union of its instances' tags, in name order.
    public func services() -> [ServiceSummary] {
        instanceKeysByName.keys.sorted().map { ServiceSummary(name: $0, tags: tagUnion(of: $0) ?? []) }
    }

    /// The instances of service `name` with their node and health, ordered by node then id
    /// (Consul's `/health/service/:name`).
    ///
    /// Each entry's checks are the node-level checks of its node, then the instance's own checks,
    /// each group in id order. `tag` keeps only instances carrying that tag ("" keeps all);
    /// `passingOnly` keeps only instances whose ``ServiceHealth/aggregateStatus`` is passing.
    public func service(name: String, tag: String = "", passingOnly: Bool = false) -> [ServiceHealth] {
        guard let keys = instanceKeysByName[name] else { return [] }
        var result: [ServiceHealth] = []
        for key in keys.sorted() {
            guard let instance = instancesByNode[key.node]?[key.id], let node = nodesByName[key.node],
                  tag.isEmpty || instance.tags.contains(tag)
            else { continue }
            let nodeChecks = (checksByNode[key.node] ?? [:]).values
            let checks = nodeChecks.filter { $0.serviceID.isEmpty }.sorted { $0.id < $1.id }
                + nodeChecks.filter { $0.serviceID == key.id }.sorted { $0.id < $1.id }
            let entry = ServiceHealth(node: node, service: instance, checks: checks)
            if !passingOnly || entry.aggregateStatus == .passing { result.append(entry) }
        }
        return result
    }

    /// Every node, in name order.
    public func nodes() -> [CatalogNode] {
        nodesByName.keys.sorted().map { nodesByName[$0]! }
    }

    /// Node `name` (nil when unknown) and its service instances in id order.
    public func nodeServices(_ name: String) -> (CatalogNode?, [ServiceInstance]) {
        let instances = (instancesByNode[name] ?? [:]).values.sorted { $0.id < $1.id }
        return (nodesByName[name], instances)
    }

    /// The instance `id` on `node`, if registered.
    public func instance(node: String, id: String) -> ServiceInstance? { instancesByNode[node]?[id] }

    /// Every instance with id `id`, whichever node it is on, in node order (what a deregistration
    /// with an empty node removes).
    public func instances(id: String) -> [ServiceInstance] {
        instancesByNode.keys.sorted().compactMap { instancesByNode[$0]?[id] }
    }

    /// The checks of service `serviceName` (not the node-level checks of its nodes); every check,
    /// node-level ones included, when `serviceName` is empty. Ordered by node, then id (Consul's
    /// `/health/checks/:service`).
    public func checks(serviceName: String) -> [HealthCheck] {
        var result: [HealthCheck] = []
        for node in checksByNode.keys.sorted() {
            let checks = checksByNode[node]!.values.filter { serviceName.isEmpty || $0.serviceName == serviceName }
            result += checks.sorted { $0.id < $1.id }
        }
        return result
    }

    /// Every check, ordered by node, then id (what ``HealthSchedule/sync(_:now:)`` takes).
    public func allChecks() -> [HealthCheck] { checks(serviceName: "") }

    /// Check `id` on `node`, if registered.
    public func check(node: String, id: String) -> HealthCheck? { checksByNode[node]?[id] }

    /// Every check with id `id`, whichever node it is on, in node order (for a check update that
    /// names no node).
    public func checks(id: String) -> [HealthCheck] {
        checksByNode.keys.sorted().compactMap { checksByNode[$0]?[id] }
    }
}
