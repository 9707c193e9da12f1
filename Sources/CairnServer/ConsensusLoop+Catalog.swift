import CairnCatalog
import CairnKernel
import CairnRaft
import CairnWire

extension ConsensusLoop {
    /// The catalog's operations and TTL check reports.
    func planCatalog(_ request: ClientRequest) -> RequestPlan {
        switch request {
        case .catalogRegister(var registration):
            if registration.node.isEmpty {
                // Registered with this server's own node, as a Consul agent does: the node's
                // address is the host this server serves clients on.
                registration.node = nodeName
                if registration.nodeAddress.isEmpty { registration.nodeAddress = ownHost }
            }
            if let problem = CatalogStore.validate(registration) { return .answer(.error(problem.code, message: problem.message)) }
            return .propose(CatalogCommand.register(registration).encoded(), complete: Self.catalogAnswer)
        case .catalogDeregister(let node, let serviceID):
            return .propose(CatalogCommand.deregister(node: node, serviceID: serviceID).encoded(), complete: Self.catalogAnswer)
        case .catalogServices(let consistency):
            return .read(consistency) { .catalogServices($0.catalog.services(), $0.meta) }
        case .catalogService(let name, let tag, let passingOnly, let consistency):
            return .read(consistency) { .catalogService($0.catalog.service(name: name, tag: tag, passingOnly: passingOnly), $0.meta) }
        case .catalogNodes(let consistency):
            return .read(consistency) { .catalogNodes($0.catalog.nodes(), $0.meta) }
        case .catalogNodeServices(let node, let consistency):
            return .read(consistency) { view in
                let (found, services) = view.catalog.nodeServices(node)
                return .catalogNodeServices(found, services, view.meta)
            }
        case .healthChecks(let serviceName, let consistency):
            return .read(consistency) { .healthChecks($0.catalog.checks(serviceName: serviceName), $0.meta) }
        case .checkUpdate(let node, let checkID, let status, let output):
            guard raft.role == .leader else { return .answer(notLeader()) }
            let matches = state.catalog.checks(id: checkID).filter { node.isEmpty || $0.node == node }
            guard let check = matches.first else {
                return .answer(.error(.notFound, message: "no check \"\(checkID)\"" + (node.isEmpty ? "" : " on node \"\(node)\"")))
            }
            guard matches.count == 1 else {
                return .answer(.error(.invalidArgument, message: "check \"\(checkID)\" exists on several nodes; name the node"))
            }
            guard case .ttl = check.definition.kind else {
                return .answer(.error(.invalidArgument, message: "check \"\(checkID)\" is not a TTL check; the servers run it themselves"))
            }
            leaderDuties.health.ttlReported(node: check.node, checkID: checkID, now: monotonicMilliseconds)
            if check.status == status && check.output == output { return .answer(.applied(index: check.modifyIndex)) }
            return .propose(CatalogCommand.updateCheck(node: check.node, checkID: checkID, status: status, output: output).encoded(),
                            complete: Self.catalogAnswer)
        default:
            return .answer(.error(.internalError, message: "catalog planner given \(request)"))
        }
    }

    static func catalogAnswer(_ bytes: [UInt8], _ index: LogIndex) -> ClientResponse {
        switch CatalogResult(decoding: bytes) {
        case .applied?: return .applied(index: index)
        case .notFound?: return .error(.notFound, message: "no such service or check (at index \(index))")
        case .rejected(let reason)?: return .error(.invalidArgument, message: reason)
        default: return unexpected(bytes, index)
        }
    }
}
