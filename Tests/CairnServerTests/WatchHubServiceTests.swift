import CairnServer
import CairnWire
import Testing

@Suite("WatchHub service and service-list watches")
struct WatchHubServiceTests {
    typealias S = FakeWatchState

    @Test func aFreshServiceWatchGetsTheCurrentInstancesThenTheStateAfterEachChange() {
        var state = FakeWatchState()
        let hub = WatchHub(floor: 0)
        let one = S.instance("web", id: "w1")
        let two = S.instance("web", id: "w2")
        hub.publish(state.commit([.service("web", [one])]), state: state) // 1

        let sink = RecordingSink()
        hub.watch(.service(name: "web", tag: "", passingOnly: false), fromIndex: 0, streamID: 1, sink: sink, state: state)
        hub.publish(state.commit([.put("unrelated", "x")]), state: state)  // 2
        hub.publish(state.commit([.service("web", [one, two])]), state: state) // 3
        hub.publish(state.commit([.service("web", [])]), state: state) // 4

        #expect(sink.events(1) == [
            WatchEvent(index: 1, payload: .service([one])),
            WatchEvent(index: 3, payload: .service([one, two])),
            WatchEvent(index: 4, payload: .service([])),
        ])
    }

    @Test func aWatchOfAnUnknownServiceStartsEmpty() {
        let state = FakeWatchState(appliedIndex: 5)
        let hub = WatchHub(floor: 5)
        let sink = RecordingSink()
        hub.watch(.service(name: "nothing", tag: "", passingOnly: false), fromIndex: 0, streamID: 1, sink: sink, state: state)
        #expect(sink.events(1) == [WatchEvent(index: 5, payload: .service([]))])
    }

    @Test func serviceWatchesFilterByTagAndByPassingHealth() {
        var state = FakeWatchState()
        let hub = WatchHub(floor: 0)
        let primaryPassing = S.instance("db", id: "d1", tags: ["primary"])
        let primaryCritical = S.instance("db", id: "d2", tags: ["primary"], status: .critical)
        let replicaWarning = S.instance("db", id: "d3", tags: ["replica"], status: .warning)
        let replicaPassing = S.instance("db", id: "d4", tags: ["replica", "v2"])
        let all = [primaryPassing, primaryCritical, replicaWarning, replicaPassing]

        let sink = RecordingSink()
        hub.watch(.service(name: "db", tag: "", passingOnly: false), fromIndex: 0, streamID: 1, sink: sink, state: state)
        hub.watch(.service(name: "db", tag: "primary", passingOnly: false), fromIndex: 0, streamID: 2, sink: sink, state: state)
        hub.watch(.service(name: "db", tag: "", passingOnly: true), fromIndex: 0, streamID: 3, sink: sink, state: state)
        hub.watch(.service(name: "db", tag: "replica", passingOnly: true), fromIndex: 0, streamID: 4, sink: sink, state: state)
        sink.clear()
        hub.publish(state.commit([.service("db", all)]), state: state)

        #expect(sink.deliverCount == 1)
        #expect(sink.events(1).map(\.payload) == [.service(all)])
        #expect(sink.events(2).map(\.payload) == [.service([primaryPassing, primaryCritical])])
        #expect(sink.events(3).map(\.payload) == [.service([primaryPassing, replicaPassing])])
        #expect(sink.events(4).map(\.payload) == [.service([replicaPassing])])
    }

    @Test func aChangeOfAnotherServiceDoesNotWakeTheWatch() {
        var state = FakeWatchState()
        let hub = WatchHub(floor: 0)
        let sink = RecordingSink()
        hub.watch(.service(name: "web", tag: "", passingOnly: false), fromIndex: 0, streamID: 1, sink: sink, state: state)
        sink.clear()

        hub.publish(state.commit([.service("api", [S.instance("api", id: "a1")])]), state: state)

        #expect(sink.calls.isEmpty)
    }

    @Test func severalChangesOfOneServiceInOnePublishGiveOneEventAtTheLastIndex() {
        var state = FakeWatchState()
        let hub = WatchHub(floor: 0)
        let sink = RecordingSink()
        hub.watch(.service(name: "web", tag: "", passingOnly: false), fromIndex: 0, streamID: 1, sink: sink, state: state)
        sink.clear()

        let one = S.instance("web", id: "w1")
        let two = S.instance("web", id: "w2")
        var changes = state.commit([.service("web", [one])])    // 1
        changes += state.commit([.put("k", "v")])               // 2
        changes += state.commit([.service("web", [one, two])])  // 3
        changes += state.commit([.put("k", "w")])               // 4
        hub.publish(changes, state: state)

        #expect(sink.events(1) == [WatchEvent(index: 3, payload: .service([one, two]))])
    }

    @Test func resumingAServiceWatchSendsTheCurrentStateOnlyIfItChangedSince() {
        var state = FakeWatchState()
        let hub = WatchHub(floor: 0)
        let one = S.instance("web", id: "w1")
        let two = S.instance("web", id: "w2")
        hub.publish(state.commit([.service("web", [one])]), state: state)      // 1
        hub.publish(state.commit([.put("k", "v")]), state: state)              // 2
        hub.publish(state.commit([.service("web", [one, two])]), state: state) // 3
        hub.publish(state.commit([.put("k", "w")]), state: state)              // 4

        let behind = RecordingSink()
        hub.watch(.service(name: "web", tag: "", passingOnly: false), fromIndex: 2, streamID: 1, sink: behind, state: state)
        #expect(behind.events(1) == [WatchEvent(index: 3, payload: .service([one, two]))])

        let upToDate = RecordingSink()
        hub.watch(.service(name: "web", tag: "", passingOnly: false), fromIndex: 3, streamID: 1, sink: upToDate, state: state)
        #expect(upToDate.calls.isEmpty)

        hub.publish(state.commit([.service("web", [two])]), state: state)      // 5
        #expect(upToDate.events(1) == [WatchEvent(index: 5, payload: .service([two]))])
        #expect(behind.events(1).map(\.index) == [3, 5])
    }

    @Test func resumingAServiceWatchFromBeforeTheFloorSendsTheCurrentStateAtTheAppliedIndex() {
        var state = FakeWatchState()
        let one = S.instance("web", id: "w1")
        _ = state.commit([.service("web", [one])])  // 1, before this server's start
        _ = state.commit([.put("k", "v")])          // 2
        let hub = WatchHub(floor: 2)

        let old = RecordingSink()
        hub.watch(.service(name: "web", tag: "", passingOnly: false), fromIndex: 1, streamID: 1, sink: old, state: state)
        #expect(old.events(1) == [WatchEvent(index: 2, payload: .service([one]))])

        let atFloor = RecordingSink()
        hub.watch(.service(name: "web", tag: "", passingOnly: false), fromIndex: 2, streamID: 1, sink: atFloor, state: state)
        #expect(atFloor.calls.isEmpty)
    }

    @Test func theServicesWatchFollowsTheListOfServicesAndTheirTags() {
        var state = FakeWatchState()
        let hub = WatchHub(floor: 0)
        hub.publish(state.commit([.service("web", [S.instance("web", id: "w1", tags: ["v1"])])]), state: state) // 1

        let sink = RecordingSink()
        hub.watch(.services, fromIndex: 0, streamID: 1, sink: sink, state: state)
        // Health changes only: the list is the same, no event.
        hub.publish(state.commit([.service("web", [S.instance("web", id: "w1", tags: ["v1"], status: .critical)])]), state: state) // 2
        hub.publish(state.commit([.service("api", [S.instance("api", id: "a1", tags: ["b", "a"])])]), state: state) // 3
        hub.publish(state.commit([.service("web", [])]), state: state) // 4

        #expect(sink.events(1) == [
            WatchEvent(index: 1, payload: .services([ServiceSummary(name: "web", tags: ["v1"])])),
            WatchEvent(index: 3, payload: .services([ServiceSummary(name: "api", tags: ["a", "b"]), ServiceSummary(name: "web", tags: ["v1"])])),
            WatchEvent(index: 4, payload: .services([ServiceSummary(name: "api", tags: ["a", "b"])])),
        ])
    }

    @Test func resumingTheServicesWatchSendsTheListOnlyIfItChangedSince() {
        var state = FakeWatchState()
        let hub = WatchHub(floor: 0)
        hub.publish(state.commit([.service("web", [S.instance("web", id: "w1")])]), state: state) // 1
        hub.publish(state.commit([.put("k", "v")]), state: state)                                 // 2
        hub.publish(state.commit([.service("api", [S.instance("api", id: "a1")])]), state: state) // 3

        let behind = RecordingSink()
        hub.watch(.services, fromIndex: 2, streamID: 1, sink: behind, state: state)
        let upToDate = RecordingSink()
        hub.watch(.services, fromIndex: 3, streamID: 1, sink: upToDate, state: state)

        #expect(behind.events(1).map(\.index) == [3])
        #expect(upToDate.calls.isEmpty)
    }
}
