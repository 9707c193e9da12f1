import CairnKV
import CairnKernel
import CairnRaft
import CairnWire
import Testing

@Suite("KV transactions")
struct KVTransactionTests {
    /// A store with keys `a` (index 1) and `b` (index 2), session `s1` holding `held` (index 4),
    /// and session `s2`; its changes taken.
    func seeded() -> KVStore {
        var kv = KVStore()
        _ = kv.apply(.put(key: "a", value: [1], flags: 0, cas: nil), at: 1)
        _ = kv.apply(.put(key: "b", value: [2], flags: 0, cas: nil), at: 2)
        _ = kv.apply(.sessionCreate(makeSession("s1")), at: 3)
        _ = kv.apply(.acquire(key: "held", value: [3], flags: 0, session: "s1", now: 0), at: 4)
        _ = kv.apply(.sessionCreate(makeSession("s2")), at: 5)
        _ = kv.takeChanges()
        return kv
    }

    @Test("a committed transaction applies every operation at one index and returns what it read or wrote")
    func commits() {
        var kv = seeded()
        let result = kv.apply(.transaction([
            .get(key: "a"),
            .set(key: "c", value: [9], flags: 4),
            .cas(key: "b", value: [8], flags: 0, index: 2),
            .delete(key: "a"),
            .getTree(prefix: ""),
            .lock(key: "l", value: [7], flags: 0, session: "s2"),
            .unlock(key: "held", value: [6], flags: 0, session: "s1"),
        ], now: 0), at: 10)
        let c = KVEntry(key: "c", value: [9], flags: 4, createIndex: 10, modifyIndex: 10)
        let b = KVEntry(key: "b", value: [8], createIndex: 2, modifyIndex: 10)
        let heldBefore = KVEntry(key: "held", value: [3], createIndex: 4, modifyIndex: 4, lockIndex: 1, session: "s1")
        let l = KVEntry(key: "l", value: [7], createIndex: 10, modifyIndex: 10, lockIndex: 1, session: "s2")
        let heldAfter = KVEntry(key: "held", value: [6], createIndex: 4, modifyIndex: 10, lockIndex: 1, session: "")
        #expect(result == .transaction(.committed(index: 10, results: [
            KVEntry(key: "a", value: [1], createIndex: 1, modifyIndex: 1), c, b, b, c, heldBefore, l, heldAfter,
        ])))
        #expect(kv.get("a") == nil)
        #expect(kv.list(prefix: "") == [b, c, heldAfter, l])
        #expect(kv.keysHeld(bySession: "s2") == ["l"])
        #expect(kv.keysHeld(bySession: "s1").isEmpty)
    }

    @Test("a failing operation reports its number and leaves nothing changed")
    func allOrNothing() {
        var kv = seeded()
        let before = kv
        let beforeBytes = kv.snapshot()
        let result = kv.apply(.transaction([
            .set(key: "a", value: [50], flags: 0),
            .delete(key: "b"),
            .lock(key: "new", value: [], flags: 0, session: "s2"),
            .unlock(key: "held", value: [], flags: 0, session: "s1"),
            .deleteTree(prefix: ""),
            .get(key: "a"),
        ], now: 0), at: 10)
        guard case .transaction(.failed(let index, let operation, let reason)) = result else {
            Issue.record("expected a failed transaction, got \(result)")
            return
        }
        #expect(index == 10)
        #expect(operation == 5)
        #expect(reason.contains("does not exist"))
        #expect(kv == before)
        #expect(kv.snapshot() == beforeBytes)
        #expect(kv.keysHeld(bySession: "s1") == ["held"])
        #expect(kv.keysHeld(bySession: "s2").isEmpty)
        #expect(kv.takeChanges().isEmpty)
    }

    @Test("each operation sees the effects of the earlier ones")
    func sequential() {
        var kv = seeded()
        let result = kv.apply(.transaction([
            .checkNotExists(key: "n"),
            .set(key: "n", value: [1], flags: 0),
            .checkIndex(key: "n", index: 10),
            .cas(key: "n", value: [2], flags: 0, index: 10),
            .get(key: "n"),
            .deleteCAS(key: "n", index: 10),
            .checkNotExists(key: "n"),
            .lock(key: "m", value: [], flags: 0, session: "s2"),
            .checkSession(key: "m", session: "s2"),
            .unlock(key: "m", value: [], flags: 0, session: "s2"),
            .checkSession(key: "m", session: ""),
        ], now: 0), at: 10)
        guard case .transaction(.committed(_, let results)) = result else {
            Issue.record("expected a committed transaction, got \(result)")
            return
        }
        #expect(results.map(\.value) == [[1], [2], [2], [], []])
        #expect(kv.get("n") == nil)
        #expect(kv.get("m")?.lockIndex == 1)
        #expect(kv.takeChanges() == [.key(KVChange(key: "m", entry: kv.get("m")), index: 10)])
    }

    @Test("every check and conditional operation fails the transaction when its condition does not hold",
          arguments: [
              KVTransactionOperation.get(key: "missing"),
              .cas(key: "a", value: [], flags: 0, index: 2),
              .cas(key: "a", value: [], flags: 0, index: 0),
              .cas(key: "missing", value: [], flags: 0, index: 1),
              .deleteCAS(key: "a", index: 7),
              .checkIndex(key: "a", index: 2),
              .checkIndex(key: "missing", index: 0),
              .checkSession(key: "held", session: "s2"),
              .checkSession(key: "held", session: ""),
              .checkSession(key: "a", session: "s1"),
              .checkSession(key: "missing", session: "s1"),
              .checkNotExists(key: "a"),
              .lock(key: "held", value: [], flags: 0, session: "s2"),
              .lock(key: "free", value: [], flags: 0, session: "ghost"),
              .unlock(key: "held", value: [], flags: 0, session: "s2"),
              .unlock(key: "a", value: [], flags: 0, session: "s1"),
              .unlock(key: "missing", value: [], flags: 0, session: "s1"),
              .set(key: "", value: [], flags: 0),
              .get(key: String(repeating: "x", count: KVStore.maxKeySize + 1)),
              .set(key: "big", value: [UInt8](repeating: 0, count: KVStore.maxValueSize + 1), flags: 0),
          ])
    func failingOperations(operation: KVTransactionOperation) {
        var kv = seeded()
        let before = kv
        let result = kv.apply(.transaction([.set(key: "first", value: [], flags: 0), operation], now: 0), at: 10)
        guard case .transaction(.failed(10, 1, let reason)) = result else {
            Issue.record("expected operation 1 to fail, got \(result)")
            return
        }
        #expect(!reason.isEmpty)
        #expect(kv == before)
    }

    @Test("the same checks pass when their condition holds",
          arguments: [
              KVTransactionOperation.get(key: "a"),
              .cas(key: "a", value: [], flags: 0, index: 1),
              .cas(key: "missing", value: [], flags: 0, index: 0),
              .deleteCAS(key: "a", index: 1),
              .deleteCAS(key: "missing", index: 5),
              .checkIndex(key: "a", index: 1),
              .checkSession(key: "held", session: "s1"),
              .checkSession(key: "a", session: ""),
              .checkSession(key: "missing", session: ""),
              .checkNotExists(key: "missing"),
              .lock(key: "held", value: [], flags: 0, session: "s1"),
              .unlock(key: "held", value: [], flags: 0, session: "s1"),
          ])
    func passingOperations(operation: KVTransactionOperation) {
        var kv = seeded()
        let result = kv.apply(.transaction([operation], now: 0), at: 10)
        #expect(result.succeeded, "\(result)")
    }

    @Test("an empty transaction and one over the operation limit are rejected")
    func sizeLimits() {
        var kv = seeded()
        #expect(kv.apply(.transaction([], now: 0), at: 10).isRejected)
        let tooMany = (0...KVTransaction.maxOperations).map { KVTransactionOperation.set(key: "k\($0)", value: [], flags: 0) }
        #expect(kv.apply(.transaction(tooMany, now: 0), at: 11).isRejected)
        #expect(kv.apply(.transaction(Array(tooMany.dropLast()), now: 0), at: 12).succeeded)
        #expect(kv.count == 3 + KVTransaction.maxOperations)
    }

    @Test("a committed transaction records one change per touched key with its final entry")
    func changes() {
        var kv = seeded()
        _ = kv.apply(.transaction([
            .set(key: "z", value: [1], flags: 0),
            .set(key: "a", value: [2], flags: 0),
            .set(key: "z", value: [3], flags: 0),
            .set(key: "temp", value: [], flags: 0),
            .delete(key: "temp"),
            .delete(key: "never"),
            .deleteTree(prefix: "b"),
            .get(key: "held"),
        ], now: 0), at: 10)
        #expect(kv.takeChanges() == [
            .key(KVChange(key: "z", entry: KVEntry(key: "z", value: [3], createIndex: 10, modifyIndex: 10)), index: 10),
            .key(KVChange(key: "a", entry: KVEntry(key: "a", value: [2], createIndex: 1, modifyIndex: 10)), index: 10),
            .key(KVChange(key: "b", entry: nil), index: 10),
        ])
    }
}
