import CairnWire

/// The server side of watches: which client streams follow what, the recent history that lets a
/// watch resume from an index, and the fan-out of every applied change to the streams it
/// concerns.
///
/// ## Threading
/// A hub belongs to the consensus thread: every method is called there, between applies. It
/// starts no task and no timer; an idle watch is a dictionary entry. Events leave through each
/// connection's ``WatchSink``, which must not block.
///
/// ## What a watch sees
/// Every event carries a Raft index, and the indexes of one stream strictly increase.
/// - A key or prefix watch from index 0 first gets the current entries (`snapshot: true`) at the
///   applied index, then one event per later index that changed a matching key, holding all of
///   that index's matching changes.
/// - A key or prefix watch resuming from N > 0 gets exactly the changes after N, one event per
///   index, then the live ones — or, when N is below ``floor`` (history no longer held), its
///   stream ends with ``ClientErrorCode/historyCompacted`` and the client re-reads from 0.
/// - Service and service-list watches are level-based: each event is the full current state
///   (filtered as the watch asked), sent when it changed after the watch's last index. Resuming
///   from N sends the current state at once if it changed after N (or if N predates what this hub
///   knows), otherwise waits. They never need ``ClientErrorCode/historyCompacted`` on resume.
///
/// ## Contract with the caller
/// Every change applied after the floor given at ``init(floor:historyLimit:historyByteLimit:)`` (or
/// ``reset(floor:)``) goes through ``publish(_:state:)``, in index order, with all the changes of
/// one index in the same call; the ``WatchStateSource`` handed to any method shows the state
/// after everything published so far. When the state is replaced wholesale (a snapshot installed,
/// a restore applied), call ``reset(floor:)``.
public final class WatchHub {
    private var history: WatchHistory
    private var registry = WatchRegistry()
    /// The index after which this hub has seen every change (services and the service list
    /// included): the floor it was created or last reset with. Unlike the key history's floor it
    /// never moves on eviction, since only one index per service is remembered.
    private var stateFloor: UInt64
    /// Per service, the index of its last change after `stateFloor`.
    private var serviceLastChange: [String: UInt64] = [:]
    /// The index of the last change of the service list after `stateFloor` (0: none).
    private var serviceListLastChange: UInt64 = 0

    /// Creates a hub for a state that has applied everything up to `floor` (the server's
    /// snapshot index at start). Key history is kept for at most `historyLimit` changes and
    /// `historyByteLimit` bytes (keys and values, plus 64 per change, since an overwritten value
    /// stays alive as long as its change is held); older ones are dropped, whole indexes at a
    /// time, raising ``floor``.
    public init(floor: UInt64, historyLimit: Int = 100_000, historyByteLimit: Int = 64 << 20) {
        history = WatchHistory(floor: floor, limit: historyLimit, byteLimit: historyByteLimit)
        stateFloor = floor
    }

    /// Key watches may resume from any index at or above this one; below it the changes are no
    /// longer held. It only grows, except through ``reset(floor:)``.
    public var floor: UInt64 { history.floor }

    /// The number of key changes held in the history (at most the history limit).
    public var historyChangeCount: Int { history.changeCount }

    /// The number of registered watches.
    public var watcherCount: Int { registry.watchers.count }

    /// Starts the watch of `target` on stream `streamID` of `sink`'s connection, resuming after
    /// `fromIndex` (0: start with the current state). What it first delivers, synchronously, is
    /// described in the type's documentation. A watch already registered with the same sink and
    /// stream id is replaced.
    public func watch(_ target: WatchTarget, fromIndex: UInt64, streamID: UInt64, sink: any WatchSink,
                      state: some WatchStateSource) {
        let id = WatcherID(sink: ObjectIdentifier(sink), streamID: streamID)
        registry.remove(id)
        var events: [(streamID: UInt64, event: SharedWatchEvent)] = []
        var lastIndex = fromIndex
        func send(_ payload: WatchEvent.Payload, at index: UInt64) {
            events.append((streamID, SharedWatchEvent(WatchEvent(index: index, payload: payload))))
            lastIndex = index
        }

        switch target {
        case .key, .keyPrefix:
            if fromIndex == 0 {
                send(.keys(Self.currentKeys(target, state: state), snapshot: true), at: state.appliedIndex)
            } else if fromIndex < history.floor {
                sink.end(streamID: streamID, code: .historyCompacted, message: compactedMessage(fromIndex))
                return
            } else {
                replay(target, after: fromIndex, send)
            }
        case .service(let name, let tag, let passingOnly):
            if let index = levelIndex(fromIndex: fromIndex, lastChange: serviceLastChange[name] ?? 0, state: state) {
                send(.service(Self.filter(state.serviceHealth(name: name), tag: tag, passingOnly: passingOnly)), at: index)
            }
        case .services:
            if let index = levelIndex(fromIndex: fromIndex, lastChange: serviceListLastChange, state: state) {
                send(.services(state.serviceSummaries()), at: index)
            }
        }

        registry.insert(Watcher(target: target, sink: sink, lastIndex: lastIndex), as: id)
        if !events.isEmpty {
            sink.deliver(events)
        }
    }

