import CairnServer
import CairnWire
import Testing

@Suite("WatchHub with ten thousand watchers")
struct WatchHubScaleTests {
    /// One registered watch of the scenario, and where it lives.
    struct Registered {
        var streamID: UInt64
        var sink: Int
        var target: WatchTarget
    }

    @Test func tenThousandWatchersAreRegisteredAndOnePublishReachesExactlyTheRightOnes() throws {
        var state = FakeWatchState()
        let hub = WatchHub(floor: 0)
        let sinks = (0..<10).map { _ in RecordingSink() }
        var registered: [Registered] = []
        for i in 0..<10_000 {
            let target: WatchTarget
            switch i % 10 {
            case 0..<4: target = .key("k/\(i % 2_000)")
            case 4..<7: target = i % 997 == 0 ? .keyPrefix("p/") : .keyPrefix("p/\(i % 1_000)/")
            case 7: target = i == 7 ? .keyPrefix("") : .service(name: "svc-\(i % 1_000)", tag: "", passingOnly: false)
            case 8: target = .service(name: "svc-\(i % 1_000)", tag: "", passingOnly: false)
            default: target = i % 3 == 0 ? .services : .service(name: "svc-\(i % 1_000)", tag: "", passingOnly: true)
            }
            registered.append(Registered(streamID: UInt64(i + 1), sink: i % sinks.count, target: target))
        }
        for watch in registered {
            hub.watch(watch.target, fromIndex: 0, streamID: watch.streamID, sink: sinks[watch.sink], state: state)
        }
        #expect(hub.watcherCount == 10_000)
        sinks.forEach { $0.clear() }

        let instance = FakeWatchState.instance("svc-8", id: "s1")
        var changes = state.commit([.put("k/12", "1"), .put("p/24/x", "1"), .delete("p/999/y/z")]) // 1
        changes += state.commit([.put("q", "1"), .service("svc-8", [instance])])                      // 2
        hub.publish(changes, state: state)

        let changedKeys: [(key: String, index: UInt64)] = [("k/12", 1), ("p/24/x", 1), ("p/999/y/z", 1), ("q", 2)]
        for (number, sink) in sinks.enumerated() {
            var expected: [UInt64: [UInt64]] = [:]
            for watch in registered where watch.sink == number {
                let indexes: [UInt64]
                switch watch.target {
                case .key(let key):
                    indexes = Array(Set(changedKeys.filter { $0.key == key }.map(\.index))).sorted()
                case .keyPrefix(let prefix):
                    indexes = Array(Set(changedKeys.filter { $0.key.hasPrefix(prefix) }.map(\.index))).sorted()
                case .service(let name, _, _):
                    indexes = name == "svc-8" ? [2] : []
                case .services:
                    indexes = [2]
                }
                if !indexes.isEmpty { expected[watch.streamID] = indexes }
            }
            #expect(sink.deliverCount == (expected.isEmpty ? 0 : 1))
            #expect(sink.streamsWithEvents == Set(expected.keys))
            for (streamID, indexes) in expected {
                #expect(sink.events(streamID).map(\.index) == indexes)
            }
        }
        // The scenario does reach every kind of watch.
        let reached = sinks.reduce(0) { $0 + $1.streamsWithEvents.count }
        #expect(reached > 10)

        for sink in sinks.prefix(5) { hub.removeAll(sink: sink) }
        #expect(hub.watcherCount == 5_000)
    }
}
