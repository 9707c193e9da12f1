import CairnKV
import CairnKernel
import CairnRaft
import CairnWire
import Testing

@Suite("KV sessions and locks")
struct KVSessionLockTests {
    @Test("a created session takes the entry's index as its create index, and a duplicate id is rejected")
    func sessionCreate() {
        var kv = KVStore()
        var session = makeSession("s1", behavior: .delete, lockDelay: 1_000, ttl: 10_000, name: "web")
        session.createIndex = 999
        #expect(kv.apply(.sessionCreate(session), at: 4) == .sessionCreated(id: "s1"))
        session.createIndex = 4
        #expect(kv.session("s1") == session)
        #expect(kv.apply(.sessionCreate(makeSession("s1")), at: 5).isRejected)
        #expect(kv.session("s1") == session)
        _ = kv.apply(.sessionCreate(makeSession("s0")), at: 6)
        #expect(kv.sessions().map(\.id) == ["s0", "s1"])
        #expect(kv.sessionCount == 2)
    }

    @Test("sessions with bad settings are rejected at apply too")
    func sessionCreateValidation() {
        var kv = KVStore()
        #expect(kv.apply(.sessionCreate(makeSession("")), at: 1).isRejected)
        #expect(kv.apply(.sessionCreate(makeSession(String(repeating: "x", count: 129))), at: 1).isRejected)
        #expect(kv.apply(.sessionCreate(makeSession("s", ttl: 5_000)), at: 1).isRejected)
        #expect(kv.apply(.sessionCreate(makeSession("s", lockDelay: 60_001)), at: 1).isRejected)
        #expect(kv.sessions().isEmpty)
    }

