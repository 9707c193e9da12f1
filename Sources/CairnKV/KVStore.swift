import CairnKernel
import CairnRaft
import CairnWire

/// The replicated key/value store with its sessions: a module of the replicated state machine.
///
/// It is a pure, deterministic value: applying a ``KVCommand`` depends only on the state and the
/// command (which carries the leader's clock as `now` and the leader's choice of session ids),
/// never on a clock, randomness or IO, so every replica reaches the same state.
///
/// ## Keys
/// Semantics follow Consul's KV. Keys are byte strings (two keys that differ in any UTF-8 byte
/// are distinct, even when Swift would call the strings equal) and are listed in byte order.
/// Every key carries the Raft index that created it (`createIndex`) and last modified it
/// (`modifyIndex`), how many times a session acquired it (`lockIndex`) and the session holding
/// it (`session`, empty when unlocked).
/// - `put` writes a key (keeping its create index, lock index and lock holder). With `cas`, it
///   applies only when the key's modify index equals `cas`; `cas` 0 means "only if absent".
/// - `delete` removes a key; with `cas`, only when the modify index matches. Deleting an absent
///   key succeeds (with or without `cas`) and changes nothing, as in Consul.
/// - `deleteTree` removes every key that starts with the prefix (the empty prefix: all keys).
///
/// ## Sessions and locks
/// A session is created by the leader with an id it chose (``KVCommand/sessionCreate(_:)``); its
/// `createIndex` becomes the entry's index. A duplicate id is rejected.
/// - `acquire(key, session, now)` writes the key and locks it for the session. It is *not
///   acquired* (no change) when the session does not exist, when another session holds the
///   key, or when the key is within a lock-delay (`now < lockDelay(for: key)`). Acquiring a key
///   the session does not hold yet increments the key's lock index; the holder acquiring again
///   only updates the value and flags.
/// - `release(key, session)` writes the key and unlocks it when the session holds it; otherwise
///   it is *not released* (no change).
/// - `sessionDestroy(id, now)` invalidates a session (explicit destroy, TTL expiry and critical
///   checks alike, all in this one entry): the session is removed and each key it held is
///   released (behaviour `.release`: session cleared, modify index moved) or deleted (behaviour
///   `.delete`); each such key then stays unacquirable until `now + lockDelayMilliseconds` (when
///   the session's lock-delay is not 0; a later delay already recorded for the key is kept).
///   An unknown id is reported as not found.
/// - Lock-delays that ended at or before a command's `now` are forgotten when a command carrying
///   `now` (acquire, transaction, session destroy) is applied; they no longer block anything.
///
/// Invariant: a key's `session` is empty or names an existing session, and
/// ``keysHeld(bySession:)`` lists exactly the keys whose `session` is that id.
///
/// ## Transactions
/// A transaction of 1 to ``KVTransaction/maxOperations`` operations applies all of them, in
/// order, at the entry's index, or none of them. Each operation sees the effects of the earlier
/// ones. `lock` and `unlock` behave like acquire and release; `get` of a missing key fails,
/// as does a failed check, a failed `cas`/`deleteCAS` or a failed `lock`/`unlock`. The outcome
/// names the first failing operation (0-based) and why, or lists the entries the `get`,
/// `getTree`, `set`, `cas`, `lock` and `unlock` operations read or wrote. `checkSession` with an
/// empty session passes when nobody holds the key (also when it is absent); `checkIndex` fails
/// on an absent key.
///
/// ## Validation
/// Keys must be 1 to ``maxKeySize`` UTF-8 bytes and values at most ``maxValueSize`` bytes; the
/// server refuses bad ones before proposing (``validateKey(_:value:)`` and the other `validate`
/// helpers) and `apply` rejects them again, unchanged, so that a bad entry can never corrupt
/// state.
///
/// ## Watches
/// Every key change is recorded as a ``StateChange/key(_:index:)`` for watchers, in apply
/// order, until ``takeChanges()``; a command touching several keys records one change per key,
/// all at its index. The record is not state: it is neither in the snapshot nor compared by `==`.
public struct KVStore: StateMachineModule, Sendable {
    /// The module's tag in log entries and snapshots.
    public static let moduleTag: UInt8 = 1
    /// The largest value accepted: 512 KiB.
    public static let maxValueSize = 512 * 1024
    /// The longest key (or prefix) accepted, in UTF-8 bytes.
    public static let maxKeySize = 1024
    /// The longest session id accepted, in UTF-8 bytes (the leader uses 36-character UUIDs).
    public static let maxSessionIDSize = 128
    /// The longest session name, node name or check id accepted, in UTF-8 bytes.
    public static let maxSessionNameSize = 1024
    /// The most health checks one session may name.
    public static let maxSessionChecks = 64
    /// The longest lock-delay accepted: 60 s, as in Consul.
    public static let maxLockDelayMilliseconds: UInt64 = 60_000

