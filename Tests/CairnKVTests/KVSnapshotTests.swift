import CairnKernel
import CairnKV
import CairnRaft
import CairnTestSupport
import CairnWire
import Testing

@Suite("KV snapshots")
struct KVSnapshotTests {
    /// A store with keys, held locks, sessions of both behaviours and lock-delays.
    func populated() -> KVStore {
        var kv = KVStore()
        for i in 1...50 {
            _ = kv.apply(.put(key: "key\(i)", value: bytes("value\(i)"), flags: UInt64(i), cas: nil), at: LogIndex(i))
        }
        _ = kv.apply(.delete(key: "key7", cas: nil), at: 51)
        var withChecks = makeSession("s-checks", behavior: .delete, lockDelay: 0, ttl: 30_000, name: "worker")
        withChecks.checks = ["serfHealth", "service:web"]
        _ = kv.apply(.sessionCreate(withChecks), at: 52)
        _ = kv.apply(.sessionCreate(makeSession("s-release", lockDelay: 15_000)), at: 53)
        _ = kv.apply(.sessionCreate(makeSession("s-gone", lockDelay: 5_000)), at: 54)
        _ = kv.apply(.acquire(key: "key3", value: [3], flags: 0, session: "s-checks", now: 1_000), at: 55)
        _ = kv.apply(.acquire(key: "lock/a", value: [], flags: 0, session: "s-release", now: 1_000), at: 56)
        _ = kv.apply(.acquire(key: "lock/b", value: [], flags: 0, session: "s-gone", now: 1_000), at: 57)
        _ = kv.apply(.acquire(key: "lock/c", value: [], flags: 0, session: "s-gone", now: 1_000), at: 58)
        _ = kv.apply(.sessionDestroy(id: "s-gone", now: 2_000), at: 59)
        return kv
    }

    @Test("a snapshot restores the same keys, sessions, held locks and lock-delays")
    func roundTrip() throws {
        let kv = populated()
        let bytes = kv.snapshot()
        var restored = KVStore()
        try restored.restore(bytes[...])
        #expect(restored == kv)
        #expect(restored.snapshot() == bytes)
        #expect(restored.count == kv.count)
        #expect(restored.list(prefix: "") == kv.list(prefix: ""))
        #expect(restored.sessions() == kv.sessions())
        #expect(restored.sessions().count == 2)
        #expect(restored.keysHeld(bySession: "s-checks") == ["key3"])
        #expect(restored.keysHeld(bySession: "s-release") == ["lock/a"])
        #expect(restored.lockDelay(for: "lock/b") == 7_000)
        #expect(restored.lockDelay(for: "lock/c") == 7_000)
        #expect(restored.session("s-checks")?.checks == ["serfHealth", "service:web"])
    }

    @Test("a restored store behaves like the original: lock-delays block, held locks release")
    func restoredBehaves() throws {
        var kv = populated()
        var restored = KVStore()
        try restored.restore(kv.snapshot()[...])
        for store in [0, 1] {
            var target = store == 0 ? kv : restored
            #expect(target.apply(.acquire(key: "lock/b", value: [], flags: 0, session: "s-release", now: 6_999), at: 60) == .notAcquired)
            #expect(target.apply(.acquire(key: "lock/b", value: [], flags: 0, session: "s-release", now: 7_000), at: 61) == .applied)
            #expect(target.apply(.sessionDestroy(id: "s-checks", now: 8_000), at: 62) == .applied)
            #expect(target.get("key3") == nil)
            if store == 0 { kv = target } else { restored = target }
        }
        #expect(kv == restored)
        #expect(kv.snapshot() == restored.snapshot())
    }

