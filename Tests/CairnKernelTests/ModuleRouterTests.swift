import CairnKernel
import CairnRaft
import Testing

/// A module that sums the numbers it is sent.
struct SumModule: StateMachineModule {
    let tag: UInt8
    var total: Int64 = 0

    mutating func apply(_ command: ArraySlice<UInt8>, at index: LogIndex) -> [UInt8] {
        for byte in command { total += Int64(byte) }
        return Array(String(total).utf8)
    }

    func snapshot() -> [UInt8] { withUnsafeBytes(of: total.littleEndian) { Array($0) } }

    mutating func restore(_ bytes: ArraySlice<UInt8>) throws {
        if bytes.isEmpty {
            total = 0
            return
        }
        guard bytes.count == 8 else { throw StateMachineError(.malformedSnapshot, "sum needs 8 bytes") }
        total = bytes.reversed().reduce(0) { $0 << 8 | Int64($1) }
    }
}

@Suite("Module router")
struct ModuleRouterTests {
    func entry(_ index: LogIndex, _ bytes: [UInt8]) -> Entry { Entry(term: 1, index: index, data: bytes) }

    @Test("commands reach the module named by their first byte")
    func routesByTag() {
        var router = ModuleRouter(modules: [SumModule(tag: 1), SumModule(tag: 2)])
        #expect(router.apply(entry(1, [1, 5, 5])) == Array("10".utf8))
        #expect(router.apply(entry(2, [2, 7])) == Array("7".utf8))
        #expect(router.apply(entry(3, [1, 1])) == Array("11".utf8))
        #expect(router.appliedIndex == 3)
    }

    @Test("an unknown tag or an empty command is a deterministic no-op")
    func unknownTag() {
        var router = ModuleRouter(modules: [SumModule(tag: 1)])
        #expect(router.apply(entry(1, [9, 1])) == ModuleRouter.unknownModuleResult)
        #expect(router.apply(entry(2, [])) == ModuleRouter.unknownModuleResult)
        #expect(router.apply(Entry(term: 1, index: 3, kind: .empty)) == [])
        #expect(router.appliedIndex == 3)
        #expect(router.apply(entry(4, [1, 3])) == Array("3".utf8))
    }

    @Test("a snapshot restores every module and the applied index")
    func snapshotRoundTrip() throws {
        var router = ModuleRouter(modules: [SumModule(tag: 1), SumModule(tag: 2)])
        _ = router.apply(entry(1, [1, 40]))
        _ = router.apply(entry(2, [2, 2]))
        let bytes = router.snapshot()
        var fresh = ModuleRouter(modules: [SumModule(tag: 1), SumModule(tag: 2)])
        try fresh.restore(bytes, at: 2)
        #expect(fresh.appliedIndex == 2)
        #expect(fresh.apply(entry(3, [1, 2])) == Array("42".utf8))
        #expect(fresh.apply(entry(4, [2, 1])) == Array("3".utf8))
        #expect(fresh.snapshot() != bytes)
    }

    @Test("a module added after the snapshot starts empty")
    func newModuleStartsEmpty() throws {
        var old = ModuleRouter(modules: [SumModule(tag: 1)])
        _ = old.apply(entry(1, [1, 4]))
        var upgraded = ModuleRouter(modules: [SumModule(tag: 1), SumModule(tag: 2)])
        _ = upgraded.apply(entry(1, [2, 9]))
        try upgraded.restore(old.snapshot(), at: 1)
        #expect(upgraded.apply(entry(2, [2, 1])) == Array("1".utf8))
        #expect(upgraded.apply(entry(3, [1, 1])) == Array("5".utf8))
    }

    @Test("malformed snapshots are refused with a specific error and change nothing")
    func malformedSnapshots() throws {
        var router = ModuleRouter(modules: [SumModule(tag: 1)])
        _ = router.apply(entry(1, [1, 4]))
        let good = router.snapshot()
        var target = ModuleRouter(modules: [SumModule(tag: 1)])
        _ = target.apply(entry(1, [1, 100]))
        for cut in 0..<good.count {
            #expect(throws: StateMachineError(.malformedSnapshot, "")) {
                try target.restore(Array(good[0..<cut]), at: 1)
            }
        }
        #expect(throws: StateMachineError(.malformedSnapshot, "")) { try target.restore(good + [0], at: 1) }
        #expect(throws: StateMachineError(.malformedSnapshot, "")) { try target.restore(good, at: 2) }
        var foreign = ModuleRouter(modules: [SumModule(tag: 7)])
        _ = foreign.apply(entry(1, [7, 1]))
        #expect(throws: StateMachineError(.unknownModule, "")) { try target.restore(foreign.snapshot(), at: 1) }
        // Nothing above changed the target's state.
        #expect(target.appliedIndex == 1)
        #expect(target.apply(entry(2, [1, 1])) == Array("101".utf8))
    }
}