    /// ``moduleTag``: the first byte of every KV log entry and the KV snapshot section's name.
    public var tag: UInt8 { Self.moduleTag }

    /// The entries by exact key.
    var entries: [ExactString: KVEntry] = [:]
    /// The same keys, in byte order.
    var order = SortedKeys()
    /// The sessions and the keys they hold.
    var sessionTable = SessionTable()
    /// When each key's lock-delay ends (leader time, milliseconds).
    var lockDelays: [ExactString: UInt64] = [:]
    /// The smallest value of `lockDelays` (`.max` when there is none): derived, to skip sweeps.
    var earliestLockDelayEnd: UInt64 = .max
    /// Changes recorded for watchers since the last ``takeChanges()``.
    var changes: [StateChange] = []
    /// While a transaction runs: the original entry of every key it touched, to undo or report.
    var journal: Journal?

    /// Creates an empty store.
    public init() {}

    // MARK: Queries

    /// The entry for `key`, if present.
    public func get(_ key: String) -> KVEntry? { entries[ExactString(key)] }

    /// The number of keys.
    public var count: Int { entries.count }

    /// Every entry whose key starts with `prefix` (the empty prefix: all), in key byte order.
    public func list(prefix: String) -> [KVEntry] {
        order.keys(withPrefix: prefix).map { entries[ExactString($0)]! }
    }

    /// The keys that start with `prefix`, in byte order. With a non-empty `separator`, each key
    /// is cut just after the first separator that follows the prefix, and keys cut to the same
    /// string are listed once (Consul's `?keys&separator=`): under prefix `a` with separator `/`,
    /// keys `a/b/c`, `a/d` and `ab` list as `a/` and `ab`.
    public func keys(prefix: String, separator: String = "") -> [String] {
        var result: [String] = []
        var position = order.lowerBound(prefix)
        let prefixLength = prefix.utf8.count
        let separatorBytes = Array(separator.utf8)
        while let key = order.key(at: position), ByteOrder.hasPrefix(key, prefix) {
            if let cut = Self.cut(key, after: prefixLength, at: separatorBytes) {
                result.append(cut)
                position = order.end(ofPrefix: cut)
            } else {
                result.append(key)
                position = order.position(after: position)
            }
        }
        return result
    }

    /// The session with `id`, if it exists.
    public func session(_ id: String) -> Session? { sessionTable.session(id) }

    /// Every session, ordered by id bytes.
    public func sessions() -> [Session] { sessionTable.all() }

    /// The number of sessions.
    public var sessionCount: Int { sessionTable.count }

    /// The keys session `id` holds, in byte order (none for an unknown session).
    public func keysHeld(bySession id: String) -> [String] { sessionTable.keysHeld(by: id) }

    /// When the lock-delay on `key` ends (leader time, milliseconds since the Unix epoch), if
    /// one is recorded. It blocks acquisitions whose `now` is before it; it is forgotten once a
    /// command's `now` reaches it.
    public func lockDelay(for key: String) -> UInt64? { lockDelays[ExactString(key)] }

    /// Returns and forgets the key changes recorded since the last call, in apply order.
    public mutating func takeChanges() -> [StateChange] {
        defer { changes = [] }
        return changes
    }

    // MARK: Apply

    /// Applies the bytes of a committed entry after the module tag and returns the encoded
    /// ``KVApplyResult`` (bytes that do not decode as a ``KVCommand`` are rejected, unchanged).
    public mutating func apply(_ command: ArraySlice<UInt8>, at index: LogIndex) -> [UInt8] {
        guard let decoded = KVCommand(decoding: command) else {
            return KVApplyResult.rejected(reason: "the KV command does not decode (\(command.count) bytes)").encoded()
        }
        return apply(decoded, at: index).encoded()
    }

