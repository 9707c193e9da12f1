import CairnWire

extension WatchEvent {
    /// What the event says about `key`: `.some(entry)` with the key's entry after the event
    /// (`.some(nil)`: absent or deleted), or nil when the event does not concern the key. A
    /// snapshot that does not list the key says it is absent.
    func entry(forKey key: String) -> KVEntry?? {
        guard case .keys(let changes, let snapshot) = payload else { return nil }
        if let change = changes.last(where: { $0.key == key }) { return .some(change.entry) }
        return snapshot ? .some(nil) : nil
    }
}
