import Foundation
import CairnKV
import CairnKernel
import CairnRaft
import CairnWire
import CairnTestSupport
import Testing

/// A deliberately simple KV store written straight from the rules (dictionaries, linear scans,
/// whole-copy transactions), to compare the real store against.
struct ReferenceKV {
    var entries: [String: KVEntry] = [:]
    var sessions: [String: Session] = [:]
    var delays: [String: UInt64] = [:]
    var changes: [StateChange] = []

    func sortedKeys(prefix: String) -> [String] { entries.keys.filter { $0.hasPrefix(prefix) }.sorted() }

    func list(prefix: String) -> [KVEntry] { sortedKeys(prefix: prefix).map { entries[$0]! } }

    func keys(prefix: String, separator: String) -> [String] {
        var result = Set<String>()
        for key in sortedKeys(prefix: prefix) {
            let rest = String(key.dropFirst(prefix.count))
            var cut = key
            if !separator.isEmpty {
                var i = rest.startIndex
                while i < rest.endIndex {
                    if rest[i...].hasPrefix(separator) {
                        cut = prefix + rest[..<i] + separator
                        break
                    }
                    i = rest.index(after: i)
                }
            }
            result.insert(cut)
        }
        return result.sorted()
    }

    func held(by id: String) -> [String] { entries.values.filter { $0.session == id }.map(\.key).sorted() }

    mutating func forget(now: UInt64) { delays = delays.filter { $0.value > now } }

    static func valid(_ key: String, _ value: [UInt8] = []) -> Bool {
        !key.isEmpty && key.utf8.count <= KVStore.maxKeySize && value.count <= KVStore.maxValueSize
    }

    mutating func write(_ key: String, _ entry: KVEntry?, at index: UInt64, touched: inout [String]) {
        entries[key] = entry
        touched.append(key)
    }

    func mayAcquire(_ key: String, _ session: String, now: UInt64) -> Bool {
        guard sessions[session] != nil else { return false }
        if let holder = entries[key]?.session, !holder.isEmpty, holder != session { return false }
        if let until = delays[key], now < until { return false }
        return true
    }

    func locked(_ key: String, _ value: [UInt8], _ flags: UInt64, _ session: String, at index: UInt64) -> KVEntry {
        let old = entries[key]
        return KVEntry(key: key, value: value, flags: flags, createIndex: old?.createIndex ?? index, modifyIndex: index,
                       lockIndex: (old?.lockIndex ?? 0) + (old?.session == session ? 0 : 1), session: session)
    }

    func written(_ key: String, _ value: [UInt8], _ flags: UInt64, at index: UInt64) -> KVEntry {
        let old = entries[key]
        return KVEntry(key: key, value: value, flags: flags, createIndex: old?.createIndex ?? index, modifyIndex: index,
                       lockIndex: old?.lockIndex ?? 0, session: old?.session ?? "")
    }

    func mayRelease(_ key: String, _ session: String) -> Bool {
        !session.isEmpty && entries[key]?.session == session
    }

    func released(_ key: String, _ value: [UInt8], _ flags: UInt64, at index: UInt64) -> KVEntry {
        var entry = entries[key]!
        entry.value = value
        entry.flags = flags
        entry.modifyIndex = index
        entry.session = ""
        return entry
    }

    /// Records one change per key in `touched` order (first touch), skipping absent-to-absent.
    mutating func record(_ touched: [String], before: [String: KVEntry], at index: UInt64) {
        var seen = Set<String>()
        for key in touched where seen.insert(key).inserted {
            if before[key] == nil && entries[key] == nil { continue }
            changes.append(.key(KVChange(key: key, entry: entries[key]), index: index))
        }
    }

