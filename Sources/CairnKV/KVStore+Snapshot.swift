import CairnKernel
import CairnWire

extension KVStore {
    /// The store's state as bytes, identical for identical states (every part in byte order):
    ///
    /// `u64 keyCount, entry...` in key order, an entry being `string key, bytes value, u64 flags,
    /// u64 createIndex, u64 modifyIndex, u64 lockIndex, string session`; then
    /// `u64 sessionCount, session...` in id order, a session as in ``KVCommand`` (`string id,
    /// string name, string node, u64 ttlMilliseconds, u64 lockDelayMilliseconds, u8 behavior,
    /// u32 checkCount, string check..., u64 createIndex`); then `u64 lockDelayCount,
    /// (string key, u64 until)...` in key order.
    public func snapshot() -> [UInt8] {
        var w = BinaryWriter(capacity: 64 * max(1, entries.count))
        w.write(UInt64(entries.count))
        order.forEach(from: order.lowerBound("")) { key in
            w.write(entry: entries[ExactString(key)]!)
            return true
        }
        let sessions = sessionTable.all()
        w.write(UInt64(sessions.count))
        for session in sessions { w.write(session: session) }
        w.write(UInt64(lockDelays.count))
        for key in lockDelays.keys.sorted() {
            w.write(string: key.string)
            w.write(lockDelays[key]!)
        }
        return w.bytes
    }

    /// Replaces the state with a ``snapshot()``'s (zero bytes: the empty store), all or nothing,
    /// and forgets the recorded watch changes. Throws ``StateMachineError/Code/malformedSnapshot``
    /// naming the first problem: truncation, trailing bytes, keys or ids out of order or
    /// repeated, an invalid key, an unknown session behaviour, or a key held by a session the
    /// snapshot does not have.
    public mutating func restore(_ bytes: ArraySlice<UInt8>) throws {
        var restored = KVStore()
        if !bytes.isEmpty {
            var r = BinaryReader(bytes)
            var sortedKeys: [String] = []
            guard let keyCount = r.read(UInt64.self) else { throw Self.malformed("the key count is missing") }
            var previous: String?
            for n in 0..<keyCount {
                guard let entry = r.readEntry() else { throw Self.malformed("key entry \(n) of \(keyCount) is truncated") }
                if let problem = Self.validate(key: entry.key, value: entry.value) {
                    throw Self.malformed("key entry \(n): \(problem)")
                }
                if let previous, !ByteOrder.precedes(previous, entry.key) {
                    throw Self.malformed("key entry \(n) (\"\(entry.key)\") is out of order or repeated")
                }
                previous = entry.key
                sortedKeys.append(entry.key)
                restored.entries[ExactString(entry.key)] = entry
            }
            guard let sessionCount = r.read(UInt64.self) else { throw Self.malformed("the session count is missing") }
            var previousID: String?
            for n in 0..<sessionCount {
                guard let session = r.readSession() else {
                    throw Self.malformed("session \(n) of \(sessionCount) is truncated or has an unknown behaviour")
                }
                if let previousID, !ByteOrder.precedes(previousID, session.id) {
                    throw Self.malformed("session \(n) (\"\(session.id)\") is out of order or repeated")
                }
                previousID = session.id
                restored.sessionTable.add(session)
            }
            guard let delayCount = r.read(UInt64.self) else { throw Self.malformed("the lock-delay count is missing") }
            previous = nil
            for n in 0..<delayCount {
                guard let key = r.readString(), let until = r.read(UInt64.self) else {
                    throw Self.malformed("lock-delay \(n) of \(delayCount) is truncated")
                }
                if let problem = Self.validate(key: key) { throw Self.malformed("lock-delay \(n): \(problem)") }
                if let previous, !ByteOrder.precedes(previous, key) {
                    throw Self.malformed("lock-delay \(n) (\"\(key)\") is out of order or repeated")
                }
                previous = key
                restored.lockDelays[ExactString(key)] = until
                restored.earliestLockDelayEnd = min(restored.earliestLockDelayEnd, until)
            }
            guard r.isAtEnd else { throw Self.malformed("there are stray bytes after the lock-delays") }
            for key in sortedKeys {
                let holder = restored.entries[ExactString(key)]!.session
                guard !holder.isEmpty else { continue }
                guard restored.sessionTable.contains(holder) else {
                    throw Self.malformed("the key \"\(key)\" is held by session \"\(holder)\", which the snapshot does not have")
                }
                restored.sessionTable.hold(key, by: holder)
            }
            restored.order = SortedKeys(sortedDistinct: sortedKeys)
        }
        self = restored
    }

    private static func malformed(_ reason: String) -> StateMachineError {
        StateMachineError(.malformedSnapshot, "KV snapshot: \(reason)")
    }
}
