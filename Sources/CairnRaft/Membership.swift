/// The cluster configuration: who votes and who only replicates.
///
/// Voters elect leaders and count towards the commit quorum. Learners receive the log but never
/// vote and never count for a quorum; a learner is promoted to voter once it has caught up.
/// A node is never both. Cairn changes membership one node at a time (add a learner, promote a
/// learner, remove a node), so every two consecutive configurations have overlapping majorities.
public struct Membership: Sendable, Hashable {
    /// The voting members.
    public var voters: Set<NodeID>
    /// The non-voting members.
    public var learners: Set<NodeID>

    /// Creates a configuration.
    public init(voters: Set<NodeID> = [], learners: Set<NodeID> = []) {
        self.voters = voters
        self.learners = learners.subtracting(voters)
    }

    /// Every member, voting or not.
    public var members: Set<NodeID> { voters.union(learners) }

    /// Whether `id` is a member in any role.
    public func contains(_ id: NodeID) -> Bool { voters.contains(id) || learners.contains(id) }

    /// The number of voters whose agreement forms a majority.
    public var quorum: Int { voters.count / 2 + 1 }

    /// A single-step change to a configuration.
    public enum Change: Sendable, Hashable {
        /// Add a node as a non-voting learner.
        case addLearner(NodeID)
        /// Make a caught-up learner a voter.
        case promote(NodeID)
        /// Remove a node, voter or learner (the leader itself included).
        case remove(NodeID)
    }

    /// The configuration after `change`, or nil when the change does not apply to this one
    /// (adding a present node, promoting a non-learner, removing an absent node, removing the
    /// last voter).
    public func applying(_ change: Change) -> Membership? {
        var next = self
        switch change {
        case .addLearner(let id):
            guard id != .none, !contains(id) else { return nil }
            next.learners.insert(id)
        case .promote(let id):
            guard learners.contains(id) else { return nil }
            next.learners.remove(id)
            next.voters.insert(id)
        case .remove(let id):
            guard contains(id) else { return nil }
            next.voters.remove(id)
            next.learners.remove(id)
            guard !next.voters.isEmpty else { return nil }
        }
        return next
    }
}

extension Membership {
    /// The binary form stored in a ``Entry/Kind/membership`` entry and in snapshot metadata:
    /// `u32 voterCount, u64 voter..., u32 learnerCount, u64 learner...`, little-endian, ids ascending.
    public func encoded() -> [UInt8] {
        var out: [UInt8] = []
        out.reserveCapacity(8 + 8 * (voters.count + learners.count))
        for group in [voters, learners] {
            let count = UInt32(group.count)
            withUnsafeBytes(of: count.littleEndian) { out.append(contentsOf: $0) }
            for id in group.sorted() {
                withUnsafeBytes(of: id.littleEndian) { out.append(contentsOf: $0) }
            }
        }
        return out
    }

    /// Decodes the form written by ``encoded()``; nil when the bytes are not a valid configuration.
    public init?(decoding bytes: [UInt8]) {
        var cursor = 0
        func readU32() -> UInt32? {
            guard cursor + 4 <= bytes.count else { return nil }
            var v: UInt32 = 0
            for i in 0..<4 { v |= UInt32(bytes[cursor + i]) << (8 * UInt32(i)) }
            cursor += 4
            return v
        }
        func readU64() -> UInt64? {
            guard cursor + 8 <= bytes.count else { return nil }
            var v: UInt64 = 0
            for i in 0..<8 { v |= UInt64(bytes[cursor + i]) << (8 * UInt64(i)) }
            cursor += 8
            return v
        }
        var groups: [Set<NodeID>] = []
        for _ in 0..<2 {
            guard let count = readU32(), Int(count) <= (bytes.count - cursor) / 8 else { return nil }
            var group = Set<NodeID>()
            for _ in 0..<count {
                guard let id = readU64(), id != .none else { return nil }
                group.insert(id)
            }
            groups.append(group)
        }
        guard cursor == bytes.count, groups[0].isDisjoint(with: groups[1]) else { return nil }
        self.init(voters: groups[0], learners: groups[1])
    }
}
