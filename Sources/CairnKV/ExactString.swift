/// A string that is compared, hashed and ordered by its UTF-8 bytes.
///
/// Swift's `String` treats canonically equivalent strings as equal ("é" as one scalar and as
/// "e" plus a combining accent), while Consul's keys are byte strings: two keys that differ in
/// any byte are two keys. The store indexes keys and session ids with this type so that it
/// never folds distinct keys together, and so that its order is plain byte order (the order
/// Consul lists keys in, and the order of the snapshot).
struct ExactString: Hashable, Comparable, Sendable {
    /// The string, exactly as it was given.
    let string: String

    init(_ string: String) { self.string = string }

    static func == (lhs: ExactString, rhs: ExactString) -> Bool {
        ByteOrder.same(lhs.string, rhs.string)
    }

    static func < (lhs: ExactString, rhs: ExactString) -> Bool {
        ByteOrder.precedes(lhs.string, rhs.string)
    }

    func hash(into hasher: inout Hasher) {
        let hashedContiguously: Void? = string.utf8.withContiguousStorageIfAvailable { buffer in
            hasher.combine(bytes: UnsafeRawBufferPointer(buffer))
        }
        if hashedContiguously == nil {
            for byte in string.utf8 { hasher.combine(byte) }
        }
        hasher.combine(string.utf8.count)
    }
}

/// Byte-wise comparisons of strings: the order and the prefix test the store uses for keys (and
/// the server's watches, which must match keys exactly as the store tells them apart).
public enum ByteOrder {
    /// Whether `lhs` sorts before `rhs` by UTF-8 bytes.
    public static func precedes(_ lhs: String, _ rhs: String) -> Bool {
        lhs.utf8.lexicographicallyPrecedes(rhs.utf8)
    }

    /// Whether two strings have the same UTF-8 bytes.
    public static func same(_ lhs: String, _ rhs: String) -> Bool {
        lhs.utf8.elementsEqual(rhs.utf8)
    }

    /// Whether `string`'s UTF-8 bytes begin with `prefix`'s.
    public static func hasPrefix(_ string: String, _ prefix: String) -> Bool {
        string.utf8.starts(with: prefix.utf8)
    }
}