    @Test("stores that reach the same state by different paths write identical snapshots")
    func deterministicBytes() {
        var forward = KVStore()
        var backward = KVStore()
        let keys = (0..<200).map { "k\($0 * 7919 % 200)" }
        for key in keys { _ = forward.apply(.put(key: key, value: [], flags: 0, cas: nil), at: 1) }
        for key in keys.reversed() { _ = backward.apply(.put(key: key, value: [], flags: 0, cas: nil), at: 1) }
        for id in ["s3", "s1", "s2"] { _ = forward.apply(.sessionCreate(makeSession(id)), at: 2) }
        for id in ["s2", "s3", "s1"] { _ = backward.apply(.sessionCreate(makeSession(id)), at: 2) }
        #expect(forward.snapshot() == backward.snapshot())
    }

    @Test("empty bytes restore the empty store")
    func emptyRestore() throws {
        var kv = populated()
        try kv.restore([])
        #expect(kv == KVStore())
        #expect(kv.count == 0)
        #expect(kv.sessions().isEmpty)
        #expect(kv.lockDelay(for: "lock/b") == nil)
    }

    @Test("every truncation of a snapshot is refused and leaves the store as it was")
    func truncations() async {
        await inBackground {
            let bytes = populated().snapshot()
            var target = KVStore()
            _ = target.apply(.put(key: "keep", value: [], flags: 0, cas: nil), at: 1)
            let before = target
            for cut in 1..<bytes.count {
                #expect(throws: StateMachineError(.malformedSnapshot, "")) { try target.restore(bytes[0..<cut]) }
            }
            #expect(target == before)
            #expect(throws: StateMachineError(.malformedSnapshot, "")) { try target.restore((bytes + [0])[...]) }
        }
    }

    /// Snapshot bytes written by hand: entries as (key, session), sessions as (id, behavior byte),
    /// delays as (key, until).
    static func handmade(entries: [(String, String)], sessions: [(String, UInt8)] = [], delays: [(String, UInt64)] = []) -> [UInt8] {
        var w = BinaryWriter()
        w.write(UInt64(entries.count))
        for (key, session) in entries {
            w.write(string: key)
            w.write(bytes: [UInt8]())
            for _ in 0..<4 { w.write(UInt64(1)) }
            w.write(string: session)
        }
        w.write(UInt64(sessions.count))
        for (id, behavior) in sessions {
            for text in [id, "", ""] { w.write(string: text) }
            w.write(UInt64(0))
            w.write(UInt64(0))
            w.write(behavior)
            w.write(UInt32(0))
            w.write(UInt64(1))
        }
        w.write(UInt64(delays.count))
        for (key, until) in delays {
            w.write(string: key)
            w.write(until)
        }
        return w.bytes
    }

    @Test("a well-formed handmade snapshot restores")
    func handmadeRestores() throws {
        var kv = KVStore()
        try kv.restore(Self.handmade(entries: [("a", ""), ("b", "s")], sessions: [("s", 1)], delays: [("c", 5)])[...])
        #expect(kv.keysHeld(bySession: "s") == ["b"])
        #expect(kv.session("s")?.behavior == .delete)
        #expect(kv.lockDelay(for: "c") == 5)
    }

    @Test("snapshots with inconsistent content are refused with a specific reason",
          arguments: [
              ("out of order", handmade(entries: [("b", ""), ("a", "")])),
              ("out of order", handmade(entries: [("a", ""), ("a", "")])),
              ("key is empty", handmade(entries: [("", "")])),
              ("does not have", handmade(entries: [("a", "ghost")], sessions: [("s", 0)])),
              ("unknown behaviour", handmade(entries: [], sessions: [("s", 7)])),
              ("out of order", handmade(entries: [], sessions: [("t", 0), ("s", 0)])),
              ("out of order", handmade(entries: [], delays: [("b", 1), ("a", 1)])),
              ("stray bytes", handmade(entries: []) + [0]),
          ])
    func inconsistent(expected: String, snapshot: [UInt8]) {
        var kv = KVStore()
        do {
            try kv.restore(snapshot[...])
            Issue.record("restore accepted a snapshot with \(expected)")
        } catch let error as StateMachineError {
            #expect(error.code == .malformedSnapshot)
            #expect(error.reason.contains(expected), "\(error.reason)")
        } catch {
            Issue.record("unexpected error \(error)")
        }
        #expect(kv == KVStore())
    }
}
