import CairnKV
import CairnKernel
import CairnRaft
import CairnWire
import Testing

@Suite("KV watch changes")
struct KVChangeTests {
    @Test("every key change is recorded in apply order with its index, and taking them clears them")
    func recordsInOrder() {
        var kv = KVStore()
        _ = kv.apply(.put(key: "b", value: [1], flags: 0, cas: nil), at: 1)
        _ = kv.apply(.put(key: "a", value: [2], flags: 0, cas: nil), at: 2)
        _ = kv.apply(.delete(key: "b", cas: nil), at: 3)
        _ = kv.apply(.sessionCreate(makeSession("s")), at: 4)
        _ = kv.apply(.acquire(key: "a", value: [3], flags: 0, session: "s", now: 0), at: 5)
        _ = kv.apply(.release(key: "a", value: [4], flags: 0, session: "s"), at: 6)
        #expect(kv.takeChanges() == [
            .key(KVChange(key: "b", entry: KVEntry(key: "b", value: [1], createIndex: 1, modifyIndex: 1)), index: 1),
            .key(KVChange(key: "a", entry: KVEntry(key: "a", value: [2], createIndex: 2, modifyIndex: 2)), index: 2),
            .key(KVChange(key: "b", entry: nil), index: 3),
            .key(KVChange(key: "a", entry: KVEntry(key: "a", value: [3], createIndex: 2, modifyIndex: 5,
                                                   lockIndex: 1, session: "s")), index: 5),
            .key(KVChange(key: "a", entry: KVEntry(key: "a", value: [4], createIndex: 2, modifyIndex: 6,
                                                   lockIndex: 1)), index: 6),
        ])
        #expect(kv.takeChanges().isEmpty)
    }

    @Test("a delete-tree records one deletion per key, in key order, at one index")
    func deleteTree() {
        var kv = KVStore()
        for (i, key) in ["p/2", "p/1", "q"].enumerated() {
            _ = kv.apply(.put(key: key, value: [], flags: 0, cas: nil), at: LogIndex(i + 1))
        }
        _ = kv.takeChanges()
        _ = kv.apply(.deleteTree(prefix: "p/"), at: 9)
        #expect(kv.takeChanges() == [
            .key(KVChange(key: "p/1", entry: nil), index: 9),
            .key(KVChange(key: "p/2", entry: nil), index: 9),
        ])
    }

    @Test("commands that change nothing record nothing")
    func failuresRecordNothing() {
        var kv = KVStore()
        _ = kv.apply(.put(key: "a", value: [], flags: 0, cas: nil), at: 1)
        _ = kv.apply(.sessionCreate(makeSession("s")), at: 2)
        _ = kv.takeChanges()
        _ = kv.apply(.put(key: "a", value: [], flags: 0, cas: 0), at: 3)
        _ = kv.apply(.delete(key: "a", cas: 9), at: 4)
        _ = kv.apply(.delete(key: "zz", cas: nil), at: 5)
        _ = kv.apply(.deleteTree(prefix: "zz"), at: 6)
        _ = kv.apply(.acquire(key: "a", value: [], flags: 0, session: "ghost", now: 0), at: 7)
        _ = kv.apply(.release(key: "a", value: [], flags: 0, session: "s"), at: 8)
        _ = kv.apply(.transaction([.set(key: "b", value: [], flags: 0), .get(key: "zz")], now: 0), at: 9)
        _ = kv.apply(.sessionDestroy(id: "ghost", now: 0), at: 10)
        _ = kv.apply(.sessionDestroy(id: "s", now: 0), at: 11)
        _ = kv.apply(.put(key: "", value: [], flags: 0, cas: nil), at: 12)
        #expect(kv.takeChanges().isEmpty)
    }

    @Test("a restore forgets the recorded changes, which are not part of the snapshot")
    func restoreClears() throws {
        var kv = KVStore()
        _ = kv.apply(.put(key: "a", value: [], flags: 0, cas: nil), at: 1)
        let bytes = kv.snapshot()
        var fresh = KVStore()
        try fresh.restore(bytes[...])
        #expect(fresh == kv)
        #expect(fresh.takeChanges().isEmpty)
        try kv.restore(bytes[...])
        #expect(kv.takeChanges().isEmpty)
        #expect(kv.snapshot() == bytes)
    }
}
