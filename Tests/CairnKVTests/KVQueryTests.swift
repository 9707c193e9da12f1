import CairnKV
import CairnKernel
import CairnRaft
import CairnWire
import Testing

@Suite("KV queries")
struct KVQueryTests {
    func store(_ keys: [String]) -> KVStore {
        var kv = KVStore()
        for (i, key) in keys.enumerated() {
            _ = kv.apply(.put(key: key, value: bytes(key), flags: 0, cas: nil), at: LogIndex(i + 1))
        }
        return kv
    }

    @Test("keys with a separator are cut after the first separator past the prefix, as in Consul")
    func keysWithSeparator() {
        let kv = store(["ab", "a/d", "a/b/c"])
        #expect(kv.keys(prefix: "a", separator: "/") == ["a/", "ab"])
        #expect(kv.keys(prefix: "a/", separator: "/") == ["a/b/", "a/d"])
        #expect(kv.keys(prefix: "a/b/", separator: "/") == ["a/b/c"])
        #expect(kv.keys(prefix: "", separator: "/") == ["a/", "ab"])
        #expect(kv.keys(prefix: "a") == ["a/b/c", "a/d", "ab"])
        #expect(kv.keys(prefix: "b", separator: "/").isEmpty)
    }

    @Test("a key equal to a cut folds with the keys below it")
    func keyEqualToCut() {
        let kv = store(["a/", "a/x", "a/y/z", "b"])
        #expect(kv.keys(prefix: "", separator: "/") == ["a/", "b"])
        #expect(kv.keys(prefix: "a/", separator: "/") == ["a/", "a/x", "a/y/"])
    }

    @Test("a separator of several bytes cuts after the whole separator")
    func longSeparator() {
        let kv = store(["x--y--z", "x--w", "x-q", "xé--1"])
        #expect(kv.keys(prefix: "x", separator: "--") == ["x--", "x-q", "xé--"])
        #expect(kv.keys(prefix: "x--", separator: "--") == ["x--w", "x--y--"])
    }

    @Test("a list under a prefix holds exactly its keys, in byte order")
    func listPrefix() {
        let kv = store(["b/2", "a", "b/1", "b", "ba", "b/10", "c"])
        #expect(kv.list(prefix: "b/").map(\.key) == ["b/1", "b/10", "b/2"])
        #expect(kv.list(prefix: "b").map(\.key) == ["b", "b/1", "b/10", "b/2", "ba"])
        #expect(kv.list(prefix: "").map(\.key) == ["a", "b", "b/1", "b/10", "b/2", "ba", "c"])
        #expect(kv.list(prefix: "d").isEmpty)
        #expect(kv.list(prefix: "b/1").map(\.value) == [bytes("b/1"), bytes("b/10")])
    }

    @Test("listing stays exact across thousands of keys inserted and removed in scattered order")
    func manyKeys() {
        var kv = KVStore()
        var rng = SeededRandom(seed: 11)
        var present = Set<String>()
        for index in LogIndex(1)...6_000 {
            let key = "k/\(rng.next() % 40)/\(rng.next() % 100)"
            if index > 3_000 && rng.next() % 2 == 0 {
                _ = kv.apply(.delete(key: key, cas: nil), at: index)
                present.remove(key)
            } else {
                _ = kv.apply(.put(key: key, value: [], flags: 0, cas: nil), at: index)
                present.insert(key)
            }
        }
        #expect(kv.count == present.count)
        #expect(kv.keys(prefix: "") == present.sorted())
        for group in 0..<40 {
            let prefix = "k/\(group)/"
            #expect(kv.keys(prefix: prefix) == present.filter { $0.hasPrefix(prefix) }.sorted())
        }
        let folded = Set(present.map { "k/" + $0.split(separator: "/")[1] + "/" })
        #expect(kv.keys(prefix: "k/", separator: "/") == folded.sorted())
        _ = kv.apply(.deleteTree(prefix: "k/1"), at: 7_000)
        #expect(kv.keys(prefix: "") == present.filter { !$0.hasPrefix("k/1") }.sorted())
    }

    @Test("session queries list sessions by id and the keys each holds")
    func sessionQueries() {
        var kv = KVStore()
        _ = kv.apply(.sessionCreate(makeSession("b")), at: 1)
        _ = kv.apply(.sessionCreate(makeSession("a")), at: 2)
        _ = kv.apply(.acquire(key: "y", value: [], flags: 0, session: "b", now: 0), at: 3)
        _ = kv.apply(.acquire(key: "x", value: [], flags: 0, session: "b", now: 0), at: 4)
        #expect(kv.sessions().map(\.id) == ["a", "b"])
        #expect(kv.session("a")?.createIndex == 2)
        #expect(kv.session("c") == nil)
        #expect(kv.keysHeld(bySession: "b") == ["x", "y"])
        #expect(kv.keysHeld(bySession: "a").isEmpty)
        #expect(kv.keysHeld(bySession: "nobody").isEmpty)
    }
}