    mutating func apply(_ command: KVCommand, at index: UInt64) -> KVApplyResult {
        let before = entries
        var touched: [String] = []
        defer { record(touched, before: before, at: index) }
        switch command {
        case .put(let key, let value, let flags, let cas):
            guard Self.valid(key, value) else { return .rejected(reason: "") }
            if let cas, cas != (entries[key]?.modifyIndex ?? 0) { return .casFailed }
            write(key, written(key, value, flags, at: index), at: index, touched: &touched)
            return .applied
        case .delete(let key, let cas):
            guard Self.valid(key) else { return .rejected(reason: "") }
            guard let old = entries[key] else { return .applied }
            if let cas, cas != old.modifyIndex { return .casFailed }
            write(key, nil, at: index, touched: &touched)
            return .applied
        case .deleteTree(let prefix):
            for key in sortedKeys(prefix: prefix) { write(key, nil, at: index, touched: &touched) }
            return .applied
        case .acquire(let key, let value, let flags, let session, let now):
            guard Self.valid(key, value) else { return .rejected(reason: "") }
            forget(now: now)
            guard mayAcquire(key, session, now: now) else { return .notAcquired }
            write(key, locked(key, value, flags, session, at: index), at: index, touched: &touched)
            return .applied
        case .release(let key, let value, let flags, let session):
            guard Self.valid(key, value) else { return .rejected(reason: "") }
            guard mayRelease(key, session) else { return .notReleased }
            write(key, released(key, value, flags, at: index), at: index, touched: &touched)
            return .applied
        case .transaction(let operations, let now):
            guard (1...KVTransaction.maxOperations).contains(operations.count) else { return .rejected(reason: "") }
            forget(now: now)
            var scratch = self
            var results: [KVEntry] = []
            for (number, operation) in operations.enumerated() {
                guard scratch.perform(operation, now: now, at: index, results: &results, touched: &touched) else {
                    touched = []
                    return .transaction(.failed(index: index, operation: UInt32(number), reason: ""))
                }
            }
            self = scratch
            return .transaction(.committed(index: index, results: results))
        case .sessionCreate(let session):
            guard !session.id.isEmpty, sessions[session.id] == nil else { return .rejected(reason: "") }
            var created = session
            created.createIndex = index
            sessions[session.id] = created
            return .sessionCreated(id: session.id)
        case .sessionDestroy(let id, let now):
            forget(now: now)
            guard let session = sessions.removeValue(forKey: id) else { return .sessionNotFound }
            for key in held(by: id) {
                if session.behavior == .delete {
                    write(key, nil, at: index, touched: &touched)
                } else {
                    var entry = entries[key]!
                    entry.session = ""
                    entry.modifyIndex = index
                    write(key, entry, at: index, touched: &touched)
                }
                if session.lockDelayMilliseconds > 0 {
                    delays[key] = max(delays[key] ?? 0, now + session.lockDelayMilliseconds)
                }
            }
            return .applied
        }
    }

    mutating func perform(_ operation: KVTransactionOperation, now: UInt64, at index: UInt64,
                          results: inout [KVEntry], touched: inout [String]) -> Bool {
        switch operation {
        case .get(let key):
            guard Self.valid(key), let entry = entries[key] else { return false }
            results.append(entry)
        case .getTree(let prefix):
            results += list(prefix: prefix)
        case .set(let key, let value, let flags):
            guard Self.valid(key, value) else { return false }
            write(key, written(key, value, flags, at: index), at: index, touched: &touched)
            results.append(entries[key]!)
        case .cas(let key, let value, let flags, let cas):
            guard Self.valid(key, value), cas == (entries[key]?.modifyIndex ?? 0) else { return false }
            write(key, written(key, value, flags, at: index), at: index, touched: &touched)
            results.append(entries[key]!)
        case .lock(let key, let value, let flags, let session):
            guard Self.valid(key, value), mayAcquire(key, session, now: now) else { return false }
            write(key, locked(key, value, flags, session, at: index), at: index, touched: &touched)
            results.append(entries[key]!)
        case .unlock(let key, let value, let flags, let session):
            guard Self.valid(key, value), mayRelease(key, session) else { return false }
            write(key, released(key, value, flags, at: index), at: index, touched: &touched)
            results.append(entries[key]!)
        case .delete(let key):
            guard Self.valid(key) else { return false }
            if entries[key] != nil { write(key, nil, at: index, touched: &touched) }
        case .deleteTree(let prefix):
            for key in sortedKeys(prefix: prefix) { write(key, nil, at: index, touched: &touched) }
        case .deleteCAS(let key, let cas):
            guard Self.valid(key) else { return false }
            if let old = entries[key] {
                guard old.modifyIndex == cas else { return false }
                write(key, nil, at: index, touched: &touched)
            }
        case .checkIndex(let key, let expected):
            guard Self.valid(key), entries[key]?.modifyIndex == expected else { return false }
        case .checkSession(let key, let session):
            guard Self.valid(key), (entries[key]?.session ?? "") == session else { return false }
        case .checkNotExists(let key):
            guard Self.valid(key), entries[key] == nil else { return false }
        }
        return true
    }

    mutating func takeChanges() -> [StateChange] {
        defer { changes = [] }
        return changes
    }
}