    /// The entries a key or prefix watch starts from (its `snapshot: true` event).
    private static func currentKeys(_ target: WatchTarget, state: some WatchStateSource) -> [KVChange] {
        switch target {
        case .key(let key): state.kvEntry(key).map { [KVChange(key: $0.key, entry: $0)] } ?? []
        case .keyPrefix(let prefix): state.kvEntries(prefix: prefix).map { KVChange(key: $0.key, entry: $0) }
        case .service, .services: []
        }
    }

    /// Stops the watch on `streamID` of `sink` (the client cancelled it, or the connection's
    /// writer cut it) and tells the sink with ``WatchSink/cancelled(streamID:)`` — also when the
    /// watch was no longer registered.
    public func cancel(streamID: UInt64, sink: any WatchSink) {
        registry.remove(WatcherID(sink: ObjectIdentifier(sink), streamID: streamID))
        sink.cancelled(streamID: streamID)
    }

    /// Stops every watch of `sink`, without telling it (its connection has closed).
    public func removeAll(sink: any WatchSink) {
        registry.removeAll(sink: ObjectIdentifier(sink))
    }

    /// Hands the hub the changes of newly applied entries, in index order, every change of an
    /// index in this one call: records the key changes in the history and delivers the events
    /// they cause, with exactly one ``WatchSink/deliver(_:)`` call per sink that has any.
    ///
    /// A key watch gets one event per index holding all of that index's changes it matches; a
    /// service (or service-list) watch gets at most one event per call, the state after the
    /// call's changes, at the index of the service's (or list's) last change in the call.
    ///
    /// Watches that would get equal events share one ``SharedWatchEvent`` (built, and later
    /// encoded, once): per index, all the watches of one key or one prefix; per call, all the
    /// watches of one service with the same tag and passing filter, and all service-list watches.
    ///
    /// `state` is read only when a service or service-list watch needs it (at most once): most
    /// writes change keys that no such watch follows, and building the server's view of the
    /// state is not free.
    public func publish<State: WatchStateSource>(_ changes: [StateChange], state makeState: @autoclosure () -> State) {
        var made: State?
        func state() -> State {
            if let made { return made }
            let fresh = makeState()
            made = fresh
            return fresh
        }
        var outbox = Outbox()
        var serviceChanges: [String: UInt64] = [:]
        var serviceListChange: UInt64 = 0
        var group: [KVChange] = []
        var groupIndex: UInt64 = 0

        for change in changes {
            switch change {
            case .key(let keyChange, let index):
                if index != groupIndex, !group.isEmpty {
                    publishKeys(group, at: groupIndex, into: &outbox)
                    group.removeAll(keepingCapacity: true)
                }
                groupIndex = index
                group.append(keyChange)
            case .service(let name, let index):
                serviceChanges[name] = max(serviceChanges[name] ?? 0, index)
            case .serviceList(let index):
                serviceListChange = max(serviceListChange, index)
            }
        }
        if !group.isEmpty {
            publishKeys(group, at: groupIndex, into: &outbox)
        }

        for (name, index) in serviceChanges {
            serviceLastChange[name] = index
            let watchers = registry.serviceWatchers(named: name)
            guard !watchers.isEmpty else { continue }
            let health = state().serviceHealth(name: name)
            var shared: [ServiceFilter: SharedWatchEvent] = [:]
            for id in watchers {
                guard let watcher = registry.advance(id, to: index),
                      case .service(_, let tag, let passingOnly) = watcher.target else { continue }
                let filter = ServiceFilter(tag: tag, passingOnly: passingOnly)
                let event: SharedWatchEvent
                if let made = shared[filter] {
                    event = made
                } else {
                    event = SharedWatchEvent(WatchEvent(index: index, payload: .service(Self.filter(health, tag: tag, passingOnly: passingOnly))))
                    shared[filter] = event
                }
                outbox.add(event, for: id, sink: watcher.sink)
            }
        }

        if serviceListChange > 0 {
            serviceListLastChange = serviceListChange
            let watchers = registry.serviceListWatchers
            if !watchers.isEmpty {
                let event = SharedWatchEvent(WatchEvent(index: serviceListChange, payload: .services(state().serviceSummaries())))
                for id in watchers {
                    guard let watcher = registry.advance(id, to: serviceListChange) else { continue }
                    outbox.add(event, for: id, sink: watcher.sink)
                }
            }
        }

        outbox.deliver()
    }