    /// Applies a decoded command committed at Raft index `index`.
    public mutating func apply(_ command: KVCommand, at index: LogIndex) -> KVApplyResult {
        switch command {
        case .put(let key, let value, let flags, let cas):
            if let problem = Self.validate(key: key, value: value) { return .rejected(reason: problem) }
            if let cas, casRefusal(key: key, index: cas) != nil { return .casFailed }
            _ = set(key: key, value: value, flags: flags, at: index)
            return .applied
        case .delete(let key, let cas):
            if let problem = Self.validate(key: key) { return .rejected(reason: problem) }
            if let cas, deleteCASRefusal(key: key, index: cas) != nil { return .casFailed }
            delete(key: key, at: index)
            return .applied
        case .deleteTree(let prefix):
            if let problem = Self.validate(prefix: prefix) { return .rejected(reason: problem) }
            deleteTree(prefix: prefix, at: index)
            return .applied
        case .acquire(let key, let value, let flags, let session, let now):
            if let problem = Self.validate(key: key, value: value) { return .rejected(reason: problem) }
            forgetLockDelays(endingBy: now)
            if acquireRefusal(key: key, session: session, now: now) != nil { return .notAcquired }
            _ = acquire(key: key, value: value, flags: flags, session: session, at: index)
            return .applied
        case .release(let key, let value, let flags, let session):
            if let problem = Self.validate(key: key, value: value) { return .rejected(reason: problem) }
            if releaseRefusal(key: key, session: session) != nil { return .notReleased }
            _ = release(key: key, value: value, flags: flags, at: index)
            return .applied
        case .transaction(let operations, let now):
            return applyTransaction(operations, now: now, at: index)
        case .sessionCreate(let session):
            if let problem = Self.validate(session: session) { return .rejected(reason: problem) }
            if sessionTable.contains(session.id) {
                return .rejected(reason: "a session with id \"\(session.id)\" already exists")
            }
            var created = session
            created.createIndex = index
            sessionTable.add(created)
            return .sessionCreated(id: session.id)
        case .sessionDestroy(let id, let now):
            forgetLockDelays(endingBy: now)
            return invalidateSession(id, now: now, at: index) ? .applied : .sessionNotFound
        }
    }

    // MARK: Primitives (shared by single commands and transactions)

    /// Replaces the entry of `key` (nil: removes it), keeping the order, the held sets and the
    /// transaction journal in step; one hash of the key. Records no change for watchers.
    mutating func write(_ entry: KVEntry?, at key: String) {
        let exact = ExactString(key)
        let old = if let entry { entries.updateValue(entry, forKey: exact) } else { entries.removeValue(forKey: exact) }
        if journal != nil, journal!.seen.insert(exact).inserted {
            journal!.originals.append((key, old))
        }
        let oldHolder = old?.session ?? "", newHolder = entry?.session ?? ""
        if !ByteOrder.same(oldHolder, newHolder) {
            if !oldHolder.isEmpty { sessionTable.unhold(key, by: oldHolder) }
            if !newHolder.isEmpty { sessionTable.hold(key, by: newHolder) }
        }
        switch (old, entry) {
        case (nil, .some): order.insert(key)
        case (.some, nil): order.remove(key)
        default: break
        }
    }

    /// Records `entry` (nil: deleted) as the change of `key` at `index`, unless a transaction is
    /// running (it records its changes when it commits).
    mutating func noteChange(of key: String, entry: KVEntry?, at index: LogIndex) {
        guard journal == nil else { return }
        changes.append(.key(KVChange(key: key, entry: entry), index: index))
    }

    /// Writes `key` unconditionally, keeping its create index, lock index and holder.
    mutating func set(key: String, value: [UInt8], flags: UInt64, at index: LogIndex) -> KVEntry {
        let existing = entries[ExactString(key)]
        let entry = KVEntry(key: key, value: value, flags: flags, createIndex: existing?.createIndex ?? index,
                            modifyIndex: index, lockIndex: existing?.lockIndex ?? 0, session: existing?.session ?? "")
        write(entry, at: key)
        noteChange(of: key, entry: entry, at: index)
        return entry
    }

    /// Removes `key` if present.
    mutating func delete(key: String, at index: LogIndex) {
        guard entries[ExactString(key)] != nil else { return }
        write(nil, at: key)
        noteChange(of: key, entry: nil, at: index)
    }

    /// Removes every key starting with `prefix`.
    mutating func deleteTree(prefix: String, at index: LogIndex) {
        for key in order.keys(withPrefix: prefix) {
            write(nil, at: key)
            noteChange(of: key, entry: nil, at: index)
        }
    }

    /// Locks `key` for `session` (which the caller checked may acquire it) and writes it.
    mutating func acquire(key: String, value: [UInt8], flags: UInt64, session: String, at index: LogIndex) -> KVEntry {
        let existing = entries[ExactString(key)]
        let alreadyHeld = existing.map { ByteOrder.same($0.session, session) } ?? false
        let entry = KVEntry(key: key, value: value, flags: flags, createIndex: existing?.createIndex ?? index,
                            modifyIndex: index, lockIndex: (existing?.lockIndex ?? 0) + (alreadyHeld ? 0 : 1),
                            session: session)
        write(entry, at: key)
        noteChange(of: key, entry: entry, at: index)
        return entry
    }

