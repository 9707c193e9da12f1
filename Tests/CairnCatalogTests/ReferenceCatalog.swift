import CairnCatalog
import CairnWire

/// A deliberately naive catalog — flat arrays and linear scans — written from the rules in
/// `CatalogStore`'s documentation, to compare the real one against.
struct ReferenceCatalog {
    var nodes: [CatalogNode] = []
    var services: [ServiceInstance] = []
    var checks: [HealthCheck] = []

    enum Outcome: Equatable { case applied, notFound, rejected }

    mutating func apply(_ command: CatalogCommand, at index: UInt64) -> Outcome {
        switch command {
        case .register(let r): return register(r, at: index)
        case .deregister(let node, let id):
            let victims = services.filter { $0.id == id && (node.isEmpty || $0.node == node) }
            if id.isEmpty { return .rejected }
            if victims.isEmpty { return .notFound }
            for v in victims {
                services.removeAll { $0.node == v.node && $0.id == id }
                checks.removeAll { $0.node == v.node && $0.serviceID == id }
                pruneNode(v.node)
            }
            return .applied
        case .updateCheck(let node, let id, let status, let output):
            let targets = checks.indices.filter { checks[$0].id == id && (node.isEmpty || checks[$0].node == node) }
            if targets.isEmpty { return .notFound }
            for i in targets where checks[i].status != status || checks[i].output != output {
                checks[i].status = status
                checks[i].output = output
                checks[i].modifyIndex = index
            }
            return .applied
        case .registerNodeCheck(let node, var definition):
            guard nodes.contains(where: { $0.name == node }) else { return .notFound }
            if definition.id.isEmpty { definition.id = definition.name }
            if definition.name.isEmpty { definition.name = definition.id }
            let existing = checks.first { $0.node == node && $0.id == definition.id }
            if let existing, !existing.serviceID.isEmpty { return .rejected }
            if let existing, existing.definition == definition { return .applied }
            checks.removeAll { $0.node == node && $0.id == definition.id }
            checks.append(HealthCheck(id: definition.id, name: definition.name, node: node, serviceID: "", serviceName: "",
                                      status: definition.initialStatus, output: "", definition: definition,
                                      createIndex: existing?.createIndex ?? index, modifyIndex: index))
            return .applied
        case .deregisterCheck(let node, let id):
            let victims = checks.filter { $0.id == id && (node.isEmpty || $0.node == node) }
            if victims.isEmpty { return .notFound }
            for v in victims {
                checks.removeAll { $0.node == v.node && $0.id == id }
                pruneNode(v.node)
            }
            return .applied
        }
    }

    private mutating func register(_ r: ServiceRegistration, at index: UInt64) -> Outcome {
        if r.service.name.isEmpty || r.node.isEmpty { return .rejected }
        let id = r.service.id.isEmpty ? r.service.name : r.service.id
        var definitions: [CheckDefinition] = []
        for (n, check) in r.checks.enumerated() {
            var d = check
            if d.id.isEmpty { d.id = r.checks.count == 1 ? "service:\(id)" : "service:\(id):\(n + 1)" }
            if d.name.isEmpty { d.name = "Service '\(r.service.name)' check" }
            definitions.append(d)
        }
        if Set(definitions.map(\.id)).count != definitions.count { return .rejected }
        for d in definitions where checks.contains(where: { $0.node == r.node && $0.id == d.id && $0.serviceID != id }) {
            return .rejected
        }
        let oldNode = nodes.first { $0.name == r.node }
        let address = !r.nodeAddress.isEmpty ? r.nodeAddress : (oldNode?.address ?? r.service.address)
        nodes.removeAll { $0.name == r.node }
        nodes.append(CatalogNode(name: r.node, address: address))

        let old = services.first { $0.node == r.node && $0.id == id }
        services.removeAll { $0.node == r.node && $0.id == id }
        services.append(ServiceInstance(id: id, name: r.service.name, tags: r.service.tags, address: r.service.address,
                                        port: r.service.port, meta: r.service.meta, node: r.node,
                                        createIndex: old?.createIndex ?? index, modifyIndex: index))

        let previous = checks.filter { $0.node == r.node && $0.serviceID == id }
        checks.removeAll { $0.node == r.node && $0.serviceID == id }
        for d in definitions {
            if var kept = previous.first(where: { $0.id == d.id }), kept.definition == d {
                if kept.serviceName != r.service.name {
                    kept.serviceName = r.service.name
                    kept.modifyIndex = index
                }
                checks.append(kept)
            } else {
                let createIndex = previous.first { $0.id == d.id }?.createIndex ?? index
                checks.append(HealthCheck(id: d.id, name: d.name, node: r.node, serviceID: id, serviceName: r.service.name,
                                          status: d.initialStatus, output: "", definition: d, createIndex: createIndex,
                                          modifyIndex: index))
            }
        }
        return .applied
    }

    private mutating func pruneNode(_ node: String) {
        if !services.contains(where: { $0.node == node }) && !checks.contains(where: { $0.node == node }) {
            nodes.removeAll { $0.name == node }
        }
    }

    // MARK: Queries, with the orders CatalogStore documents

    func serviceSummaries() -> [ServiceSummary] {
        Set(services.map(\.name)).sorted().map { name in
            ServiceSummary(name: name, tags: Set(services.filter { $0.name == name }.flatMap(\.tags)).sorted())
        }
    }

    func service(name: String, tag: String, passingOnly: Bool) -> [ServiceHealth] {
        services.filter { $0.name == name && (tag.isEmpty || $0.tags.contains(tag)) }
            .sorted { ($0.node, $0.id) < ($1.node, $1.id) }
            .map { s in
                let node = nodes.first { $0.name == s.node }!
                let nodeChecks = checks.filter { $0.node == s.node && $0.serviceID.isEmpty }.sorted { $0.id < $1.id }
                let own = checks.filter { $0.node == s.node && $0.serviceID == s.id }.sorted { $0.id < $1.id }
                return ServiceHealth(node: node, service: s, checks: nodeChecks + own)
            }
            .filter { !passingOnly || $0.checks.allSatisfy { $0.status == .passing } }
    }

    func sortedNodes() -> [CatalogNode] { nodes.sorted { $0.name < $1.name } }

    func nodeServices(_ node: String) -> (CatalogNode?, [ServiceInstance]) {
        (nodes.first { $0.name == node }, services.filter { $0.node == node }.sorted { $0.id < $1.id })
    }

    func checks(serviceName: String) -> [HealthCheck] {
        checks.filter { serviceName.isEmpty || $0.serviceName == serviceName }.sorted { ($0.node, $0.id) < ($1.node, $1.id) }
    }
}
