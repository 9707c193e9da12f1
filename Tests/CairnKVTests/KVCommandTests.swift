import CairnKV
import CairnKernel
import CairnRaft
import CairnWire
import Testing

@Suite("KV command and result encoding")
struct KVCommandTests {
    static let allOperations: [KVTransactionOperation] = [
        .get(key: "g"),
        .getTree(prefix: ""),
        .set(key: "s", value: [1, 2], flags: 3),
        .cas(key: "c", value: [], flags: .max, index: 9),
        .lock(key: "l", value: [4], flags: 0, session: "sess"),
        .unlock(key: "u", value: [5], flags: 1, session: "sess"),
        .delete(key: "d"),
        .deleteTree(prefix: "dt/"),
        .deleteCAS(key: "dc", index: 77),
        .checkIndex(key: "ci", index: 0),
        .checkSession(key: "cs", session: ""),
        .checkNotExists(key: "cn"),
    ]

    static let commands: [KVCommand] = [
        .put(key: "a/b", value: bytes("v"), flags: 3, cas: nil),
        .put(key: "ünï", value: [], flags: .max, cas: 0),
        .delete(key: "x", cas: 42),
        .delete(key: "y", cas: nil),
        .deleteTree(prefix: ""),
        .deleteTree(prefix: "p/"),
        .acquire(key: "lock", value: [0, 255], flags: 8, session: "7f3c", now: 1_700_000_000_000),
        .release(key: "lock", value: [], flags: 0, session: "7f3c"),
        .transaction(allOperations, now: 12),
        .transaction([], now: 0),
        .sessionCreate(Session(id: "id", name: "n", node: "node", ttlMilliseconds: 10_000, lockDelayMilliseconds: 15_000,
                               behavior: .delete, checks: ["a", "b"], createIndex: 3)),
        .sessionCreate(makeSession("plain")),
        .sessionDestroy(id: "id", now: .max),
    ]

    @Test("every command round-trips through its log encoding, and every truncation is refused", arguments: commands)
    func commandRoundTrip(command: KVCommand) {
        let encoded = command.encoded()
        #expect(encoded.first == KVStore.moduleTag)
        #expect(KVCommand(decoding: encoded.dropFirst()) == command)
        for cut in 1..<encoded.count {
            #expect(KVCommand(decoding: encoded[1..<cut]) == nil)
        }
        #expect(KVCommand(decoding: (encoded + [0]).dropFirst()) == nil)
    }

    @Test("unknown ops, unknown operation kinds, bad behaviours and invalid UTF-8 are refused")
    func malformedCommands() {
        #expect(KVCommand(decoding: [0][...]) == nil)
        #expect(KVCommand(decoding: [9][...]) == nil)
        var badKind = KVCommand.transaction([.get(key: "k")], now: 0).encoded()
        badKind[1 + 1 + 8 + 4] = 13
        #expect(KVCommand(decoding: badKind.dropFirst()) == nil)
        var badBehavior = KVCommand.sessionCreate(makeSession("s")).encoded()
        let behaviorAt = 1 + 1 + (4 + 1) + (4 + 0) + (4 + 6) + 8 + 8
        #expect(badBehavior[behaviorAt] == 0)
        badBehavior[behaviorAt] = 2
        #expect(KVCommand(decoding: badBehavior.dropFirst()) == nil)
        var badUTF8 = KVCommand.delete(key: "k", cas: nil).encoded()
        badUTF8[1 + 1 + 4] = 0xFF
        #expect(KVCommand(decoding: badUTF8.dropFirst()) == nil)
    }

    @Test("a transaction whose count claims more operations than its bytes hold is refused")
    func lyingCount() {
        var encoded = KVCommand.transaction([.get(key: "k")], now: 0).encoded()
        encoded.replaceSubrange((1 + 1 + 8)..<(1 + 1 + 8 + 4), with: [0xFF, 0xFF, 0xFF, 0xFF])
        #expect(KVCommand(decoding: encoded.dropFirst()) == nil)
    }

    static let results: [KVApplyResult] = [
        .applied, .casFailed, .rejected(reason: "the key is empty"), .notAcquired, .notReleased,
        .transaction(.committed(index: 9, results: [])),
        .transaction(.committed(index: 9, results: [
            KVEntry(key: "a", value: [1], flags: 2, createIndex: 3, modifyIndex: 4, lockIndex: 5, session: "s"),
            KVEntry(key: "b", value: []),
        ])),
        .transaction(.failed(index: 10, operation: 63, reason: "nope")),
        .sessionCreated(id: "abc"), .sessionNotFound,
    ]

    @Test("every result round-trips through its encoding, and every truncation is refused", arguments: results)
    func resultRoundTrip(result: KVApplyResult) {
        let encoded = result.encoded()
        #expect(encoded.first == result.kind.rawValue)
        #expect(KVApplyResult(decoding: encoded) == result)
        for cut in 0..<encoded.count {
            #expect(KVApplyResult(decoding: Array(encoded[0..<cut])) == nil)
        }
        #expect(KVApplyResult(decoding: encoded + [0]) == nil)
    }

    @Test("unknown result kinds are refused")
    func unknownResult() {
        #expect(KVApplyResult(decoding: [0]) == nil)
        #expect(KVApplyResult(decoding: [99]) == nil)
        #expect(KVApplyResult(decoding: [6, 3] + [UInt8](repeating: 0, count: 8)) == nil)
    }

    @Test("success is reported for applied changes, created sessions and committed transactions only")
    func succeeded() {
        let succeeding = Self.results.filter(\.succeeded)
        #expect(succeeding == [
            .applied, .transaction(.committed(index: 9, results: [])), Self.results[6], .sessionCreated(id: "abc"),
        ])
    }
}
