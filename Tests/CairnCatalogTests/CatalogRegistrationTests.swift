import CairnCatalog
import CairnWire
import Testing

@Suite("Catalog registration, deregistration and check updates")
struct CatalogRegistrationTests {
    @Test("registering creates the node and the instance, with the id defaulting to the name")
    func registerCreates() throws {
        var catalog = CatalogStore()
        #expect(catalog.run(.register(registration(node: "n1", nodeAddress: "10.0.0.1", name: "web", tags: ["v1"],
                                                   address: "10.0.0.9", port: 80, meta: ["team": "a"])), at: 5) == .applied)
        #expect(catalog.nodes() == [CatalogNode(name: "n1", address: "10.0.0.1")])
        let instance = try #require(catalog.instance(node: "n1", id: "web"))
        #expect(instance == ServiceInstance(id: "web", name: "web", tags: ["v1"], address: "10.0.0.9", port: 80,
                                            meta: ["team": "a"], node: "n1", createIndex: 5, modifyIndex: 5))
    }

    @Test("the node address is the given one, else the node's existing one, else the service address")
    func nodeAddressRules() {
        var catalog = CatalogStore()
        catalog.run(.register(registration(node: "n1", name: "web", address: "10.0.0.9")), at: 1)
        #expect(catalog.nodeServices("n1").0?.address == "10.0.0.9")
        catalog.run(.register(registration(node: "n1", name: "db", address: "10.0.0.7")), at: 2)
        #expect(catalog.nodeServices("n1").0?.address == "10.0.0.9")
        catalog.run(.register(registration(node: "n1", nodeAddress: "192.168.1.1", name: "db")), at: 3)
        #expect(catalog.nodeServices("n1").0?.address == "192.168.1.1")
    }

    @Test("re-registering keeps the create index, moves the modify index and replaces the fields")
    func reRegister() throws {
        var catalog = CatalogStore()
        catalog.run(.register(registration(id: "web-1", name: "web", tags: ["a"], port: 80)), at: 3)
        catalog.run(.register(registration(id: "web-1", name: "web", tags: ["b"], port: 81)), at: 8)
        let instance = try #require(catalog.instance(node: "n1", id: "web-1"))
        #expect(instance.createIndex == 3)
        #expect(instance.modifyIndex == 8)
        #expect(instance.tags == ["b"])
        #expect(instance.port == 81)
        #expect(catalog.nodeServices("n1").1.count == 1)
    }

    @Test("check ids and names get Consul's defaults")
    func checkDefaults() {
        var catalog = CatalogStore()
        catalog.run(.register(registration(id: "web-1", name: "web", checks: [ttlCheck()])), at: 1)
        catalog.run(.register(registration(id: "db-1", name: "db",
                                           checks: [ttlCheck(), ttlCheck(id: "mine", name: "Mine"), httpCheck()])), at: 2)
        #expect(catalog.checks(serviceName: "web").map(\.id) == ["service:web-1"])
        #expect(catalog.checks(serviceName: "web").map(\.name) == ["Service 'web' check"])
        #expect(catalog.checks(serviceName: "db").map(\.id) == ["mine", "service:db-1:1", "service:db-1:3"])
        #expect(catalog.check(node: "n1", id: "mine")?.name == "Mine")
        #expect(catalog.check(node: "n1", id: "service:db-1:3")?.name == "Service 'db' check")
    }

    @Test("a new check starts at its initial status with the registering index")
    func newCheckStatus() throws {
        var catalog = CatalogStore()
        catalog.run(.register(registration(name: "web", checks: [ttlCheck(initial: .warning)])), at: 4)
        let check = try #require(catalog.check(node: "n1", id: "service:web"))
        #expect(check.status == .warning)
        #expect(check.output == "")
        #expect(check.serviceID == "web")
        #expect(check.serviceName == "web")
        #expect(check.node == "n1")
        #expect(check.createIndex == 4)
        #expect(check.modifyIndex == 4)
        #expect(check.definition.id == "service:web")
    }

    @Test("re-registering with the same check definition keeps the check's status, output and indices")
    func statusKeptAcrossReRegistration() throws {
        var catalog = CatalogStore()
        catalog.run(.register(registration(name: "web", checks: [ttlCheck()])), at: 1)
        catalog.run(.updateCheck(node: "n1", checkID: "service:web", status: .passing, output: "fine"), at: 2)
        catalog.run(.register(registration(name: "web", tags: ["new"], checks: [ttlCheck()])), at: 3)
        let kept = try #require(catalog.check(node: "n1", id: "service:web"))
        #expect(kept.status == .passing)
        #expect(kept.output == "fine")
        #expect(kept.createIndex == 1)
        #expect(kept.modifyIndex == 2)

        catalog.run(.register(registration(name: "web", checks: [ttlCheck(seconds: 20)])), at: 4)
        let reset = try #require(catalog.check(node: "n1", id: "service:web"))
        #expect(reset.status == .critical)
        #expect(reset.output == "")
        #expect(reset.createIndex == 1)
        #expect(reset.modifyIndex == 4)
    }

    @Test("re-registering replaces the instance's checks: missing ones are removed")
    func checksReplaced() {
        var catalog = CatalogStore()
        catalog.run(.register(registration(name: "web", checks: [ttlCheck(id: "a"), ttlCheck(id: "b")])), at: 1)
        catalog.run(.register(registration(name: "web", checks: [ttlCheck(id: "b"), ttlCheck(id: "c")])), at: 2)
        #expect(catalog.checks(serviceName: "web").map(\.id) == ["b", "c"])
        catalog.run(.register(registration(name: "web")), at: 3)
        #expect(catalog.checks(serviceName: "web").isEmpty)
    }

    @Test("renaming an instance moves it and its checks to the new service name")
    func rename() {
        var catalog = CatalogStore()
        catalog.run(.register(registration(id: "x", name: "old", checks: [ttlCheck()])), at: 1)
        catalog.run(.register(registration(id: "x", name: "new", checks: [ttlCheck()])), at: 2)
        #expect(catalog.services().map(\.name) == ["new"])
        #expect(catalog.service(name: "old").isEmpty)
        #expect(catalog.checks(serviceName: "new").map(\.serviceName) == ["new"])
        #expect(catalog.check(node: "n1", id: "service:x")?.modifyIndex == 2)
    }

    @Test("a check id owned by another service on the node is rejected without any change")
    func checkOwnershipConflict() throws {
        var catalog = CatalogStore()
        catalog.run(.register(registration(name: "web", checks: [ttlCheck(id: "shared")])), at: 1)
        let before = catalog.snapshot()
        let applied = catalog.run(.register(registration(name: "db", checks: [ttlCheck(id: "shared")])), at: 2)
        let result = try #require(applied)
        #expect(result.isRejected)
        #expect(catalog.snapshot() == before)
        // The same id on another node is fine.
        #expect(catalog.run(.register(registration(node: "n2", name: "db", checks: [ttlCheck(id: "shared")])), at: 3) == .applied)
        #expect(catalog.checks(id: "shared").map(\.node) == ["n1", "n2"])
    }

    @Test("invalid registrations are rejected by apply and change nothing", arguments: [
        registration(name: ""),
        registration(node: "", name: "web"),
        registration(name: String(repeating: "x", count: 1025)),
        registration(id: String(repeating: "x", count: 1025), name: "web"),
        registration(name: "web", tags: [String(repeating: "t", count: 1025)]),
        registration(name: "web", meta: ["": "v"]),
        registration(name: "web", checks: [ttlCheck(id: "a"), ttlCheck(id: "a")]),
        registration(name: "web", checks: [ttlCheck(seconds: 0)]),
        registration(name: "web", checks: [httpCheck(url: "https://example.com/")]),
        registration(name: "web", checks: [tcpCheck(address: "localhost")]),
        registration(name: "web", checks: [httpCheck(interval: 10, timeout: 5)]),
    ])
    func invalidRejected(_ bad: ServiceRegistration) throws {
        var catalog = CatalogStore()
        catalog.run(.register(registration(name: "other")), at: 1)
        _ = catalog.takeChanges()
        let before = catalog.snapshot()
        let applied = catalog.run(.register(bad), at: 2)
        let result = try #require(applied)
        #expect(result.isRejected)
        #expect(catalog.snapshot() == before)
        #expect(catalog.takeChanges().isEmpty)
    }

    @Test("deregistering removes the instance and its checks, and the node once it is empty")
    func deregister() {
        var catalog = CatalogStore()
        catalog.run(.register(registration(name: "web", checks: [ttlCheck()])), at: 1)
        catalog.run(.register(registration(name: "db", checks: [ttlCheck()])), at: 2)
        #expect(catalog.run(.deregister(node: "n1", serviceID: "web"), at: 3) == .applied)
        #expect(catalog.instance(node: "n1", id: "web") == nil)
        #expect(catalog.checks(serviceName: "web").isEmpty)
        #expect(catalog.nodes().map(\.name) == ["n1"])
        #expect(catalog.run(.deregister(node: "n1", serviceID: "db"), at: 4) == .applied)
        #expect(catalog.nodes().isEmpty)
        #expect(catalog.allChecks().isEmpty)
        #expect(catalog.snapshot() == CatalogStore().snapshot())
    }

    @Test("deregistering with no node removes the instance from every node that has it")
    func deregisterAnyNode() {
        var catalog = CatalogStore()
        catalog.run(.register(registration(node: "n1", id: "api", name: "web")), at: 1)
        catalog.run(.register(registration(node: "n2", id: "api", name: "web")), at: 2)
        catalog.run(.register(registration(node: "n2", id: "other", name: "web")), at: 3)
        #expect(catalog.instances(id: "api").map(\.node) == ["n1", "n2"])
        #expect(catalog.run(.deregister(node: "", serviceID: "api"), at: 4) == .applied)
        #expect(catalog.instances(id: "api").isEmpty)
        #expect(catalog.nodes().map(\.name) == ["n2"])
        #expect(catalog.service(name: "web").map(\.service.id) == ["other"])
    }

    @Test("deregistering an unknown instance is not found and changes nothing")
    func deregisterUnknown() {
        var catalog = CatalogStore()
        catalog.run(.register(registration(node: "n1", name: "web")), at: 1)
        _ = catalog.takeChanges()
        let before = catalog.snapshot()
        #expect(catalog.run(.deregister(node: "n2", serviceID: "web"), at: 2) == .notFound)
        #expect(catalog.run(.deregister(node: "n1", serviceID: "db"), at: 3) == .notFound)
        #expect(catalog.run(.deregister(node: "", serviceID: "db"), at: 4) == .notFound)
        #expect(catalog.snapshot() == before)
        #expect(catalog.takeChanges().isEmpty)
        #expect(catalog.run(.deregister(node: "n1", serviceID: ""), at: 5)?.isRejected == true)
    }

    @Test("a check update sets status, output and modify index; an unknown check is not found")
    func updateCheck() throws {
        var catalog = CatalogStore()
        catalog.run(.register(registration(name: "web", checks: [ttlCheck()])), at: 1)
        #expect(catalog.run(.updateCheck(node: "n1", checkID: "service:web", status: .passing, output: "ok"), at: 2) == .applied)
        let check = try #require(catalog.check(node: "n1", id: "service:web"))
        #expect(check.status == .passing)
        #expect(check.output == "ok")
        #expect(check.modifyIndex == 2)
        #expect(check.createIndex == 1)
        #expect(catalog.run(.updateCheck(node: "n1", checkID: "nope", status: .passing, output: ""), at: 3) == .notFound)
        #expect(catalog.run(.updateCheck(node: "n9", checkID: "service:web", status: .passing, output: ""), at: 4) == .notFound)
    }

    @Test("a check update that changes nothing applies as a no-op")
    func updateCheckNoOp() {
        var catalog = CatalogStore()
        catalog.run(.register(registration(name: "web", checks: [ttlCheck()])), at: 1)
        catalog.run(.updateCheck(node: "n1", checkID: "service:web", status: .passing, output: "ok"), at: 2)
        _ = catalog.takeChanges()
        #expect(catalog.run(.updateCheck(node: "n1", checkID: "service:web", status: .passing, output: "ok"), at: 3) == .applied)
        #expect(catalog.check(node: "n1", id: "service:web")?.modifyIndex == 2)
        #expect(catalog.takeChanges().isEmpty)
    }

    @Test("a check update with no node updates the check on every node that has it")
    func updateCheckAnyNode() {
        var catalog = CatalogStore()
        catalog.run(.register(registration(node: "n1", name: "web", checks: [ttlCheck()])), at: 1)
        catalog.run(.register(registration(node: "n2", name: "web", checks: [ttlCheck()])), at: 2)
        #expect(catalog.run(.updateCheck(node: "", checkID: "service:web", status: .warning, output: "slow"), at: 3) == .applied)
        #expect(catalog.checks(id: "service:web").map(\.status) == [.warning, .warning])
    }

    @Test("a check output longer than the limit is cut at a character boundary")
    func outputTruncated() throws {
        var catalog = CatalogStore()
        catalog.run(.register(registration(name: "web", checks: [ttlCheck()])), at: 1)
        let long = "a" + String(repeating: "é", count: CatalogStore.maxOutputBytes)
        catalog.run(.updateCheck(node: "n1", checkID: "service:web", status: .passing, output: long), at: 2)
        let output = try #require(catalog.check(node: "n1", id: "service:web")?.output)
        #expect(output.utf8.count == CatalogStore.maxOutputBytes - 1)
        #expect(long.hasPrefix(output))
    }

    @Test("node-level checks need an existing node, keep the node alive and go with deregisterCheck")
    func nodeChecks() throws {
        var catalog = CatalogStore()
        #expect(catalog.run(.registerNodeCheck(node: "n1", check: ttlCheck(name: "serf")), at: 1) == .notFound)
        catalog.run(.register(registration(name: "web")), at: 2)
        #expect(catalog.run(.registerNodeCheck(node: "n1", check: ttlCheck(name: "serf")), at: 3) == .applied)
        let check = try #require(catalog.check(node: "n1", id: "serf"))
        #expect(check.serviceID == "")
        #expect(check.serviceName == "")
        #expect(check.name == "serf")
        // A service cannot claim a node-level check's id; a node-level check needs an id or a name.
        #expect(catalog.run(.register(registration(name: "db", checks: [ttlCheck(id: "serf")])), at: 4)?.isRejected == true)
        #expect(catalog.run(.registerNodeCheck(node: "n1", check: ttlCheck()), at: 6)?.isRejected == true)

        #expect(catalog.run(.deregister(node: "n1", serviceID: "web"), at: 7) == .applied)
        #expect(catalog.nodes().map(\.name) == ["n1"])
        #expect(catalog.run(.deregisterCheck(node: "n1", checkID: "serf"), at: 8) == .applied)
        #expect(catalog.nodes().isEmpty)
        #expect(catalog.run(.deregisterCheck(node: "n1", checkID: "serf"), at: 9) == .notFound)
    }

    @Test("a node-level check with a service's check id is rejected")
    func nodeCheckConflict() throws {
        var catalog = CatalogStore()
        catalog.run(.register(registration(name: "web", checks: [ttlCheck()])), at: 1)
        let applied = catalog.run(.registerNodeCheck(node: "n1", check: ttlCheck(id: "service:web")), at: 2)
        let result = try #require(applied)
        #expect(result.isRejected)
        #expect(catalog.check(node: "n1", id: "service:web")?.serviceID == "web")
    }

    @Test("deregistering one of a service's checks leaves the service")
    func deregisterServiceCheck() {
        var catalog = CatalogStore()
        catalog.run(.register(registration(name: "web", checks: [ttlCheck()])), at: 1)
        #expect(catalog.run(.deregisterCheck(node: "", checkID: "service:web"), at: 2) == .applied)
        #expect(catalog.checks(serviceName: "web").isEmpty)
        #expect(catalog.instance(node: "n1", id: "web") != nil)
    }

    @Test("malformed command bytes are rejected")
    func malformedCommand() throws {
        var catalog = CatalogStore()
        let applied = CatalogResult(decoding: catalog.apply([99, 1, 2], at: 1))
        let result = try #require(applied)
        #expect(result.isRejected)
        #expect(catalog.nodes().isEmpty)
    }
}
