import CairnCatalog
import CairnWire
import Testing

@Suite("Catalog changes recorded for watchers")
struct CatalogChangeTests {
    @Test("a first registration records the service and the service list")
    func firstRegistration() {
        var catalog = CatalogStore()
        catalog.run(.register(registration(name: "web", tags: ["a"])), at: 4)
        #expect(catalog.takeChanges() == [.service(name: "web", index: 4), .serviceList(index: 4)])
        #expect(catalog.takeChanges().isEmpty)
    }

    @Test("a re-registration that keeps the tag union records only the service")
    func sameTags() {
        var catalog = CatalogStore()
        catalog.run(.register(registration(name: "web", tags: ["a"])), at: 1)
        catalog.run(.register(registration(node: "n2", name: "web", tags: ["a"])), at: 2)
        catalog.run(.register(registration(name: "web", tags: ["a"], port: 9)), at: 3)
        _ = catalog.takeChanges()
        catalog.run(.register(registration(name: "web", tags: ["a"], port: 10)), at: 4)
        #expect(catalog.takeChanges() == [.service(name: "web", index: 4)])
        catalog.run(.register(registration(name: "web", tags: ["b"])), at: 5)
        #expect(catalog.takeChanges() == [.service(name: "web", index: 5), .serviceList(index: 5)])
    }

    @Test("a rename records both names and the list")
    func rename() {
        var catalog = CatalogStore()
        catalog.run(.register(registration(id: "x", name: "old")), at: 1)
        _ = catalog.takeChanges()
        catalog.run(.register(registration(id: "x", name: "new")), at: 2)
        #expect(catalog.takeChanges() == [.service(name: "new", index: 2), .service(name: "old", index: 2), .serviceList(index: 2)])
    }

    @Test("deregistering the last instance records the service and the list; another instance left keeps the list")
    func deregistration() {
        var catalog = CatalogStore()
        catalog.run(.register(registration(node: "n1", name: "web")), at: 1)
        catalog.run(.register(registration(node: "n2", name: "web")), at: 2)
        _ = catalog.takeChanges()
        catalog.run(.deregister(node: "n1", serviceID: "web"), at: 3)
        #expect(catalog.takeChanges() == [.service(name: "web", index: 3)])
        catalog.run(.deregister(node: "", serviceID: "web"), at: 4)
        #expect(catalog.takeChanges() == [.service(name: "web", index: 4), .serviceList(index: 4)])
    }

    @Test("a new node address records every service on the node, since their entries show it")
    func nodeAddress() {
        var catalog = CatalogStore()
        catalog.run(.register(registration(nodeAddress: "10.0.0.1", name: "web")), at: 1)
        catalog.run(.register(registration(name: "db")), at: 2)
        _ = catalog.takeChanges()
        catalog.run(.register(registration(nodeAddress: "10.0.0.1", name: "db")), at: 3)
        #expect(catalog.takeChanges() == [.service(name: "db", index: 3)])
        catalog.run(.register(registration(nodeAddress: "10.0.0.2", name: "db")), at: 4)
        #expect(catalog.takeChanges() == [.service(name: "db", index: 4), .service(name: "web", index: 4)])
    }

    @Test("a check update records its service only, never the list")
    func checkUpdate() {
        var catalog = CatalogStore()
        catalog.run(.register(registration(name: "web", checks: [ttlCheck()])), at: 1)
        catalog.run(.register(registration(name: "db")), at: 2)
        _ = catalog.takeChanges()
        catalog.run(.updateCheck(node: "n1", checkID: "service:web", status: .passing, output: ""), at: 3)
        #expect(catalog.takeChanges() == [.service(name: "web", index: 3)])
    }

    @Test("a node-level check change records every service on its node")
    func nodeCheck() {
        var catalog = CatalogStore()
        catalog.run(.register(registration(name: "web")), at: 1)
        catalog.run(.register(registration(name: "db")), at: 2)
        catalog.run(.register(registration(node: "n2", name: "cache")), at: 3)
        _ = catalog.takeChanges()
        catalog.run(.registerNodeCheck(node: "n1", check: ttlCheck(id: "agent")), at: 4)
        #expect(catalog.takeChanges() == [.service(name: "db", index: 4), .service(name: "web", index: 4)])
        catalog.run(.updateCheck(node: "n1", checkID: "agent", status: .passing, output: ""), at: 5)
        #expect(catalog.takeChanges() == [.service(name: "db", index: 5), .service(name: "web", index: 5)])
        catalog.run(.deregisterCheck(node: "n1", checkID: "agent"), at: 6)
        #expect(catalog.takeChanges() == [.service(name: "db", index: 6), .service(name: "web", index: 6)])
    }

    @Test("changes accumulate in apply order and restore forgets them")
    func accumulateAndRestore() throws {
        var catalog = CatalogStore()
        catalog.run(.register(registration(name: "web")), at: 1)
        catalog.run(.register(registration(name: "db")), at: 2)
        #expect(catalog.takeChanges().map(\.index) == [1, 1, 2, 2])
        catalog.run(.register(registration(name: "cache")), at: 3)
        try catalog.restore(catalog.snapshot()[...])
        #expect(catalog.takeChanges().isEmpty)
    }
}
