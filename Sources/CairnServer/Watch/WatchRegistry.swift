import CairnKV
import CairnWire

/// Identifies one watch: a stream of one connection (sink).
struct WatcherID: Hashable {
    /// The sink (connection) the watch belongs to.
    var sink: ObjectIdentifier
    /// The watch's stream id on that connection.
    var streamID: UInt64
}

/// One registered watch.
struct Watcher {
    /// What it follows.
    var target: WatchTarget
    /// Where its events go.
    var sink: any WatchSink
    /// The index of the last event sent (or the index the watch resumed from): later events
    /// must have a greater index.
    var lastIndex: UInt64
}

/// The key watches that see the same changes: those of one exact key, or of one prefix.
enum KeyWatchGroup: Hashable {
    /// The watches of exactly this key (its UTF-8 bytes).
    case key([UInt8])
    /// The watches of this prefix (its UTF-8 bytes).
    case prefix([UInt8])
}

/// The registered watches of a ``WatchHub`` and the indexes that find, for a change, the
/// watches it concerns without looking at the others.
///
/// Keys and prefixes are compared as UTF-8 bytes, as the KV store compares keys: two strings
/// that Swift finds equal (canonically equivalent, like "é" and "e" plus a combining accent) but
/// whose bytes differ are different keys, and a watch of one never sees the other.
///
/// Invariants: every watch in ``watchers`` is in exactly one of the lookup tables — by exact key,
/// by prefix (both as UTF-8 bytes), by service name, or the service-list set — and in
/// `streamsBySink` under its sink; `prefixLengths` counts, per byte length, the prefix watches
/// of that length; tables hold no empty sets.
struct WatchRegistry {
    private(set) var watchers: [WatcherID: Watcher] = [:]
    private var byKey: [[UInt8]: Set<WatcherID>] = [:]
    private var byPrefix: [[UInt8]: Set<WatcherID>] = [:]
    private var prefixLengths: [Int: Int] = [:]
    private var byService: [String: Set<WatcherID>] = [:]
    private(set) var serviceListWatchers: Set<WatcherID> = []
    private var streamsBySink: [ObjectIdentifier: Set<UInt64>] = [:]

    /// Whether any watch follows a key or a prefix.
    var hasKeyWatchers: Bool { !byKey.isEmpty || !byPrefix.isEmpty }

    /// The watch `id`, if registered.
    subscript(id: WatcherID) -> Watcher? { watchers[id] }

    /// Registers `watcher` as `id`; an earlier watch with the same id is replaced.
    mutating func insert(_ watcher: Watcher, as id: WatcherID) {
        remove(id)
        watchers[id] = watcher
        streamsBySink[id.sink, default: []].insert(id.streamID)
        switch watcher.target {
        case .key(let key):
            byKey[Array(key.utf8), default: []].insert(id)
        case .keyPrefix(let prefix):
            let bytes = Array(prefix.utf8)
            byPrefix[bytes, default: []].insert(id)
            prefixLengths[bytes.count, default: 0] += 1
        case .service(let name, _, _):
            byService[name, default: []].insert(id)
        case .services:
            serviceListWatchers.insert(id)
        }
    }

    /// Unregisters `id`; returns the watch, or nil when it was not registered.
    @discardableResult
    mutating func remove(_ id: WatcherID) -> Watcher? {
        guard let watcher = watchers.removeValue(forKey: id) else { return nil }
        Self.remove(id.streamID, from: &streamsBySink, at: id.sink)
        switch watcher.target {
        case .key(let key):
            Self.remove(id, from: &byKey, at: Array(key.utf8))
        case .keyPrefix(let prefix):
            let bytes = Array(prefix.utf8)
            Self.remove(id, from: &byPrefix, at: bytes)
            if prefixLengths[bytes.count] == 1 {
                prefixLengths[bytes.count] = nil
            } else {
                prefixLengths[bytes.count, default: 1] -= 1
            }
        case .service(let name, _, _):
            Self.remove(id, from: &byService, at: name)
        case .services:
            serviceListWatchers.remove(id)
        }
        return watcher
    }

    /// Unregisters every watch of `sink`; returns how many there were.
    @discardableResult
    mutating func removeAll(sink: ObjectIdentifier) -> Int {
        guard let streams = streamsBySink[sink] else { return 0 }
        for streamID in streams {
            remove(WatcherID(sink: sink, streamID: streamID))
        }
        return streams.count
    }

    /// Unregisters every watch; returns them.
    mutating func removeEverything() -> [WatcherID: Watcher] {
        let all = watchers
        self = WatchRegistry()
        return all
    }

    /// Records that the watch `id` is sent an event at `index` and returns it, when it is
    /// registered and its last index is below `index`; otherwise changes nothing and returns nil.
    /// One lookup.
    mutating func advance(_ id: WatcherID, to index: UInt64) -> Watcher? {
        guard let position = watchers.index(forKey: id), watchers.values[position].lastIndex < index else { return nil }
        watchers.values[position].lastIndex = index
        return watchers.values[position]
    }

    /// Calls `body` once for every group of watches that a change of `key` concerns, with the
    /// group's watches: the watches of exactly that key, then those of each of its prefixes
    /// (compared as UTF-8 bytes). The watches of one group see exactly the same key changes.
    /// Costs one lookup per distinct watched prefix length, however many watches there are.
    func forEachGroup(ofKey key: String, _ body: (KeyWatchGroup, Set<WatcherID>) -> Void) {
        let bytes = Array(key.utf8)
        if let ids = byKey[bytes] { body(.key(bytes), ids) }
        guard !byPrefix.isEmpty else { return }
        for length in prefixLengths.keys where length <= bytes.count {
            let prefix = Array(bytes[..<length])
            if let ids = byPrefix[prefix] { body(.prefix(prefix), ids) }
        }
    }

    /// The watches of service `name`.
    func serviceWatchers(named name: String) -> Set<WatcherID> { byService[name] ?? [] }

    private static func remove<Key: Hashable, Member: Hashable>(_ member: Member, from table: inout [Key: Set<Member>], at key: Key) {
        table[key]?.remove(member)
        if table[key]?.isEmpty == true { table[key] = nil }
    }
}

extension WatchTarget {
    /// Whether a change of `key` concerns this target (never for the service targets).
    func matches(key: String) -> Bool {
        switch self {
        case .key(let watched): return ByteOrder.same(key, watched)
        case .keyPrefix(let prefix): return ByteOrder.hasPrefix(key, prefix)
        case .service, .services: return false
        }
    }
}
