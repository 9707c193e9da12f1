/// One record of the replicated log.
///
/// Entries are immutable once committed. `index` and `term` together identify an entry across
/// the cluster: by the Log Matching property two logs holding an entry with the same index and
/// term are identical up to and including it.
public struct Entry: Sendable, Hashable {
    /// What an entry carries.
    public enum Kind: UInt8, Sendable, Hashable {
        /// An application command, handed to the replicated state machine.
        case normal = 0
        /// An empty entry a new leader appends to commit entries of earlier terms.
        case empty = 1
        /// A membership change: `data` is an encoded ``Membership`` (the whole new configuration).
        case membership = 2
    }

    /// The term of the leader that created the entry.
    public var term: Term
    /// The entry's position in the log.
    public var index: LogIndex
    /// What the entry carries.
    public var kind: Kind
    /// The payload: an application command, or an encoded ``Membership``.
    public var data: [UInt8]

    /// Creates an entry.
    public init(term: Term, index: LogIndex, kind: Kind = .normal, data: [UInt8] = []) {
        self.term = term
        self.index = index
        self.kind = kind
        self.data = data
    }

    /// Bytes this entry accounts for when batching messages (payload plus a fixed header).
    @inlinable
    public var byteSize: Int { data.count + 24 }
}
