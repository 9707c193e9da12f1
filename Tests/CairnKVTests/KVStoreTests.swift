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
        let entry = kv.get("a")
        #expect(entry?.value == [1])
        #expect(entry?.flags == 7)
        #expect(entry?.createIndex == 5)
        #expect(entry?.modifyIndex == 5)
    }

    @Test("an overwrite keeps the create index and moves the modify index")
    func overwrite() {
        var kv = KVStore()
        _ = kv.apply(.put(key: "a", value: [1], flags: 0, cas: nil), at: 5)
        _ = kv.apply(.put(key: "a", value: [2], flags: 0, cas: nil), at: 9)
        #expect(kv.get("a")?.createIndex == 5)
        #expect(kv.get("a")?.modifyIndex == 9)
        #expect(kv.get("a")?.value == [2])
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
        #expect(kv.apply(.delete(key: "k", cas: 3), at: 7) == .casFailed)
        #expect(kv.get("k") != nil)
        #expect(kv.apply(.delete(key: "k", cas: 6), at: 8) == .applied)
        #expect(kv.get("k") == nil)
    }

    @Test("oversized values, empty keys and malformed commands are rejected without a change")
    func rejects() {
        var kv = KVStore()
        let big = [UInt8](repeating: 0, count: KVStore.maxValueSize + 1)
        #expect(kv.apply(.put(key: "big", value: big, flags: 0, cas: nil), at: 1) == .rejected)
        #expect(kv.apply(.put(key: "", value: [1], flags: 0, cas: nil), at: 2) == .rejected)
        #expect(kv.apply([9, 9, 9][...], at: 3) == [KVResult.rejected.rawValue])
        #expect(kv.count == 0)
        #expect(KVStore.validate(key: "big", value: big)?.contains("512 KiB") == true)
        let exact = [UInt8](repeating: 0, count: KVStore.maxValueSize)
        #expect(kv.apply(.put(key: "exact", value: exact, flags: 0, cas: nil), at: 4) == .applied)
    }

    @Test("commands round-trip through their log encoding")
    func commandEncoding() {
        let commands: [KVCommand] = [
            .put(key: "a/b", value: Array("v".utf8), flags: 3, cas: nil),
            .put(key: "ünï", value: [], flags: .max, cas: 0),
            .delete(key: "x", cas: 42),
            .delete(key: "y", cas: nil),
        ]
        for command in commands {
            let bytes = command.encoded()
            #expect(bytes.first == KVStore.moduleTag)
            #expect(KVCommand(decoding: bytes.dropFirst()) == command)
            for cut in 1..<bytes.count {
                #expect(KVCommand(decoding: bytes[1..<cut]) == nil)
            }
        }
    }

    @Test("a snapshot restores the same store, and corrupt snapshots are refused")
    func snapshots() throws {
        var kv = KVStore()
        for i in 1...50 {
            _ = kv.apply(.put(key: "key\(i)", value: Array("value\(i)".utf8), flags: UInt64(i), cas: nil), at: LogIndex(i))
        }
        _ = kv.apply(.delete(key: "key7", cas: nil), at: 51)
        let bytes = kv.snapshot()
        var restored = KVStore()
        try restored.restore(bytes[...])
        #expect(restored.count == 49)
        #expect(restored.get("key8") == kv.get("key8"))
        #expect(restored.snapshot() == bytes)
        for cut in stride(from: 1, to: bytes.count, by: 7) {
            var target = KVStore()
            #expect(throws: StateMachineError.self) { try target.restore(bytes[0..<cut]) }
        }
    }

    @Test("randomized operations agree with a simple model")
    func matchesModel() {
        var rng = SeededRandom(seed: 7)
        var kv = KVStore()
        var model: [String: (value: [UInt8], create: UInt64, modify: UInt64)] = [:]
        for index in UInt64(1)...3_000 {
            let key = "k\(rng.next() % 20)"
            let useCas = rng.next() % 3 == 0
            let current = model[key]?.modify ?? 0
            let cas: UInt64? = useCas ? (rng.next() % 2 == 0 ? current : current + 1) : nil
            if rng.next() % 4 == 0 {
                let result = kv.apply(.delete(key: key, cas: cas), at: index)
                if cas == nil || cas == current {
                    #expect(result == .applied)
                    model[key] = nil
                } else {
                    #expect(result == .casFailed)
                }
            } else {
                let value = [UInt8(truncatingIfNeeded: index)]
                let result = kv.apply(.put(key: key, value: value, flags: 0, cas: cas), at: index)
                if cas == nil || cas == current {
                    #expect(result == .applied)
                    model[key] = (value, model[key]?.create ?? index, index)
                } else {
                    #expect(result == .casFailed)
                }
            }
        }
        #expect(kv.count == model.count)
        for (key, expected) in model {
            let got = kv.get(key)
            #expect(got?.value == expected.value)
            #expect(got?.createIndex == expected.create)
            #expect(got?.modifyIndex == expected.modify)
        }
    }
}
