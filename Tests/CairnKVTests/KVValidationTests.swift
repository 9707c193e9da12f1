import CairnKV
import CairnWire
import Testing

@Suite("KV request validation")
struct KVValidationTests {
    @Test("keys and values are checked with the code to answer")
    func keys() {
        #expect(KVStore.validateKey("ok", value: [1]) == nil)
        #expect(KVStore.validateKey("")?.code == .invalidKey)
        #expect(KVStore.validateKey(String(repeating: "k", count: KVStore.maxKeySize + 1))?.code == .invalidKey)
        #expect(KVStore.validateKey(String(repeating: "k", count: KVStore.maxKeySize)) == nil)
        #expect(KVStore.validateKey("é", value: []) == nil)
        let big = [UInt8](repeating: 0, count: KVStore.maxValueSize + 1)
        #expect(KVStore.validateKey("k", value: big)?.code == .valueTooLarge)
        #expect(KVStore.validateKey("", value: big)?.code == .invalidKey)
        #expect(KVStore.validatePrefix("") == nil)
        #expect(KVStore.validatePrefix(String(repeating: "p", count: KVStore.maxKeySize + 1))?.code == .invalidKey)
    }

    @Test("transactions hold 1 to 64 operations, each with a valid key and value")
    func transactions() {
        let set = KVTransactionOperation.set(key: "k", value: [], flags: 0)
        #expect(KVStore.validateTransaction([])?.code == .invalidArgument)
        #expect(KVStore.validateTransaction([set]) == nil)
        #expect(KVStore.validateTransaction(Array(repeating: set, count: KVTransaction.maxOperations)) == nil)
        #expect(KVStore.validateTransaction(Array(repeating: set, count: KVTransaction.maxOperations + 1))?.code == .invalidArgument)
        let badKey = KVStore.validateTransaction([set, set, .checkIndex(key: "", index: 1)])
        #expect(badKey?.code == .invalidKey)
        #expect(badKey?.message.hasPrefix("operation 2:") == true)
        let big = [UInt8](repeating: 0, count: KVStore.maxValueSize + 1)
        #expect(KVStore.validateTransaction([.lock(key: "k", value: big, flags: 0, session: "s")])?.code == .valueTooLarge)
        #expect(KVStore.validateTransaction([.getTree(prefix: ""), .deleteTree(prefix: "")]) == nil)
    }

    @Test("session requests need a TTL of 0 or 10 s to 24 h, a lock-delay up to 60 s and short names")
    func sessions() {
        #expect(KVStore.validateSessionRequest(SessionRequest()) == nil)
        for ttl: UInt64 in [0, 10_000, 86_400_000] {
            #expect(KVStore.validateSessionRequest(SessionRequest(ttlMilliseconds: ttl)) == nil)
        }
        for ttl: UInt64 in [1, 9_999, 86_400_001] {
            #expect(KVStore.validateSessionRequest(SessionRequest(ttlMilliseconds: ttl))?.code == .invalidArgument)
        }
        #expect(KVStore.validateSessionRequest(SessionRequest(lockDelayMilliseconds: 60_000)) == nil)
        #expect(KVStore.validateSessionRequest(SessionRequest(lockDelayMilliseconds: 0)) == nil)
        #expect(KVStore.validateSessionRequest(SessionRequest(lockDelayMilliseconds: 60_001))?.code == .invalidArgument)
        #expect(KVStore.validateSessionRequest(SessionRequest(name: String(repeating: "n", count: 1_024))) == nil)
        #expect(KVStore.validateSessionRequest(SessionRequest(name: String(repeating: "n", count: 1_025)))?.code == .invalidArgument)
        #expect(KVStore.validateSessionRequest(SessionRequest(checks: [""]))?.code == .invalidArgument)
        #expect(KVStore.validateSessionRequest(SessionRequest(checks: ["serfHealth"])) == nil)
        #expect(KVStore.validateSessionRequest(SessionRequest(ttlMilliseconds: 5))?.message.contains("10 s") == true)
    }
}
