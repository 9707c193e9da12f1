import CairnCatalog
import CairnWire
import Testing

@Suite("Catalog queries")
struct CatalogQueryTests {
    /// web on n1 (tags v1, blue; passing), web on n2 (tag v2; critical), web-2 on n2 (v1; no
    /// checks), db on n1; a node-level check on n2.
    static func sample() -> CatalogStore {
        var catalog = CatalogStore()
        catalog.run(.register(registration(node: "n2", nodeAddress: "10.0.0.2", id: "web-1", name: "web", tags: ["v2"],
                                           checks: [ttlCheck()])), at: 1)
        catalog.run(.register(registration(node: "n1", nodeAddress: "10.0.0.1", id: "web-1", name: "web", tags: ["v1", "blue"],
                                           checks: [ttlCheck(initial: .passing)])), at: 2)
        catalog.run(.register(registration(node: "n2", id: "web-2", name: "web", tags: ["v1"])), at: 3)
        catalog.run(.register(registration(node: "n1", name: "db", tags: ["primary"], checks: [tcpCheck()])), at: 4)
        catalog.run(.registerNodeCheck(node: "n2", check: ttlCheck(name: "agent", initial: .passing)), at: 5)
        return catalog
    }

    @Test("services lists every name in order with the sorted union of tags")
    func services() {
        #expect(Self.sample().services() == [ServiceSummary(name: "db", tags: ["primary"]),
                                             ServiceSummary(name: "web", tags: ["blue", "v1", "v2"])])
    }

    @Test("a service's instances come ordered by node then id, with the node and its checks")
    func serviceEntries() {
        let entries = Self.sample().service(name: "web")
        #expect(entries.map { "\($0.node.name)/\($0.service.id)" } == ["n1/web-1", "n2/web-1", "n2/web-2"])
        #expect(entries[0].node == CatalogNode(name: "n1", address: "10.0.0.1"))
        #expect(entries[0].checks.map(\.id) == ["service:web-1"])
        // Node-level checks first, then the instance's own.
        #expect(entries[1].checks.map(\.id) == ["agent", "service:web-1"])
        #expect(entries[2].checks.map(\.id) == ["agent"])
        #expect(Self.sample().service(name: "none").isEmpty)
    }

    @Test("the tag filter keeps only instances with that tag")
    func tagFilter() {
        let catalog = Self.sample()
        #expect(catalog.service(name: "web", tag: "v1").map { "\($0.node.name)/\($0.service.id)" } == ["n1/web-1", "n2/web-2"])
        #expect(catalog.service(name: "web", tag: "v2").map(\.node.name) == ["n2"])
        #expect(catalog.service(name: "web", tag: "missing").isEmpty)
    }

    @Test("the passing filter drops instances with any non-passing check, node-level ones included")
    func passingFilter() {
        var catalog = Self.sample()
        #expect(catalog.service(name: "web", passingOnly: true).map { "\($0.node.name)/\($0.service.id)" }
            == ["n1/web-1", "n2/web-2"])
        catalog.run(.updateCheck(node: "n2", checkID: "agent", status: .warning, output: ""), at: 6)
        #expect(catalog.service(name: "web", passingOnly: true).map { "\($0.node.name)/\($0.service.id)" } == ["n1/web-1"])
        #expect(catalog.service(name: "web", tag: "v1", passingOnly: true).map(\.node.name) == ["n1"])
        #expect(catalog.service(name: "db", passingOnly: true).isEmpty)
    }

    @Test("nodes and node services are in name and id order")
    func nodes() {
        let catalog = Self.sample()
        #expect(catalog.nodes().map(\.name) == ["n1", "n2"])
        let (node, instances) = catalog.nodeServices("n2")
        #expect(node?.address == "10.0.0.2")
        #expect(instances.map(\.id) == ["web-1", "web-2"])
        let (missing, none) = catalog.nodeServices("n9")
        #expect(missing == nil)
        #expect(none.isEmpty)
    }

    @Test("checks by service exclude node-level checks; all checks include them, by node then id")
    func checks() {
        let catalog = Self.sample()
        #expect(catalog.checks(serviceName: "web").map { "\($0.node)/\($0.id)" } == ["n1/service:web-1", "n2/service:web-1"])
        #expect(catalog.allChecks().map { "\($0.node)/\($0.id)" }
            == ["n1/service:db", "n1/service:web-1", "n2/agent", "n2/service:web-1"])
        #expect(catalog.checks(serviceName: "none").isEmpty)
        #expect(catalog.checks(id: "service:web-1").map(\.node) == ["n1", "n2"])
        #expect(catalog.check(node: "n2", id: "agent")?.status == .passing)
        #expect(catalog.check(node: "n1", id: "agent") == nil)
    }
}
