import CairnCatalog
import CairnKernel
import CairnWire
import Testing

@Suite("Catalog snapshots")
struct CatalogSnapshotTests {
    static func populated() -> CatalogStore {
        var catalog = CatalogQueryTests.sample()
        catalog.run(.register(registration(node: "n3", nodeAddress: "10.0.0.3", id: "api-1", name: "api",
                                           tags: ["x", "y"], address: "10.1.1.1", port: 443,
                                           meta: ["version": "2", "zone": "b"],
                                           checks: [httpCheck(deregisterAfter: 60_000), tcpCheck(initial: .warning)])), at: 10)
        catalog.run(.updateCheck(node: "n3", checkID: "service:api-1:1", status: .passing, output: "HTTP GET ...: 200 OK"), at: 11)
        return catalog
    }

    @Test("a restored snapshot reproduces every query and the same bytes")
    func roundTrip() throws {
        let original = Self.populated()
        var restored = CatalogStore()
        try restored.restore(original.snapshot()[...])
        #expect(restored.snapshot() == original.snapshot())
        #expect(restored.services() == original.services())
        #expect(restored.nodes() == original.nodes())
        #expect(restored.allChecks() == original.allChecks())
        for summary in original.services() {
            #expect(restored.service(name: summary.name) == original.service(name: summary.name))
        }
        for node in original.nodes() {
            #expect(restored.nodeServices(node.name) == original.nodeServices(node.name))
        }
    }

    @Test("the snapshot does not depend on the order things were registered in")
    func deterministic() {
        var a = CatalogStore()
        var b = CatalogStore()
        let commands: [CatalogCommand] = [
            .register(registration(node: "n1", name: "web", meta: ["a": "1", "b": "2", "c": "3"], checks: [ttlCheck(id: "x"), ttlCheck(id: "y")])),
            .register(registration(node: "n2", name: "db")),
            .register(registration(node: "n1", name: "db")),
        ]
        for command in commands { a.run(command, at: 1) }
        for command in commands.reversed() { b.run(command, at: 1) }
        #expect(a.snapshot() == b.snapshot())
    }

    @Test("empty bytes restore the empty catalog")
    func emptyBytes() throws {
        var catalog = Self.populated()
        try catalog.restore([])
        #expect(catalog.nodes().isEmpty)
        #expect(catalog.snapshot() == CatalogStore().snapshot())
    }

    @Test("every truncation of a snapshot is refused as malformed and leaves the catalog as it was")
    func truncated() {
        let bytes = Self.populated().snapshot()
        var catalog = CatalogStore()
        catalog.run(.register(registration(name: "keep")), at: 1)
        let before = catalog.snapshot()
        for length in 1..<bytes.count {
            #expect(throws: StateMachineError(.malformedSnapshot, "")) { try catalog.restore(bytes[..<length]) }
        }
        #expect(catalog.snapshot() == before)
    }

    @Test("trailing bytes, an unknown version and broken references are refused with a specific reason")
    func malformed() throws {
        let good = Self.populated().snapshot()
        var catalog = CatalogStore()

        let trailing = try #require(throws: StateMachineError.self) { try catalog.restore((good + [0])[...]) }
        #expect(trailing.reason.contains("trailing"))

        var badVersion = good
        badVersion[0] = 9
        let version = try #require(throws: StateMachineError.self) { try catalog.restore(badVersion[...]) }
        #expect(version.reason.contains("version 9"))
        #expect(version.code == .malformedSnapshot)

        // A node whose only check claims a service the node does not have.
        var w = BinaryWriter()
        w.write(UInt8(1))
        w.write(UInt32(1))
        w.write(string: "n1"); w.write(string: ""); w.write(UInt32(0))
        w.write(UInt32(0))
        w.write(UInt32(1))
        w.write(string: "c"); w.write(string: "c"); w.write(string: "ghost"); w.write(string: "ghost")
        w.write(UInt8(0)); w.write(string: "")
        w.write(string: "c"); w.write(string: "c"); w.write(UInt8(1)); w.write(UInt64(10_000)); w.write(UInt8(2)); w.write(UInt64(0))
        w.write(UInt64(1)); w.write(UInt64(1))
        let orphan = try #require(throws: StateMachineError.self) { try catalog.restore(w.bytes[...]) }
        #expect(orphan.reason.contains("unknown service \"ghost\""))

        // The same bytes with an unknown status value.
        var badStatus = w.bytes
        let statusOffset = 1 + 4 + (4 + 2) + 4 + 4 + 4 + 4 + (4 + 1) * 2 + (4 + 5) * 2
        #expect(badStatus[statusOffset] == 0)
        badStatus[statusOffset] = 7
        let status = try #require(throws: StateMachineError.self) { try catalog.restore(badStatus[...]) }
        #expect(status.reason.contains("malformed"))
        #expect(catalog.nodes().isEmpty)
    }
}
