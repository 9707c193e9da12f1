import CairnCatalog
import CairnRaft
import CairnWire
import Testing

@Suite("Catalog against a reference model")
struct CatalogModelComparisonTests {
    static let nodeNames = ["n1", "n2", "n3"]
    static let serviceNames = ["web", "db", "cache"]
    static let tags = ["v1", "v2", "blue"]
    static let checkIDs = ["", "", "", "c1", "c2"]
    static let definitions = [
        ttlCheck(), ttlCheck(initial: .passing), ttlCheck(seconds: 30),
        httpCheck(), httpCheck(url: "http://10.0.0.1/"), tcpCheck(initial: .warning),
    ]

    static func randomCommand(_ rng: inout SeededRandom, catalog: CatalogStore) -> CatalogCommand {
        func pick<T>(_ items: [T]) -> T { items[Int.random(in: 0..<items.count, using: &rng)] }
        let existing = catalog.allChecks()
        switch Int.random(in: 0..<100, using: &rng) {
        case 0..<40:
            let checks = (0..<Int.random(in: 0...3, using: &rng)).map { _ in
                var d = pick(definitions)
                d.id = pick(checkIDs)
                return d
            }
            let name = Int.random(in: 0..<50, using: &rng) == 0 ? "" : pick(serviceNames)
            return .register(registration(
                node: pick(nodeNames), nodeAddress: pick(["", "", "192.168.0.1", "192.168.0.2"]),
                id: pick(["", "", "a", "b"]), name: name,
                tags: (0..<Int.random(in: 0...2, using: &rng)).map { _ in pick(tags) },
                address: pick(["", "10.0.0.1", "10.0.0.2"]), port: UInt16.random(in: 0...3, using: &rng),
                checks: checks))
        case 40..<55:
            return .deregister(node: pick(["", "n1", "n2", "n3"]), serviceID: pick(["web", "db", "cache", "a", "b"]))
        case 55..<85:
            let id = existing.isEmpty || Int.random(in: 0..<10, using: &rng) == 0 ? "c9" : pick(existing).id
            let node = Int.random(in: 0..<4, using: &rng) == 0 ? "" : (existing.isEmpty ? "n1" : pick(existing).node)
            return .updateCheck(node: node, checkID: id, status: pick(CheckStatus.allCases), output: pick(["", "ok", "bad"]))
        case 85..<93:
            var d = pick(definitions)
            d.id = pick(["agent", "c1", "maint"])
            return .registerNodeCheck(node: pick(nodeNames), check: d)
        default:
            let id = existing.isEmpty ? "agent" : pick(existing).id
            return .deregisterCheck(node: pick(["", "n1", "n2", "n3"]), checkID: id)
        }
    }

    /// Every query of the real catalog equals the model's.
    static func compare(_ catalog: CatalogStore, _ model: ReferenceCatalog, seed: UInt64, step: Int) {
        let context: Comment = "seed \(seed) step \(step)"
        #expect(catalog.services() == model.serviceSummaries(), context)
        #expect(catalog.nodes() == model.sortedNodes(), context)
        #expect(catalog.allChecks() == model.checks(serviceName: ""), context)
        for name in serviceNames + ["missing"] {
            #expect(catalog.checks(serviceName: name) == model.checks(serviceName: name), context)
            for tag in [""] + tags {
                for passing in [false, true] {
                    #expect(catalog.service(name: name, tag: tag, passingOnly: passing)
                        == model.service(name: name, tag: tag, passingOnly: passing), context)
                }
            }
        }
        for node in nodeNames {
            #expect(catalog.nodeServices(node) == model.nodeServices(node), context)
        }
    }

    @Test("thousands of random commands leave the catalog equal to the model, with watch changes that cover every difference",
          arguments: [1, 2, 3, 4, 5, 6] as [UInt64])
    func randomized(seed: UInt64) async throws {
        var rng = SeededRandom(seed: seed)
        var catalog = CatalogStore()
        var model = ReferenceCatalog()
        for step in 1...2_500 {
            // CPU-bound: let the rest of the suite's tasks run on the few cooperative threads.
            if step % 25 == 0 { await Task.yield() }
            let index = UInt64(step)
            let command = Self.randomCommand(&rng, catalog: catalog)
            let listBefore = catalog.services()
            let viewsBefore = Self.serviceNames.map { catalog.service(name: $0) }

            let applied = catalog.run(command, at: index)
            let result = try #require(applied)
            let expected = model.apply(command, at: index)
            switch result {
            case .applied: #expect(expected == .applied, "seed \(seed) step \(step): \(command)")
            case .notFound: #expect(expected == .notFound, "seed \(seed) step \(step): \(command)")
            case .rejected: #expect(expected == .rejected, "seed \(seed) step \(step): \(command)")
            }
            Self.compare(catalog, model, seed: seed, step: step)

            let changes = catalog.takeChanges()
            #expect(changes.allSatisfy { $0.index == index })
            #expect(changes.contains(.serviceList(index: index)) == (catalog.services() != listBefore),
                    "seed \(seed) step \(step): \(command)")
            for (name, before) in zip(Self.serviceNames, viewsBefore) where catalog.service(name: name) != before {
                #expect(changes.contains(.service(name: name, index: index)), "seed \(seed) step \(step): \(command)")
            }
            if case .updateCheck = command { #expect(!changes.contains(.serviceList(index: index))) }

            if step % 250 == 0 {
                var restored = CatalogStore()
                try restored.restore(catalog.snapshot()[...])
                #expect(restored.snapshot() == catalog.snapshot())
                Self.compare(restored, model, seed: seed, step: step)
            }
        }
    }
}
