import CairnKV
import CairnKernel
import CairnRaft
import CairnWire
import Testing

@Suite("KV store module")
struct KVStoreTests {
    @Test("a put creates a key with its create and modify index")
    func putCreates() {
        var kv = KVStore()
        #expect(kv.apply(.put(key: "a", value: [1], flags: 7, cas: nil), at: 5) == .applied)
        #expect(kv.get("a") == KVEntry(key: "a", value: [1], flags: 7, createIndex: 5, modifyIndex: 5))
        #expect(kv.count == 1)
    }

    @Test("an overwrite keeps the create index and moves the modify index")
    func overwrite() {
        var kv = KVStore()
        _ = kv.apply(.put(key: "a", value: [1], flags: 0, cas: nil), at: 5)
        _ = kv.apply(.put(key: "a", value: [2], flags: 3, cas: nil), at: 9)
        #expect(kv.get("a") == KVEntry(key: "a", value: [2], flags: 3, createIndex: 5, modifyIndex: 9))
    }

    @Test("check-and-set applies only on a matching modify index, and 0 means create-only")
    func checkAndSet() {
        var kv = KVStore()
        #expect(kv.apply(.put(key: "k", value: [1], flags: 0, cas: 0), at: 3) == .applied)
        #expect(kv.apply(.put(key: "k", value: [2], flags: 0, cas: 0), at: 4) == .casFailed)
        #expect(kv.apply(.put(key: "k", value: [3], flags: 0, cas: 2), at: 5) == .casFailed)
        #expect(kv.get("k")?.value == [1])
        #expect(kv.apply(.put(key: "k", value: [4], flags: 0, cas: 3), at: 6) == .applied)
        #expect(kv.get("k")?.value == [4])
        #expect(kv.apply(.put(key: "absent", value: [1], flags: 0, cas: 6), at: 7) == .casFailed)
        #expect(kv.get("absent") == nil)
    }

    @Test("a delete with check-and-set applies only on a matching index, and an absent key counts as deleted")
    func deleteCheckAndSet() {
        var kv = KVStore()
        _ = kv.apply(.put(key: "k", value: [1], flags: 0, cas: nil), at: 6)
        #expect(kv.apply(.delete(key: "k", cas: 3), at: 7) == .casFailed)
        #expect(kv.get("k") != nil)
        #expect(kv.apply(.delete(key: "k", cas: 6), at: 8) == .applied)
        #expect(kv.get("k") == nil)
        #expect(kv.apply(.delete(key: "k", cas: 6), at: 9) == .applied)
        #expect(kv.apply(.delete(key: "never", cas: nil), at: 10) == .applied)
        #expect(kv.takeChanges().count == 2)
    }

    @Test("a delete-tree removes exactly the keys under the prefix, and the empty prefix removes all")
    func deleteTree() {
        var kv = KVStore()
        for (i, key) in ["a", "a/b", "a/b/c", "ab", "b", "a/"].enumerated() {
            _ = kv.apply(.put(key: key, value: [], flags: 0, cas: nil), at: LogIndex(i + 1))
        }
        #expect(kv.apply(.deleteTree(prefix: "a/"), at: 10) == .applied)
        #expect(kv.keys(prefix: "") == ["a", "ab", "b"])
        #expect(kv.apply(.deleteTree(prefix: "zzz"), at: 11) == .applied)
        #expect(kv.count == 3)
        #expect(kv.apply(.deleteTree(prefix: ""), at: 12) == .applied)
        #expect(kv.count == 0)
        #expect(kv.list(prefix: "").isEmpty)
    }

    @Test("oversized values, empty or long keys and malformed commands are rejected without a change")
    func rejects() {
        var kv = KVStore()
        let big = [UInt8](repeating: 0, count: KVStore.maxValueSize + 1)
        let longKey = String(repeating: "k", count: KVStore.maxKeySize + 1)
        #expect(kv.apply(.put(key: "big", value: big, flags: 0, cas: nil), at: 1).isRejected)
        #expect(kv.apply(.put(key: "", value: [1], flags: 0, cas: nil), at: 2).isRejected)
        #expect(kv.apply(.put(key: longKey, value: [1], flags: 0, cas: nil), at: 2).isRejected)
        #expect(kv.apply(.delete(key: "", cas: nil), at: 2).isRejected)
        #expect(kv.apply(.deleteTree(prefix: longKey), at: 2).isRejected)
        #expect(kv.apply(.acquire(key: "", value: [], flags: 0, session: "s", now: 0), at: 2).isRejected)
        #expect(kv.apply(.release(key: "k", value: big, flags: 0, session: "s"), at: 2).isRejected)
        let garbage = kv.apply([9, 9, 9][...], at: 3)
        #expect(KVApplyResult(decoding: garbage)?.isRejected == true)
        #expect(garbage.first == KVApplyResult.Kind.rejected.rawValue)
        #expect(kv.count == 0)
        #expect(kv.takeChanges().isEmpty)
        #expect(KVStore.validate(key: "big", value: big)?.contains("512 KiB") == true)
        let exact = [UInt8](repeating: 0, count: KVStore.maxValueSize)
        #expect(kv.apply(.put(key: "exact", value: exact, flags: 0, cas: nil), at: 4) == .applied)
        #expect(kv.apply(.put(key: String(repeating: "k", count: KVStore.maxKeySize), value: [], flags: 0, cas: nil), at: 5) == .applied)
    }

    @Test("applying encoded bytes gives the encoded typed result")
    func appliesBytes() {
        var kv = KVStore()
        let put = KVCommand.put(key: "a", value: [1], flags: 0, cas: 0).encoded()
        #expect(KVApplyResult(decoding: kv.apply(put.dropFirst(), at: 1)) == .applied)
        #expect(KVApplyResult(decoding: kv.apply(put.dropFirst(), at: 2)) == .casFailed)
        #expect(kv.apply(put.dropFirst(), at: 3).first == KVApplyResult.Kind.casFailed.rawValue)
    }

    @Test("keys that Swift calls equal but differ in bytes are distinct keys")
    func keysAreBytes() {
        let composed = "caf\u{E9}"
        let decomposed = "cafe\u{301}"
        #expect(composed == decomposed)
        var kv = KVStore()
        _ = kv.apply(.put(key: composed, value: [1], flags: 0, cas: nil), at: 1)
        _ = kv.apply(.put(key: decomposed, value: [2], flags: 0, cas: nil), at: 2)
        #expect(kv.count == 2)
        #expect(kv.get(composed)?.value == [1])
        #expect(kv.get(decomposed)?.value == [2])
        #expect(kv.keys(prefix: "cafe").count == 1)
        #expect(kv.keys(prefix: "caf").map { Array($0.utf8) } == [Array(decomposed.utf8), Array(composed.utf8)])
        _ = kv.apply(.delete(key: decomposed, cas: nil), at: 3)
        #expect(kv.get(composed)?.value == [1])
        #expect(kv.get(decomposed) == nil)
    }

    @Test("two stores built by the same commands are equal, and differ once their state does")
    func equality() {
        func build() -> KVStore {
            var store = KVStore()
            _ = store.apply(.put(key: "x", value: [1], flags: 0, cas: nil), at: 1)
            _ = store.apply(.sessionCreate(makeSession("s")), at: 2)
            return store
        }
        var a = build()
        var b = build()
        _ = a.takeChanges()
        #expect(a == b)
        _ = b.apply(.acquire(key: "x", value: [1], flags: 0, session: "s", now: 0), at: 3)
        #expect(a != b)
    }
}