/// Draws random commands over a small space of keys, prefixes and session ids, so that
/// collisions, prefixes and lock conflicts are frequent.
struct CommandGenerator {
    var rng: SeededRandom
    var now: UInt64 = 1_000_000
    static let segments = ["a", "b", "ab", "c"]
    static let prefixes = ["", "a", "a/", "ab", "b/", "a/b", "c/a/", "zz"]
    static let separators = ["", "/", "b/"]
    static let sessionIDs = (0..<6).map { "s\($0)" }

    mutating func pick<T>(_ options: [T]) -> T { options[Int(rng.next() % UInt64(options.count))] }
    mutating func chance(_ percent: UInt64) -> Bool { rng.next() % 100 < percent }

    mutating func key() -> String {
        let depth = 1 + Int(rng.next() % 3)
        var key = (0..<depth).map { _ in pick(Self.segments) }.joined(separator: "/")
        if chance(10) { key += "/" }
        return key
    }

    mutating func value() -> [UInt8] { (0..<Int(rng.next() % 4)).map { _ in UInt8(truncatingIfNeeded: rng.next()) } }

    mutating func index(near model: ReferenceKV, key: String) -> UInt64 {
        let current = model.entries[key]?.modifyIndex ?? 0
        switch rng.next() % 4 {
        case 0: return 0
        case 1: return current + 1
        default: return current
        }
    }

    mutating func operation(_ model: ReferenceKV) -> KVTransactionOperation {
        let k = key()
        switch rng.next() % 12 {
        case 0: return .get(key: k)
        case 1: return .getTree(prefix: pick(Self.prefixes))
        case 2: return .set(key: k, value: value(), flags: rng.next() % 3)
        case 3: return .cas(key: k, value: value(), flags: 0, index: index(near: model, key: k))
        case 4: return .lock(key: k, value: value(), flags: 0, session: pick(Self.sessionIDs))
        case 5: return .unlock(key: k, value: value(), flags: 0, session: pick(Self.sessionIDs))
        case 6: return .delete(key: k)
        case 7: return chance(30) ? .deleteTree(prefix: pick(Self.prefixes)) : .delete(key: k)
        case 8: return .deleteCAS(key: k, index: index(near: model, key: k))
        case 9: return .checkIndex(key: k, index: index(near: model, key: k))
        case 10: return .checkSession(key: k, session: chance(30) ? "" : pick(Self.sessionIDs))
        default: return chance(5) ? .checkNotExists(key: "") : .checkNotExists(key: k)
        }
    }

    mutating func command(_ model: ReferenceKV) -> KVCommand {
        if chance(5) { now -= min(now, rng.next() % 2_000) } else { now += rng.next() % 3_000 }
        let k = key()
        switch rng.next() % 100 {
        case 0..<20:
            let cas: UInt64? = chance(50) ? nil : index(near: model, key: k)
            return .put(key: k, value: value(), flags: rng.next() % 3, cas: cas)
        case 20..<28:
            return .delete(key: k, cas: chance(60) ? nil : index(near: model, key: k))
        case 28..<31:
            return .deleteTree(prefix: pick(Self.prefixes))
        case 31..<46:
            let held = model.entries.values.filter { !$0.session.isEmpty }.map(\.key).sorted()
            let target = !held.isEmpty && chance(30) ? pick(held) : k
            return .acquire(key: target, value: value(), flags: 0, session: pick(Self.sessionIDs + ["ghost"]), now: now)
        case 46..<54:
            let held = model.entries.values.filter { !$0.session.isEmpty }.sorted { $0.key < $1.key }
            if !held.isEmpty && chance(60) {
                let entry = pick(held)
                return .release(key: entry.key, value: value(), flags: 0, session: chance(80) ? entry.session : pick(Self.sessionIDs))
            }
            return .release(key: k, value: value(), flags: 0, session: pick(Self.sessionIDs))
        case 54..<70:
            let count = chance(3) ? (chance(50) ? 0 : KVTransaction.maxOperations + 1) : 1 + Int(rng.next() % 6)
            return .transaction((0..<count).map { _ in operation(model) }, now: now)
        case 70..<80:
            let delays: [UInt64] = [0, 1_000, 5_000, 15_000]
            return .sessionCreate(Session(id: chance(3) ? "" : pick(Self.sessionIDs), name: "n", node: "node",
                                          ttlMilliseconds: 0, lockDelayMilliseconds: pick(delays),
                                          behavior: chance(50) ? .release : .delete, checks: [], createIndex: 0))
        case 80..<88:
            return .sessionDestroy(id: pick(Self.sessionIDs + ["ghost"]), now: now)
        case 88..<90:
            return chance(50) ? .put(key: "", value: [], flags: 0, cas: nil)
                : .acquire(key: "", value: [], flags: 0, session: "s0", now: now)
        default:
            return .put(key: k, value: value(), flags: 0, cas: nil)
        }
    }
}

