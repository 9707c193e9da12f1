import Foundation
import CairnCatalog
import CairnRaft
import CairnWire
import CairnTestSupport
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

    /// The first query on which the real catalog and the model disagree, or nil.
    static func difference(_ catalog: CatalogStore, _ model: ReferenceCatalog) -> String? {
        if catalog.services() != model.serviceSummaries() { return "services()" }
        if catalog.nodes() != model.sortedNodes() { return "nodes()" }
        if catalog.allChecks() != model.checks(serviceName: "") { return "allChecks()" }
        for name in serviceNames + ["missing"] {
            if catalog.checks(serviceName: name) != model.checks(serviceName: name) { return "checks(serviceName: \(name))" }
            for tag in [""] + tags {
                for passing in [false, true]
                where catalog.service(name: name, tag: tag, passingOnly: passing) != model.service(name: name, tag: tag, passingOnly: passing) {
                    return "service(name: \(name), tag: \(tag), passingOnly: \(passing))"
                }
            }
        }
        for node in nodeNames where catalog.nodeServices(node) != model.nodeServices(node) { return "nodeServices(\(node))" }
        return nil
    }

    @Test("thousands of random commands leave the catalog equal to the model, with watch changes that cover every difference",
          arguments: [1, 2, 3, 4, 5, 6] as [UInt64])
    func randomized(seed: UInt64) async throws {
        // CPU-bound for seconds in a debug build: run it on a thread of its own, so that it does
        // not hold one of the few cooperative threads the rest of the suite's tasks need.
        let failure = try await onDedicatedThread { try Self.run(seed: seed) }
        #expect(failure == nil, "\(failure ?? "")")
    }

    /// Applies random commands to the catalog and the model; returns the first divergence.
    static func run(seed: UInt64) throws -> String? {
        var rng = SeededRandom(seed: seed)
        var catalog = CatalogStore()
        var model = ReferenceCatalog()
        for step in 1...2_500 {
            let index = UInt64(step)
            let command = Self.randomCommand(&rng, catalog: catalog)
            let context = "seed \(seed) step \(step): \(command)"
            let listBefore = catalog.services()
            let viewsBefore = Self.serviceNames.map { catalog.service(name: $0) }

            guard let result = catalog.run(command, at: index) else { return "\(context): no result" }
            let expected = model.apply(command, at: index)
            switch result {
            case .applied: if expected != .applied { return "\(context): applied, the model says \(expected)" }
            case .notFound: if expected != .notFound { return "\(context): not found, the model says \(expected)" }
            case .rejected: if expected != .rejected { return "\(context): rejected, the model says \(expected)" }
            }
            if let difference = Self.difference(catalog, model) { return "\(context): \(difference) differs" }

            let changes = catalog.takeChanges()
            guard changes.allSatisfy({ $0.index == index }) else { return "\(context): a change with another index" }
            guard changes.contains(.serviceList(index: index)) == (catalog.services() != listBefore) else {
                return "\(context): serviceList change does not match the list"
            }
            for (name, before) in zip(Self.serviceNames, viewsBefore)
            where catalog.service(name: name) != before && !changes.contains(.service(name: name, index: index)) {
                return "\(context): \(name) changed without a change record"
            }
            if case .updateCheck = command, changes.contains(.serviceList(index: index)) { return "\(context): a check update changed the list" }

            if step % 250 == 0 {
                var restored = CatalogStore()
                try restored.restore(catalog.snapshot()[...])
                guard restored.snapshot() == catalog.snapshot() else { return "\(context): the snapshot does not round-trip" }
                if let difference = Self.difference(restored, model) { return "\(context): restored \(difference) differs" }
            }
        }
        return nil
    }
}