    /// Unlocks `key` (which the caller checked is held by the releasing session) and writes it.
    mutating func release(key: String, value: [UInt8], flags: UInt64, at index: LogIndex) -> KVEntry {
        let existing = entries[ExactString(key)]!
        let entry = KVEntry(key: key, value: value, flags: flags, createIndex: existing.createIndex,
                            modifyIndex: index, lockIndex: existing.lockIndex, session: "")
        write(entry, at: key)
        noteChange(of: key, entry: entry, at: index)
        return entry
    }

    /// Why a check-and-set write of `key` at `index` cannot apply, or nil when it can.
    func casRefusal(key: String, index: UInt64) -> String? {
        let existing = entries[ExactString(key)]
        if index == 0 {
            return existing == nil ? nil : "the key \"\(key)\" exists (modify index \(existing!.modifyIndex))"
        }
        guard let existing else { return "the key \"\(key)\" does not exist (expected modify index \(index))" }
        return existing.modifyIndex == index
            ? nil : "the key \"\(key)\" has modify index \(existing.modifyIndex), not \(index)"
    }

    /// Why a check-and-set delete of `key` at `index` cannot apply, or nil when it can (an absent
    /// key can always be deleted).
    func deleteCASRefusal(key: String, index: UInt64) -> String? {
        guard let existing = entries[ExactString(key)], existing.modifyIndex != index else { return nil }
        return "the key \"\(key)\" has modify index \(existing.modifyIndex), not \(index)"
    }

    /// Why `session` cannot acquire `key` at leader time `now`, or nil when it can.
    func acquireRefusal(key: String, session: String, now: UInt64) -> String? {
        guard sessionTable.contains(session) else { return "the session \"\(session)\" does not exist" }
        if let holder = entries[ExactString(key)]?.session, !holder.isEmpty, !ByteOrder.same(holder, session) {
            return "the key \"\(key)\" is locked by another session"
        }
        if let until = lockDelays[ExactString(key)], now < until {
            return "the key \"\(key)\" is within a lock-delay until \(until) (now \(now))"
        }
        return nil
    }

    /// Why `session` cannot release `key`, or nil when it can.
    func releaseRefusal(key: String, session: String) -> String? {
        guard let existing = entries[ExactString(key)] else { return "the key \"\(key)\" does not exist" }
        return !session.isEmpty && ByteOrder.same(existing.session, session)
            ? nil : "the key \"\(key)\" is not locked by the session \"\(session)\""
    }

    /// Invalidates session `id` at leader time `now`; false when there is no such session.
    mutating func invalidateSession(_ id: String, now: UInt64, at index: LogIndex) -> Bool {
        guard let (session, keys) = sessionTable.remove(id) else { return false }
        for key in keys {
            let after: KVEntry?
            switch session.behavior {
            case .release:
                var released = entries[ExactString(key)]!
                released.session = ""
                released.modifyIndex = index
                after = released
            case .delete:
                after = nil
            }
            write(after, at: key)
            noteChange(of: key, entry: after, at: index)
            if session.lockDelayMilliseconds > 0 {
                let (sum, overflow) = now.addingReportingOverflow(session.lockDelayMilliseconds)
                let until = max(overflow ? .max : sum, lockDelays[ExactString(key)] ?? 0)
                lockDelays[ExactString(key)] = until
                earliestLockDelayEnd = min(earliestLockDelayEnd, until)
            }
        }
        return true
    }

    /// Forgets the lock-delays that ended at or before `now`.
    mutating func forgetLockDelays(endingBy now: UInt64) {
        guard now >= earliestLockDelayEnd else { return }
        lockDelays = lockDelays.filter { $0.value > now }
        earliestLockDelayEnd = lockDelays.values.min() ?? .max
    }

    /// The key cut just after the first `separator` found at or after byte `start`, or nil when
    /// the separator is empty or not found.
    static func cut(_ key: String, after start: Int, at separator: [UInt8]) -> String? {
        guard !separator.isEmpty else { return nil }
        let bytes = Array(key.utf8)
        guard bytes.count >= start + separator.count else { return nil }
        var i = start
        while i + separator.count <= bytes.count {
            if bytes[i..<i + separator.count].elementsEqual(separator) {
                return String(decoding: bytes[..<(i + separator.count)], as: UTF8.self)
            }
            i += 1
        }
        return nil
    }
}

extension KVStore {
    /// The original entries of the keys a running transaction touched, in first-touch order.
    struct Journal: Sendable {
        var originals: [(key: String, entry: KVEntry?)] = []
        var seen: Set<ExactString> = []
    }
}

extension KVStore: Equatable {
    /// Whether two stores hold the same keys, sessions and lock-delays (recorded watch changes
    /// are not state and are not compared).
    public static func == (lhs: KVStore, rhs: KVStore) -> Bool {
        lhs.entries == rhs.entries && lhs.sessionTable == rhs.sessionTable && lhs.lockDelays == rhs.lockDelays
    }
}