@Suite("KV store against a reference model")
struct KVModelTests {
    /// The first query on which `store` and the model disagree, described, or nil.
    func firstDifference(_ store: KVStore, _ model: ReferenceKV) -> String? {
        if store.count != model.entries.count { return "count: \(store.count) vs \(model.entries.count)" }
        for prefix in CommandGenerator.prefixes {
            if store.list(prefix: prefix) != model.list(prefix: prefix) { return "list(prefix: \"\(prefix)\")" }
            for separator in CommandGenerator.separators
            where store.keys(prefix: prefix, separator: separator) != model.keys(prefix: prefix, separator: separator) {
                return "keys(prefix: \"\(prefix)\", separator: \"\(separator)\")"
            }
        }
        for key in ["a", "a/b", "zz", "ab/c/"] where store.get(key) != model.entries[key] { return "get(\"\(key)\")" }
        if store.sessions() != model.sessions.keys.sorted().map({ model.sessions[$0]! }) { return "sessions()" }
        if store.sessionCount != model.sessions.count { return "sessionCount" }
        for id in CommandGenerator.sessionIDs + ["ghost"] {
            if store.session(id) != model.sessions[id] { return "session(\"\(id)\")" }
            if store.keysHeld(bySession: id) != model.held(by: id) { return "keysHeld(bySession: \"\(id)\")" }
        }
        for key in Set(model.delays.keys).union(["a", "b/c"]) where store.lockDelay(for: key) != model.delays[key] {
            return "lockDelay(for: \"\(key)\"): \(String(describing: store.lockDelay(for: key))) vs \(String(describing: model.delays[key]))"
        }
        return nil
    }

    @Test("thousands of random commands give the same results, state and changes as the model",
          arguments: [UInt64(1), 2, 3, 42])
    func matchesModel(seed: UInt64) async throws {
        // CPU-bound for seconds in a debug build: run it on a thread of its own, so that it does
        // not hold one of the few cooperative threads the rest of the suite's tasks need.
        let outcome = try await onDedicatedThread { try Self.compare(seed: seed) }
        #expect(outcome.failure == nil, "\(outcome.failure ?? "")")
        // The generator must actually exercise the interesting paths.
        #expect(outcome.committedTransactions > 50)
        #expect(outcome.acquisitions > 50)
    }

    struct Outcome: Sendable {
        var failure: String?
        var committedTransactions = 0
        var acquisitions = 0
    }

    /// Applies random commands to the store and the model; stops at the first divergence
    /// (everything after it would differ too).
    static func compare(seed: UInt64) throws -> Outcome {
        var generator = CommandGenerator(rng: SeededRandom(seed: seed))
        var store = KVStore()
        var model = ReferenceKV()
        var outcome = Outcome()
        for step in 1...2_500 {
            let index = UInt64(step) + 10
            let command = generator.command(model)
            let encoded = command.encoded()
            func fail(_ what: String) -> Outcome {
                outcome.failure = "seed \(seed) step \(step): \(what) after \(command)"
                return outcome
            }
            guard KVCommand(decoding: encoded.dropFirst()) == command else { return fail("the command does not decode to itself") }
            guard let result = KVApplyResult(decoding: store.apply(encoded.dropFirst(), at: index)) else { return fail("the result does not decode") }
            let expected = model.apply(command, at: index)
            guard result.withoutReasons == expected else { return fail("result \(result) vs \(expected)") }
            guard store.takeChanges() == model.takeChanges() else { return fail("changes differ") }
            if let difference = KVModelTests().firstDifference(store, model) { return fail("\(difference) differs") }
            if case .transaction(.committed) = result { outcome.committedTransactions += 1 }
            if case .acquire = command, result == .applied { outcome.acquisitions += 1 }
            if step % 500 == 0 {
                let bytes = store.snapshot()
                var restored = KVStore()
                try restored.restore(bytes[...])
                guard restored == store, restored.snapshot() == bytes else { return fail("the snapshot does not round-trip") }
                store = restored
            }
        }
        return outcome
    }
}
