import CairnRaft

/// Holds a leader's commit notices (``Ready/commitNotices``) back for a moment so that most of
/// them never travel: any append that goes to the same follower meanwhile carries the commit
/// index too, and makes the held notice redundant.
///
/// Under a steady stream of writes every commit then rides on the next write's append, which
/// saves each follower a message, a log write and an answer per write, and the leader the
/// matching reads. When writes stop, the shell sends what is left once it has been held for a
/// short delay, so an idle follower still learns the commit index soon after that delay (when
/// the shell next looks) rather than at the next heartbeat. Each notice is timed from when it
/// was held (a newer one to the same follower restarts the clock): a notice held just before the
/// shell's timer fires waits for its own delay, and so for the next append, instead of going out
/// at once. Dropping or delaying a notice is safe: it promises nothing.
///
/// A value; the owner keeps the clock (any monotonic nanoseconds) and decides when to flush.
public struct CommitNoticeBuffer: Sendable {
    private var held: [NodeID: (notice: Message, heldAt: UInt64)] = [:]

    /// Creates an empty buffer.
    public init() {}

    /// Whether no notice is held.
    public var isEmpty: Bool { held.isEmpty }

    /// The number of followers with a held notice.
    public var count: Int { held.count }

    /// Holds `notices`, held at `now`; a newer notice to a follower replaces the held one.
    public mutating func hold(_ notices: [Message], at now: UInt64) {
        for notice in notices { held[notice.to] = (notice, now) }
    }

    /// Records messages that went out: an append to a follower (in the held notice's term or a
    /// later one) carries the leader's commit index, so the notice held for it is dropped.
    public mutating func sent(_ messages: [Message]) {
        guard !held.isEmpty else { return }
        for message in messages {
            guard case .append = message.body, let notice = held[message.to]?.notice, message.term >= notice.term else { continue }
            held.removeValue(forKey: message.to)
        }
    }

    /// Takes the notices held at or before `cutoff`, in follower order, to send now; younger
    /// ones stay.
    public mutating func takeHeld(atOrBefore cutoff: UInt64) -> [Message] {
        let due = held.compactMap { $0.value.heldAt <= cutoff ? $0.key : nil }.sorted()
        return due.map { held.removeValue(forKey: $0)!.notice }
    }

    /// Drops every held notice (the leader stepped down).
    public mutating func removeAll() { held.removeAll() }
}
