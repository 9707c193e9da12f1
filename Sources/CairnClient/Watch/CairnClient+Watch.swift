import CairnWire

/// Watches: changes pushed by the servers, in order, resumable (Consul's blocking queries and
/// `consul watch`, as a stream).
extension CairnClient {
    /// Watches `target`: the changes after Raft index `fromIndex`, or, from 0, first the current
    /// state. Nothing is sent until the sequence is iterated; see ``CairnWatch`` for the
    /// ordering, resume and snapshot guarantees.
    ///
    /// To act on a read and then on every change after it, pass the read's ``ReadMeta/index``
    /// (from ``getWithMeta(_:consistency:)``, ``listWithMeta(prefix:consistency:)`` or
    /// ``serviceWithMeta(name:tag:passingOnly:consistency:)``) as `fromIndex`.
    public func watch(_ target: WatchTarget, fromIndex: UInt64 = 0, options: WatchOptions = WatchOptions()) -> CairnWatch {
        CairnWatch(client: self, target: target, fromIndex: fromIndex, options: options)
    }
}
