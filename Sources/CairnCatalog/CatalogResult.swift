/// What applying a ``CatalogCommand`` did: the bytes a committed catalog entry returns to the
/// server that proposed it.
///
/// Encoded as `u8 1` (applied), `u8 2` (not found) or `u8 3` followed by the reason's UTF-8 bytes
/// (rejected).
public enum CatalogResult: Sendable, Hashable {
    /// The command applied (possibly changing nothing, like a check update to the same status).
    case applied
    /// The named service instance, check or node does not exist; nothing changed.
    case notFound
    /// The command was invalid (malformed bytes, an empty or over-long name, a bad check
    /// definition, a check id that another service on the node owns); nothing changed.
    case rejected(String)

    /// The result's bytes.
    public func encoded() -> [UInt8] {
        switch self {
        case .applied: return [1]
        case .notFound: return [2]
        case .rejected(let reason): return [3] + Array(reason.utf8)
        }
    }

    /// Decodes a result's bytes; nil when they are not a catalog result.
    public init?(decoding bytes: [UInt8]) {
        guard let first = bytes.first else { return nil }
        switch first {
        case 1 where bytes.count == 1: self = .applied
        case 2 where bytes.count == 1: self = .notFound
        case 3:
            guard let reason = String(validating: bytes.dropFirst(), as: UTF8.self) else { return nil }
            self = .rejected(reason)
        default: return nil
        }
    }
}
