/// The store's keys in byte order, for prefix listing without scanning every key.
///
/// The keys live in chunks of at most ``maxChunk`` keys each; every chunk is sorted, non-empty,
/// and every key of a chunk sorts before every key of the next. Finding a position is a binary
/// search over the chunks' last keys and then within one chunk; inserting or removing moves at
/// most one chunk's keys plus, when a chunk splits or empties, the chunk list — so a change
/// costs O(log n + chunk size + n / chunk size) instead of O(n) for one flat sorted array.
struct SortedKeys: Sendable {
    /// The most keys a chunk holds before it splits in two.
    static let maxChunk = 512

    /// A place in the order: chunk number and offset within it. `chunk == chunks.count` is the end.
    struct Position {
        var chunk: Int
        var offset: Int
    }

    private var chunks: [[String]] = []

    init() {}

    /// Builds the order from keys already sorted by bytes and distinct.
    init(sortedDistinct keys: [String]) {
        var start = 0
        while start < keys.count {
            let end = min(start + Self.maxChunk / 2, keys.count)
            chunks.append(Array(keys[start..<end]))
            start = end
        }
    }

    /// The first position whose key does not satisfy `isBefore`, which must hold for a
    /// leading run of the order and fail for the rest (true, ..., true, false, ..., false).
    func partitionPoint(_ isBefore: (String) -> Bool) -> Position {
        var low = 0
        var high = chunks.count
        while low < high {
            let mid = (low + high) / 2
            if isBefore(chunks[mid][chunks[mid].count - 1]) { low = mid + 1 } else { high = mid }
        }
        guard low < chunks.count else { return Position(chunk: low, offset: 0) }
        let chunk = chunks[low]
        var first = 0
        var last = chunk.count
        while first < last {
            let mid = (first + last) / 2
            if isBefore(chunk[mid]) { first = mid + 1 } else { last = mid }
        }
        return Position(chunk: low, offset: first)
    }

    /// The position of the first key that is not below `key`.
    func lowerBound(_ key: String) -> Position {
        partitionPoint { ByteOrder.precedes($0, key) }
    }

    /// The position of the first key after every key that starts with `prefix`.
    func end(ofPrefix prefix: String) -> Position {
        partitionPoint { ByteOrder.precedes($0, prefix) || ByteOrder.hasPrefix($0, prefix) }
    }

    /// Calls `body` with each key from `position` on, in order, until it returns false.
    func forEach(from position: Position, _ body: (String) -> Bool) {
        var chunk = position.chunk
        var offset = position.offset
        while chunk < chunks.count {
            let keys = chunks[chunk]
            while offset < keys.count {
                if !body(keys[offset]) { return }
                offset += 1
            }
            chunk += 1
            offset = 0
        }
    }

    /// The position following `position`, which must not be the end.
    func position(after position: Position) -> Position {
        position.offset + 1 < chunks[position.chunk].count
            ? Position(chunk: position.chunk, offset: position.offset + 1)
            : Position(chunk: position.chunk + 1, offset: 0)
    }

    /// The key at `position`, or nil at the end.
    func key(at position: Position) -> String? {
        position.chunk < chunks.count ? chunks[position.chunk][position.offset] : nil
    }

    /// Every key starting with `prefix`, in order.
    func keys(withPrefix prefix: String) -> [String] {
        var result: [String] = []
        forEach(from: lowerBound(prefix)) { key in
            guard ByteOrder.hasPrefix(key, prefix) else { return false }
            result.append(key)
            return true
        }
        return result
    }

    /// Adds `key`, which must not be present.
    mutating func insert(_ key: String) {
        guard !chunks.isEmpty else {
            chunks.append([key])
            return
        }
        var position = lowerBound(key)
        if position.chunk == chunks.count {
            position = Position(chunk: chunks.count - 1, offset: chunks[chunks.count - 1].count)
        }
        chunks[position.chunk].insert(key, at: position.offset)
        if chunks[position.chunk].count > Self.maxChunk {
            let full = chunks[position.chunk]
            let half = full.count / 2
            chunks[position.chunk] = Array(full[..<half])
            chunks.insert(Array(full[half...]), at: position.chunk + 1)
        }
    }

    /// Removes `key`, which must be present.
    mutating func remove(_ key: String) {
        let position = lowerBound(key)
        guard let found = self.key(at: position), ByteOrder.same(found, key) else {
            assertionFailure("removing a key that is not in the order")
            return
        }
        chunks[position.chunk].remove(at: position.offset)
        if chunks[position.chunk].isEmpty { chunks.remove(at: position.chunk) }
    }
}
