import CairnRaft

/// Holds a leader's commit notices (``Ready/commitNotices``) back for a moment so that most of
/// them never travel: any append that goes to the same follower meanwhile carries the commit
/// index too, and makes the held notice redundant.
///
/// Under a steady stream of writes every commit then rides on the next write's append, which
/// saves each follower a message, a log write and an answer per write, and the leader the
/// matching reads. When writes stop, the shell sends what is left after a short delay, so an
/// idle follower still learns the commit index within that delay rather than at the next
/// heartbeat. Dropping or delaying a notice is safe: it promises nothing.
///
/// A value; the owner decides when to flush.
public struct CommitNoticeBuffer: Sendable {
    private var held: [NodeID: Message] = [:]

    /// Creates an empty buffer.
    public init() {}

    /// Whether no notice is held.
    public var isEmpty: Bool { held.isEmpty }

    /// The number of followers with a held notice.
    public var count: Int { held.count }

    /// Holds `notices`; a newer notice to a follower replaces the held one.
    public mutating func hold(_ notices: [Message]) {
        for notice in notices { held[notice.to] = notice }
    }

    /// Records messages that went out: an append to a follower (in the held notice's term or a
    /// later one) carries the leader's commit index, so the notice held for it is dropped.
    public mutating func sent(_ messages: [Message]) {
        guard !held.isEmpty else { return }
        for message in messages {
            guard case .append = message.body, let notice = held[message.to], message.term >= notice.term else { continue }
            held.removeValue(forKey: message.to)
        }
    }

    /// Takes every held notice, in follower order, to send now.
    public mutating func takeAll() -> [Message] {
        let notices = held.keys.sorted().map { held[$0]! }
        held.removeAll()
        return notices
    }

    /// Drops every held notice (the leader stepped down).
    public mutating func removeAll() { held.removeAll() }
}