    @Test("acquire locks the key for the session and increments the lock index")
    func acquireLocks() {
        var kv = KVStore()
        _ = kv.apply(.sessionCreate(makeSession("s1")), at: 1)
        #expect(kv.apply(.acquire(key: "lock", value: bytes("me"), flags: 2, session: "s1", now: 100), at: 2) == .applied)
        #expect(kv.get("lock") == KVEntry(key: "lock", value: bytes("me"), flags: 2, createIndex: 2, modifyIndex: 2,
                                          lockIndex: 1, session: "s1"))
        #expect(kv.keysHeld(bySession: "s1") == ["lock"])
    }

    @Test("the holder acquiring again updates the value without bumping the lock index")
    func reacquireByHolder() {
        var kv = KVStore()
        _ = kv.apply(.sessionCreate(makeSession("s1")), at: 1)
        _ = kv.apply(.acquire(key: "lock", value: [1], flags: 0, session: "s1", now: 100), at: 2)
        #expect(kv.apply(.acquire(key: "lock", value: [2], flags: 5, session: "s1", now: 100), at: 3) == .applied)
        #expect(kv.get("lock") == KVEntry(key: "lock", value: [2], flags: 5, createIndex: 2, modifyIndex: 3,
                                          lockIndex: 1, session: "s1"))
    }

    @Test("another session cannot acquire a held key, nor can a session that does not exist")
    func acquireRefused() {
        var kv = KVStore()
        _ = kv.apply(.sessionCreate(makeSession("s1")), at: 1)
        _ = kv.apply(.sessionCreate(makeSession("s2")), at: 2)
        _ = kv.apply(.acquire(key: "lock", value: [1], flags: 0, session: "s1", now: 100), at: 3)
        _ = kv.takeChanges()
        #expect(kv.apply(.acquire(key: "lock", value: [2], flags: 0, session: "s2", now: 100), at: 4) == .notAcquired)
        #expect(kv.apply(.acquire(key: "other", value: [2], flags: 0, session: "ghost", now: 100), at: 5) == .notAcquired)
        #expect(kv.apply(.acquire(key: "other", value: [2], flags: 0, session: "", now: 100), at: 6) == .notAcquired)
        #expect(kv.get("lock")?.session == "s1")
        #expect(kv.get("lock")?.value == [1])
        #expect(kv.get("other") == nil)
        #expect(kv.takeChanges().isEmpty)
    }

    @Test("a release by the holder unlocks and writes; anyone else's release changes nothing")
    func release() {
        var kv = KVStore()
        _ = kv.apply(.sessionCreate(makeSession("s1")), at: 1)
        _ = kv.apply(.sessionCreate(makeSession("s2")), at: 2)
        _ = kv.apply(.acquire(key: "lock", value: [1], flags: 0, session: "s1", now: 100), at: 3)
        #expect(kv.apply(.release(key: "lock", value: [9], flags: 0, session: "s2"), at: 4) == .notReleased)
        #expect(kv.apply(.release(key: "absent", value: [9], flags: 0, session: "s1"), at: 5) == .notReleased)
        #expect(kv.get("lock")?.session == "s1")
        #expect(kv.get("absent") == nil)
        #expect(kv.apply(.release(key: "lock", value: [7], flags: 1, session: "s1"), at: 6) == .applied)
        #expect(kv.get("lock") == KVEntry(key: "lock", value: [7], flags: 1, createIndex: 3, modifyIndex: 6,
                                          lockIndex: 1, session: ""))
        #expect(kv.keysHeld(bySession: "s1").isEmpty)
        #expect(kv.apply(.release(key: "lock", value: [8], flags: 0, session: "s1"), at: 7) == .notReleased)
    }

    @Test("a new holder after a release increments the lock index again")
    func lockIndexCountsAcquisitions() {
        var kv = KVStore()
        _ = kv.apply(.sessionCreate(makeSession("s1")), at: 1)
        _ = kv.apply(.sessionCreate(makeSession("s2")), at: 2)
        _ = kv.apply(.acquire(key: "lock", value: [], flags: 0, session: "s1", now: 0), at: 3)
        _ = kv.apply(.release(key: "lock", value: [], flags: 0, session: "s1"), at: 4)
        #expect(kv.apply(.acquire(key: "lock", value: [], flags: 0, session: "s2", now: 0), at: 5) == .applied)
        #expect(kv.get("lock")?.lockIndex == 2)
        #expect(kv.get("lock")?.createIndex == 3)
        _ = kv.apply(.release(key: "lock", value: [], flags: 0, session: "s2"), at: 6)
        _ = kv.apply(.acquire(key: "lock", value: [], flags: 0, session: "s2", now: 0), at: 7)
        #expect(kv.get("lock")?.lockIndex == 3)
    }

    @Test("a plain put keeps the lock, and a delete of a held key drops it from the holder")
    func writesOnHeldKeys() {
        var kv = KVStore()
        _ = kv.apply(.sessionCreate(makeSession("s1")), at: 1)
        _ = kv.apply(.acquire(key: "lock", value: [1], flags: 0, session: "s1", now: 0), at: 2)
        _ = kv.apply(.put(key: "lock", value: [2], flags: 0, cas: nil), at: 3)
        #expect(kv.get("lock") == KVEntry(key: "lock", value: [2], createIndex: 2, modifyIndex: 3, lockIndex: 1, session: "s1"))
        #expect(kv.keysHeld(bySession: "s1") == ["lock"])
        _ = kv.apply(.delete(key: "lock", cas: nil), at: 4)
        #expect(kv.keysHeld(bySession: "s1").isEmpty)
        #expect(kv.apply(.sessionDestroy(id: "s1", now: 0), at: 5) == .applied)
        #expect(kv.get("lock") == nil)
    }

    @Test("destroying a release session unlocks its keys, keeps them, and starts their lock-delay")
    func destroyReleases() {
        var kv = KVStore()
        _ = kv.apply(.sessionCreate(makeSession("s1", behavior: .release, lockDelay: 15_000)), at: 1)
        _ = kv.apply(.acquire(key: "b", value: [1], flags: 0, session: "s1", now: 1_000), at: 2)
        _ = kv.apply(.acquire(key: "a", value: [2], flags: 0, session: "s1", now: 1_000), at: 3)
        _ = kv.apply(.put(key: "free", value: [], flags: 0, cas: nil), at: 4)
        _ = kv.takeChanges()
        #expect(kv.apply(.sessionDestroy(id: "s1", now: 5_000), at: 10) == .applied)
        #expect(kv.session("s1") == nil)
        #expect(kv.get("a") == KVEntry(key: "a", value: [2], createIndex: 3, modifyIndex: 10, lockIndex: 1, session: ""))
        #expect(kv.get("b") == KVEntry(key: "b", value: [1], createIndex: 2, modifyIndex: 10, lockIndex: 1, session: ""))
        #expect(kv.get("free")?.modifyIndex == 4)
        #expect(kv.lockDelay(for: "a") == 20_000)
        #expect(kv.lockDelay(for: "b") == 20_000)
        #expect(kv.lockDelay(for: "free") == nil)
        #expect(kv.takeChanges() == [
            .key(KVChange(key: "a", entry: kv.get("a")), index: 10),
            .key(KVChange(key: "b", entry: kv.get("b")), index: 10),
        ])
    }

    @Test("destroying a delete session removes its keys")
    func destroyDeletes() {
        var kv = KVStore()
        _ = kv.apply(.sessionCreate(makeSession("s1", behavior: .delete, lockDelay: 0)), at: 1)
        _ = kv.apply(.acquire(key: "x/1", value: [1], flags: 0, session: "s1", now: 0), at: 2)
        _ = kv.apply(.acquire(key: "x/2", value: [1], flags: 0, session: "s1", now: 0), at: 3)
        _ = kv.apply(.put(key: "x/3", value: [], flags: 0, cas: nil), at: 4)
        _ = kv.takeChanges()
        #expect(kv.apply(.sessionDestroy(id: "s1", now: 50), at: 5) == .applied)
        #expect(kv.keys(prefix: "x/") == ["x/3"])
        #expect(kv.lockDelay(for: "x/1") == nil)
        #expect(kv.takeChanges() == [
            .key(KVChange(key: "x/1", entry: nil), index: 5),
            .key(KVChange(key: "x/2", entry: nil), index: 5),
        ])
    }

    @Test("destroying an unknown session reports not found and changes nothing")
    func destroyUnknown() {
        var kv = KVStore()
        _ = kv.apply(.sessionCreate(makeSession("s1")), at: 1)
        let before = kv.snapshot()
        #expect(kv.apply(.sessionDestroy(id: "s2", now: 0), at: 2) == .sessionNotFound)
        #expect(kv.snapshot() == before)
        #expect(kv.apply(.sessionDestroy(id: "s1", now: 0), at: 3) == .applied)
        #expect(kv.apply(.sessionDestroy(id: "s1", now: 0), at: 4) == .sessionNotFound)
    }

    @Test("a lock-delay blocks acquisitions until its end, then allows them and is forgotten")
    func lockDelayBlocksThenAllows() {
        var kv = KVStore()
        _ = kv.apply(.sessionCreate(makeSession("old", lockDelay: 10_000)), at: 1)
        _ = kv.apply(.sessionCreate(makeSession("new")), at: 2)
        _ = kv.apply(.acquire(key: "leader", value: [1], flags: 0, session: "old", now: 1_000), at: 3)
        _ = kv.apply(.sessionDestroy(id: "old", now: 2_000), at: 4)
        #expect(kv.lockDelay(for: "leader") == 12_000)
        #expect(kv.apply(.acquire(key: "leader", value: [2], flags: 0, session: "new", now: 2_001), at: 5) == .notAcquired)
        #expect(kv.apply(.acquire(key: "leader", value: [2], flags: 0, session: "new", now: 11_999), at: 6) == .notAcquired)
        #expect(kv.apply(.transaction([.lock(key: "leader", value: [2], flags: 0, session: "new")], now: 11_999), at: 7)
                    .withoutReasons == .transaction(.failed(index: 7, operation: 0, reason: "")))
        #expect(kv.get("leader")?.session == "")
        #expect(kv.apply(.put(key: "leader", value: [3], flags: 0, cas: nil), at: 8) == .applied)
        #expect(kv.apply(.acquire(key: "leader", value: [2], flags: 0, session: "new", now: 12_000), at: 9) == .applied)
        #expect(kv.get("leader")?.session == "new")
        #expect(kv.get("leader")?.lockIndex == 2)
        #expect(kv.lockDelay(for: "leader") == nil)
    }

    @Test("a lock-delay on one key does not block others")
    func lockDelayIsPerKey() {
        var kv = KVStore()
        _ = kv.apply(.sessionCreate(makeSession("old", lockDelay: 10_000)), at: 1)
        _ = kv.apply(.sessionCreate(makeSession("new")), at: 2)
        _ = kv.apply(.acquire(key: "a", value: [], flags: 0, session: "old", now: 0), at: 3)
        _ = kv.apply(.sessionDestroy(id: "old", now: 0), at: 4)
        #expect(kv.apply(.acquire(key: "b", value: [], flags: 0, session: "new", now: 1), at: 5) == .applied)
        #expect(kv.apply(.acquire(key: "a", value: [], flags: 0, session: "new", now: 1), at: 6) == .notAcquired)
    }
}
