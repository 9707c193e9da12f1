/// A service instance's identity: its node and its id. Ordered by node, then id.
struct InstanceKey: Hashable, Comparable, Sendable {
    var node: String
    var id: String

    static func < (lhs: InstanceKey, rhs: InstanceKey) -> Bool { (lhs.node, lhs.id) < (rhs.node, rhs.id) }
}
