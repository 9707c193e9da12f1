import CairnServer
import CairnWire
import Foundation

/// An in-memory replicated state for watch tests: KV entries and service health, with the
/// index of the last change. `commit` applies writes at the next index and returns the
/// `StateChange`s a module would record, ready for `WatchHub.publish`.
struct FakeWatchState: WatchStateSource {
    /// One write of a test scenario.
    enum Write {
        case put(String, String)
        case delete(String)
        case service(String, [ServiceHealth])
    }

    var appliedIndex: UInt64
    /// By the key's UTF-8 bytes, as the store keys them (two canonically equal strings with
    /// different bytes are different keys).
    var entries: [[UInt8]: KVEntry] = [:]
    var services: [String: [ServiceHealth]] = [:]

    init(appliedIndex: UInt64 = 0) {
        self.appliedIndex = appliedIndex
    }

    func kvEntry(_ key: String) -> KVEntry? { entries[Array(key.utf8)] }

    func kvEntries(prefix: String) -> [KVEntry] {
        entries.values.filter { $0.key.utf8.starts(with: prefix.utf8) }.sorted { $0.key.utf8.lexicographicallyPrecedes($1.key.utf8) }
    }

    func serviceHealth(name: String) -> [ServiceHealth] { services[name] ?? [] }

    func serviceSummaries() -> [ServiceSummary] {
        services.keys.sorted().compactMap { name in
            guard let instances = services[name], !instances.isEmpty else { return nil }
            return ServiceSummary(name: name, tags: Array(Set(instances.flatMap(\.service.tags))).sorted())
        }
    }

    /// Applies `writes` at the next index; returns the changes recorded for watchers.
    mutating func commit(_ writes: [Write]) -> [StateChange] {
        appliedIndex += 1
        let index = appliedIndex
        var changes: [StateChange] = []
        for write in writes {
            switch write {
            case .put(let key, let value):
                let entry = KVEntry(key: key, value: Array(value.utf8), createIndex: entries[Array(key.utf8)]?.createIndex ?? index,
                                    modifyIndex: index)
                entries[Array(key.utf8)] = entry
                changes.append(.key(KVChange(key: key, entry: entry), index: index))
            case .delete(let key):
                entries[Array(key.utf8)] = nil
                changes.append(.key(KVChange(key: key, entry: nil), index: index))
            case .service(let name, let instances):
                let listChanged = (services[name]?.isEmpty ?? true) != instances.isEmpty
                    || Set(services[name]?.flatMap(\.service.tags) ?? []) != Set(instances.flatMap(\.service.tags))
                services[name] = instances.isEmpty ? nil : instances
                changes.append(.service(name: name, index: index))
                if listChanged { changes.append(.serviceList(index: index)) }
            }
        }
        return changes
    }

    /// A service instance on node `node` with `tags` and one check of `status`.
    static func instance(_ name: String, id: String, tags: [String] = [], status: CheckStatus = .passing) -> ServiceHealth {
        let check = HealthCheck(id: "service:\(id)", name: "check", node: "node-1", serviceID: id, serviceName: name,
                                status: status, output: "", definition: CheckDefinition(kind: .ttl(ttlMilliseconds: 10_000)))
        return ServiceHealth(node: CatalogNode(name: "node-1", address: "10.0.0.1"),
                             service: ServiceInstance(id: id, name: name, tags: tags, port: 8080, node: "node-1"),
                             checks: [check])
    }
}

/// A `WatchSink` that records every call, for tests (thread-safe through a lock).
final class RecordingSink: WatchSink, @unchecked Sendable {
    /// One call the hub made.
    enum Call: Equatable {
        case deliver([Delivery])
        case end(streamID: UInt64, code: ClientErrorCode, message: String)
        case cancelled(streamID: UInt64)
    }

    /// One (stream, event) pair of a delivery.
    struct Delivery: Equatable {
        var streamID: UInt64
        var event: WatchEvent
    }

    /// One (stream, shared event object) pair of a delivery, to check which streams share one.
    struct SharedDelivery {
        var streamID: UInt64
        var event: SharedWatchEvent
    }

    private let lock = NSLock()
    private var recorded: [Call] = []
    private var sharedRecorded: [SharedDelivery] = []

    var calls: [Call] { lock.withLock { recorded } }

    /// Every (stream, shared event) delivered, in order.
    var sharedDeliveries: [SharedDelivery] { lock.withLock { sharedRecorded } }

    func deliver(_ batch: [(streamID: UInt64, event: SharedWatchEvent)]) {
        lock.withLock {
            recorded.append(.deliver(batch.map { Delivery(streamID: $0.streamID, event: $0.event.event) }))
            sharedRecorded += batch.map { SharedDelivery(streamID: $0.streamID, event: $0.event) }
        }
    }

    func end(streamID: UInt64, code: ClientErrorCode, message: String) {
        lock.withLock { recorded.append(.end(streamID: streamID, code: code, message: message)) }
    }

    func cancelled(streamID: UInt64) {
        lock.withLock { recorded.append(.cancelled(streamID: streamID)) }
    }

    /// The number of `deliver` calls so far.
    var deliverCount: Int {
        calls.count { if case .deliver = $0 { return true } else { return false } }
    }

    /// Every event delivered on `streamID`, in order.
    func events(_ streamID: UInt64) -> [WatchEvent] {
        calls.flatMap { call -> [WatchEvent] in
            guard case .deliver(let batch) = call else { return [] }
            return batch.filter { $0.streamID == streamID }.map(\.event)
        }
    }

    /// Every stream id that got at least one event.
    var streamsWithEvents: Set<UInt64> {
        Set(calls.flatMap { call -> [UInt64] in
            guard case .deliver(let batch) = call else { return [] }
            return batch.map(\.streamID)
        })
    }

    /// The ends sent for `streamID`.
    func ends(_ streamID: UInt64) -> [(code: ClientErrorCode, message: String)] {
        calls.compactMap { call in
            guard case .end(streamID, let code, let message) = call else { return nil }
            return (code, message)
        }
    }

    /// Forgets every recorded call.
    func clear() {
        lock.withLock {
            recorded.removeAll()
            sharedRecorded.removeAll()
        }
    }
}

extension WatchEvent {
    /// The key changes of a `.keys` event (empty for other payloads).
    var keyChanges: [KVChange] {
        if case .keys(let changes, _) = payload { return changes }
        return []
    }

    /// Whether this is a `.keys` snapshot event.
    var isSnapshot: Bool {
        if case .keys(_, snapshot: true) = payload { return true }
        return false
    }
}