    /// The state was replaced wholesale and now stands at `floor` (a snapshot from the leader was
    /// installed, or a restore applied): ends every watch with
    /// ``ClientErrorCode/historyCompacted`` and forgets the history, which starts again after
    /// `floor`.
    public func reset(floor: UInt64) {
        let ended = registry.removeEverything()
        history.reset(floor: floor)
        stateFloor = floor
        serviceLastChange = [:]
        serviceListLastChange = 0
        let message = "this server's state was replaced at index \(floor); re-read"
        for (id, watcher) in ended {
            watcher.sink.end(streamID: id.streamID, code: .historyCompacted, message: message)
        }
    }

    /// Ends every watch with `code` and `message` (for instance ``ClientErrorCode/shuttingDown``)
    /// and unregisters them all. The history is kept.
    public func endAll(code: ClientErrorCode, message: String) {
        for (id, watcher) in registry.removeEverything() {
            watcher.sink.end(streamID: id.streamID, code: code, message: message)
        }
    }

    // MARK: Internals

    /// Records one index's key changes and queues one event per watch they concern: one shared
    /// event per group of watches (a key, a prefix), whatever the number of watches in it.
    private func publishKeys(_ changes: [KVChange], at index: UInt64, into outbox: inout Outbox) {
        history.record(index: index, changes: changes)
        guard registry.hasKeyWatchers else { return }
        var slots: [KeyWatchGroup: Int] = [:]
        var matched: [(watchers: Set<WatcherID>, changes: [KVChange])] = []
        for change in changes {
            registry.forEachGroup(ofKey: change.key) { group, watchers in
                if let slot = slots[group] {
                    matched[slot].changes.append(change)
                } else {
                    slots[group] = matched.count
                    matched.append((watchers, [change]))
                }
            }
        }
        for (watchers, changes) in matched {
            let event = SharedWatchEvent(WatchEvent(index: index, payload: .keys(changes, snapshot: false)))
            for id in watchers {
                guard let watcher = registry.advance(id, to: index) else { continue }
                outbox.add(event, for: id, sink: watcher.sink)
            }
        }
    }

    /// Sends `target`'s matching changes after `index` from the history, one event per index.
    private func replay(_ target: WatchTarget, after index: UInt64, _ send: (WatchEvent.Payload, UInt64) -> Void) {
        history.forEachBatch(after: index) { batch in
            let changes = batch.changes.filter { target.matches(key: $0.key) }
            if !changes.isEmpty {
                send(.keys(changes, snapshot: false), batch.index)
            }
        }
    }

    /// The index at which a level-based watch resuming from `fromIndex` must be shown the current
    /// state now, or nil when it has seen it already.
    private func levelIndex(fromIndex: UInt64, lastChange: UInt64, state: some WatchStateSource) -> UInt64? {
        if fromIndex == 0 || fromIndex < stateFloor { return state.appliedIndex }
        return lastChange > fromIndex ? lastChange : nil
    }

    private func compactedMessage(_ fromIndex: UInt64) -> String {
        "resume index \(fromIndex) is older than this server's history (starts after \(history.floor)); re-read"
    }

    /// The instances a service watch shows: those tagged `tag` (any when empty), and only those
    /// whose checks all pass when `passingOnly`.
    static func filter(_ health: [ServiceHealth], tag: String, passingOnly: Bool) -> [ServiceHealth] {
        if tag.isEmpty && !passingOnly { return health }
        return health.filter { entry in
            (tag.isEmpty || entry.service.tags.contains(tag)) && (!passingOnly || entry.aggregateStatus == .passing)
        }
    }
}

@available(*, unavailable)
extension WatchHub: Sendable {}

/// What a service watch filters on: the watches of one service with the same filter get the
/// same event.
private struct ServiceFilter: Hashable {
    var tag: String
    var passingOnly: Bool
}

/// The events one publish produces, grouped per sink so that each sink gets one call.
private struct Outbox {
    private var slots: [ObjectIdentifier: Int] = [:]
    private var batches: [(sink: any WatchSink, events: [(streamID: UInt64, event: SharedWatchEvent)])] = []

    /// Queues `event` for the watch `id` of `sink`.
    mutating func add(_ event: SharedWatchEvent, for id: WatcherID, sink: any WatchSink) {
        if let slot = slots[id.sink] {
            batches[slot].events.append((id.streamID, event))
        } else {
            slots[id.sink] = batches.count
            batches.append((sink, [(id.streamID, event)]))
        }
    }

    /// Hands every sink its events, in the order they were queued.
    func deliver() {
        for batch in batches {
            batch.sink.deliver(batch.events)
        }
    }
}
