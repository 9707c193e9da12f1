import CairnServer
import CairnWire
import Testing

@Suite("WatchHub key and prefix watches")
struct WatchHubKeyTests {
    @Test func aFreshKeyWatchGetsTheCurrentEntryThenEveryLaterChangeOnce() throws {
        var state = FakeWatchState()
        let hub = WatchHub(floor: 0)
        hub.publish(state.commit([.put("config/a", "1")]), state: state)
        hub.publish(state.commit([.put("config/b", "x")]), state: state)

        let sink = RecordingSink()
        hub.watch(.key("config/a"), fromIndex: 0, streamID: 7, sink: sink, state: state)
        hub.publish(state.commit([.put("config/a", "2")]), state: state)
        hub.publish(state.commit([.put("config/b", "y")]), state: state)
        hub.publish(state.commit([.delete("config/a")]), state: state)

        let events = sink.events(7)
        try #require(events.map(\.index) == [2, 3, 5])
        #expect(events[0].isSnapshot)
        #expect(events[0].keyChanges.map(\.entry?.value) == [Array("1".utf8)])
        #expect(events[1].keyChanges.map(\.key) == ["config/a"])
        #expect(events[1].keyChanges.map(\.entry?.modifyIndex) == [3])
        #expect(events[1].keyChanges.map(\.entry?.value) == [Array("2".utf8)])
        #expect(events[2].keyChanges == [KVChange(key: "config/a", entry: nil)])
        #expect(!events[1].isSnapshot && !events[2].isSnapshot)
    }

    @Test func aFreshWatchOfAnAbsentKeyGetsAnEmptySnapshotAtTheAppliedIndex() {
        var state = FakeWatchState()
        let hub = WatchHub(floor: 0)
        hub.publish(state.commit([.put("other", "1")]), state: state)

        let sink = RecordingSink()
        hub.watch(.key("missing"), fromIndex: 0, streamID: 1, sink: sink, state: state)

        #expect(sink.events(1) == [WatchEvent(index: 1, payload: .keys([], snapshot: true))])
    }

    @Test func aFreshPrefixWatchGetsEveryMatchingKeyInOrderThenOnlyMatchingChanges() throws {
        var state = FakeWatchState()
        let hub = WatchHub(floor: 0)
        hub.publish(state.commit([.put("app/b", "2"), .put("app/a", "1"), .put("apple", "no"), .put("ap", "no")]), state: state)

        let sink = RecordingSink()
        hub.watch(.keyPrefix("app/"), fromIndex: 0, streamID: 3, sink: sink, state: state)
        hub.publish(state.commit([.put("apple", "still no")]), state: state)
        hub.publish(state.commit([.put("app/c", "3")]), state: state)

        let events = sink.events(3)
        try #require(events.map(\.index) == [1, 3])
        #expect(events[0].isSnapshot)
        #expect(events[0].keyChanges.map(\.key) == ["app/a", "app/b"])
        #expect(events[1].keyChanges.map(\.key) == ["app/c"])
    }

    @Test func theEmptyPrefixWatchesEveryKey() {
        var state = FakeWatchState()
        let hub = WatchHub(floor: 0)
        let sink = RecordingSink()
        hub.watch(.keyPrefix(""), fromIndex: 0, streamID: 1, sink: sink, state: state)
        hub.publish(state.commit([.put("a", "1")]), state: state)
        hub.publish(state.commit([.put("z/y/x", "2")]), state: state)

        #expect(sink.events(1).map(\.index) == [0, 1, 2])
    }

    @Test func severalKeysChangedAtOneIndexArriveAsOneEvent() throws {
        var state = FakeWatchState()
        let hub = WatchHub(floor: 0)
        let sink = RecordingSink()
        hub.watch(.keyPrefix("t/"), fromIndex: 0, streamID: 1, sink: sink, state: state)

        hub.publish(state.commit([.put("t/1", "a"), .put("u/1", "b"), .put("t/2", "c"), .delete("t/3")]), state: state)

        let events = sink.events(1)
        try #require(events.count == 2)
        #expect(events[1].index == 1)
        #expect(events[1].keyChanges.map(\.key) == ["t/1", "t/2", "t/3"])
    }

    @Test func everyWatchOfTheKeyOrOfOneOfItsPrefixesGetsTheChange() {
        var state = FakeWatchState()
        let hub = WatchHub(floor: 0)
        let sink = RecordingSink()
        hub.watch(.keyPrefix("a/"), fromIndex: 0, streamID: 1, sink: sink, state: state)
        hub.watch(.keyPrefix("a/b/"), fromIndex: 0, streamID: 2, sink: sink, state: state)
        hub.watch(.key("a/b/c"), fromIndex: 0, streamID: 3, sink: sink, state: state)
        hub.watch(.keyPrefix("a/b/c"), fromIndex: 0, streamID: 4, sink: sink, state: state) // the whole key
        hub.watch(.keyPrefix("a/b/c/"), fromIndex: 0, streamID: 5, sink: sink, state: state) // longer: no
        sink.clear()

        hub.publish(state.commit([.put("a/b/c", "1")]), state: state)

        #expect(sink.deliverCount == 1)
        #expect(sink.streamsWithEvents == [1, 2, 3, 4])
        for stream: UInt64 in [1, 2, 3, 4] {
            #expect(sink.events(stream).map(\.index) == [1])
        }
    }

    @Test func prefixesCompareAsUTF8BytesIncludingMultibyteCharacters() {
        var state = FakeWatchState()
        let hub = WatchHub(floor: 0)
        let sink = RecordingSink()
        hub.watch(.keyPrefix("café/"), fromIndex: 0, streamID: 1, sink: sink, state: state)
        hub.watch(.keyPrefix("caf"), fromIndex: 0, streamID: 2, sink: sink, state: state)
        sink.clear()

        hub.publish(state.commit([.put("café/menu", "1")]), state: state)
        hub.publish(state.commit([.put("cafe/menu", "2")]), state: state)

        #expect(sink.events(1).map(\.index) == [1])
        #expect(sink.events(2).map(\.index) == [1, 2])
    }

    @Test func keysCompareByteForByteLikeTheStoreNotByCanonicalEquivalence() {
        // "é" as one code point and as "e" plus a combining accent: equal as Swift strings,
        // different keys in the store (which compares UTF-8 bytes).
        let composed = "caf\u{E9}", decomposed = "cafe\u{301}"
        #expect(composed == decomposed)
        var state = FakeWatchState()
        let hub = WatchHub(floor: 0)
        let sink = RecordingSink()
        hub.watch(.key(composed), fromIndex: 0, streamID: 1, sink: sink, state: state)
        hub.watch(.key(decomposed), fromIndex: 0, streamID: 2, sink: sink, state: state)
        sink.clear()

        hub.publish(state.commit([.put(decomposed, "1")]), state: state)   // 1
        hub.publish(state.commit([.put(composed, "2")]), state: state)     // 2
        hub.publish(state.commit([.put(composed, "3"), .put(decomposed, "4")]), state: state) // 3

        #expect(sink.events(1).map(\.index) == [2, 3])
        #expect(sink.events(1).map { $0.keyChanges.map { Array($0.key.utf8) } } == [[Array(composed.utf8)], [Array(composed.utf8)]])
        #expect(sink.events(2).map(\.index) == [1, 3])
        #expect(sink.events(2).map { $0.keyChanges.map { Array($0.key.utf8) } } == [[Array(decomposed.utf8)], [Array(decomposed.utf8)]])

        // Resuming from the history makes the same distinction.
        hub.watch(.key(composed), fromIndex: 0, streamID: 3, sink: sink, state: state)
        hub.watch(.key(decomposed), fromIndex: 1, streamID: 4, sink: sink, state: state)
        #expect(sink.events(3).map(\.index) == [3])
        #expect(sink.events(3).first?.keyChanges.map(\.entry?.value) == [Array("3".utf8)])
        #expect(sink.events(4).map(\.index) == [3])
        #expect(sink.events(4).first?.keyChanges.map { Array($0.key.utf8) } == [Array(decomposed.utf8)])
    }

    @Test func resumingReplaysExactlyTheChangesAfterTheIndexInOrder() {
        var state = FakeWatchState()
        let hub = WatchHub(floor: 0)
        hub.publish(state.commit([.put("k/1", "a")]), state: state)            // 1
        hub.publish(state.commit([.put("other", "x")]), state: state)          // 2
        hub.publish(state.commit([.put("k/2", "b"), .put("k/3", "c")]), state: state) // 3
        hub.publish(state.commit([.delete("k/1")]), state: state)              // 4

        let sink = RecordingSink()
        hub.watch(.keyPrefix("k/"), fromIndex: 1, streamID: 9, sink: sink, state: state)
        #expect(sink.deliverCount == 1)
        hub.publish(state.commit([.put("k/4", "d")]), state: state)            // 5

        let events = sink.events(9)
        #expect(events.map(\.index) == [3, 4, 5])
        #expect(events.map { $0.keyChanges.map(\.key) } == [["k/2", "k/3"], ["k/1"], ["k/4"]])
        #expect(events.allSatisfy { !$0.isSnapshot })
    }

    @Test func resumingFromTheNewestIndexWaitsForTheNextChange() {
        var state = FakeWatchState()
        let hub = WatchHub(floor: 0)
        hub.publish(state.commit([.put("k", "a")]), state: state)

        let sink = RecordingSink()
        hub.watch(.key("k"), fromIndex: 1, streamID: 1, sink: sink, state: state)
        #expect(sink.calls.isEmpty)
        hub.publish(state.commit([.put("k", "b")]), state: state)

        #expect(sink.events(1).map(\.index) == [2])
    }

    @Test func resumingFromAnIndexThisServerHasNotReachedSkipsChangesUpToIt() {
        // The client came from a server further ahead (index 3); this one has applied 1.
        var state = FakeWatchState()
        let hub = WatchHub(floor: 0)
        hub.publish(state.commit([.put("k", "a")]), state: state)

        let sink = RecordingSink()
        hub.watch(.key("k"), fromIndex: 3, streamID: 1, sink: sink, state: state)
        hub.publish(state.commit([.put("k", "b")]), state: state) // 2: the client saw it
        hub.publish(state.commit([.put("k", "c")]), state: state) // 3: the client saw it
        hub.publish(state.commit([.put("k", "d")]), state: state) // 4: new

        #expect(sink.events(1).map(\.index) == [4])
    }

    @Test func resumingAtTheFloorIsServedAndBelowItEndsWithHistoryCompacted() {
        var state = FakeWatchState(appliedIndex: 10)
        let hub = WatchHub(floor: 10)
        hub.publish(state.commit([.put("k", "a")]), state: state) // 11

        let atFloor = RecordingSink()
        hub.watch(.key("k"), fromIndex: 10, streamID: 1, sink: atFloor, state: state)
        #expect(atFloor.events(1).map(\.index) == [11])

        let below = RecordingSink()
        hub.watch(.keyPrefix(""), fromIndex: 9, streamID: 2, sink: below, state: state)
        let ends = below.ends(2)
        #expect(ends.count == 1)
        #expect(ends.first?.code == .historyCompacted)
        #expect(ends.first?.message == "resume index 9 is older than this server's history (starts after 10); re-read")
        #expect(below.deliverCount == 0)
        #expect(hub.watcherCount == 1)
    }

    @Test func evictionDropsWholeIndexesAndRaisesTheFloor() {
        var state = FakeWatchState()
        let hub = WatchHub(floor: 0, historyLimit: 4)
        hub.publish(state.commit([.put("a", "1"), .put("b", "1")]), state: state) // 1: 2 changes
        hub.publish(state.commit([.put("a", "2"), .put("b", "2")]), state: state) // 2: 4 held
        #expect(hub.floor == 0)
        hub.publish(state.commit([.put("c", "1")]), state: state)                 // 3: 5 > 4, drop index 1
        #expect(hub.floor == 1)
        #expect(hub.historyChangeCount == 3)

        let resumed = RecordingSink()
        hub.watch(.keyPrefix(""), fromIndex: 1, streamID: 1, sink: resumed, state: state)
        #expect(resumed.events(1).map(\.index) == [2, 3])
        #expect(resumed.events(1).first?.keyChanges.count == 2)

        let fresh = RecordingSink()
        hub.watch(.keyPrefix(""), fromIndex: 0, streamID: 2, sink: fresh, state: state)
        #expect(fresh.events(2).map(\.index) == [3])
        #expect(fresh.events(2).first?.isSnapshot == true)

        hub.publish(state.commit([.put("d", "1"), .put("e", "1"), .put("f", "1")]), state: state) // 4: 6 > 4, drop index 2
        #expect(hub.floor == 2)
        #expect(hub.historyChangeCount == 4)
        let compacted = RecordingSink()
        hub.watch(.key("a"), fromIndex: 1, streamID: 3, sink: compacted, state: state)
        #expect(compacted.ends(3).map(\.code) == [.historyCompacted])
        let stillServed = RecordingSink()
        hub.watch(.keyPrefix(""), fromIndex: 2, streamID: 4, sink: stillServed, state: state)
        #expect(stillServed.events(4).map(\.index) == [3, 4])
    }

    @Test func largeValuesAreEvictedByTheByteLimit() {
        var state = FakeWatchState()
        let hub = WatchHub(floor: 0, historyLimit: 1_000, historyByteLimit: 3 * 1_100)
        let big = String(repeating: "v", count: 1_000)
        hub.publish(state.commit([.put("a", big)]), state: state) // 1
        hub.publish(state.commit([.put("b", big)]), state: state) // 2
        hub.publish(state.commit([.put("c", big)]), state: state) // 3
        #expect(hub.floor == 0)
        hub.publish(state.commit([.put("d", big)]), state: state) // 4: over 3,300 bytes, drop index 1

        #expect(hub.floor == 1)
        #expect(hub.historyChangeCount == 3)
    }

    @Test func aSingleIndexLargerThanTheLimitIsDeliveredLiveButNotKept() {
        var state = FakeWatchState()
        let hub = WatchHub(floor: 0, historyLimit: 2)
        let sink = RecordingSink()
        hub.watch(.keyPrefix(""), fromIndex: 0, streamID: 1, sink: sink, state: state)

        hub.publish(state.commit([.put("a", "1"), .put("b", "1"), .put("c", "1")]), state: state)

        #expect(sink.events(1).last?.keyChanges.count == 3)
        #expect(hub.floor == 1)
        #expect(hub.historyChangeCount == 0)
    }

    @Test func eachSinkGetsExactlyOneDeliverCallPerPublish() {
        var state = FakeWatchState()
        let hub = WatchHub(floor: 0)
        let first = RecordingSink()
        let second = RecordingSink()
        let idle = RecordingSink()
        for stream: UInt64 in 1...5 {
            hub.watch(.keyPrefix("x/"), fromIndex: 0, streamID: stream, sink: first, state: state)
            hub.watch(.key("x/1"), fromIndex: 0, streamID: stream, sink: second, state: state)
        }
        hub.watch(.key("y"), fromIndex: 0, streamID: 1, sink: idle, state: state)
        first.clear(); second.clear(); idle.clear()

        var changes: [StateChange] = []
        for _ in 0..<3 { changes += state.commit([.put("x/1", "v"), .put("x/2", "v")]) }
        hub.publish(changes, state: state)

        #expect(first.deliverCount == 1)
        #expect(second.deliverCount == 1)
        #expect(idle.calls.isEmpty)
        for stream: UInt64 in 1...5 {
            #expect(first.events(stream).map(\.index) == [1, 2, 3])
            #expect(first.events(stream).allSatisfy { $0.keyChanges.count == 2 })
            #expect(second.events(stream).map(\.index) == [1, 2, 3])
            #expect(second.events(stream).allSatisfy { $0.keyChanges.count == 1 })
        }
    }

    @Test func cancelStopsDeliveriesAndTellsTheSink() {
        var state = FakeWatchState()
        let hub = WatchHub(floor: 0)
        let sink = RecordingSink()
        hub.watch(.key("k"), fromIndex: 0, streamID: 1, sink: sink, state: state)
        hub.watch(.key("k"), fromIndex: 0, streamID: 2, sink: sink, state: state)
        sink.clear()

        hub.cancel(streamID: 1, sink: sink)
        hub.publish(state.commit([.put("k", "v")]), state: state)

        #expect(sink.calls.first == .cancelled(streamID: 1))
        #expect(sink.events(1).isEmpty)
        #expect(sink.events(2).map(\.index) == [1])
        #expect(hub.watcherCount == 1)
    }

    @Test func cancellingAnUnknownStreamStillTellsTheSink() {
        let hub = WatchHub(floor: 0)
        let sink = RecordingSink()
        hub.cancel(streamID: 42, sink: sink)
        #expect(sink.calls == [.cancelled(streamID: 42)])
    }

    @Test func removeAllStopsEveryWatchOfOneSinkOnly() {
        var state = FakeWatchState()
        let hub = WatchHub(floor: 0)
        let closed = RecordingSink()
        let open = RecordingSink()
        hub.watch(.key("k"), fromIndex: 0, streamID: 1, sink: closed, state: state)
        hub.watch(.keyPrefix(""), fromIndex: 0, streamID: 2, sink: closed, state: state)
        hub.watch(.services, fromIndex: 0, streamID: 3, sink: closed, state: state)
        hub.watch(.key("k"), fromIndex: 0, streamID: 1, sink: open, state: state)
        closed.clear(); open.clear()

        hub.removeAll(sink: closed)
        hub.publish(state.commit([.put("k", "v"), .service("web", [FakeWatchState.instance("web", id: "w1")])]), state: state)

        #expect(closed.calls.isEmpty)
        #expect(open.events(1).map(\.index) == [1])
        #expect(hub.watcherCount == 1)
    }

    @Test func watchingAgainOnTheSameStreamReplacesTheWatch() {
        var state = FakeWatchState()
        let hub = WatchHub(floor: 0)
        let sink = RecordingSink()
        hub.watch(.key("a"), fromIndex: 0, streamID: 1, sink: sink, state: state)
        hub.watch(.key("b"), fromIndex: 0, streamID: 1, sink: sink, state: state)
        sink.clear()

        hub.publish(state.commit([.put("a", "1")]), state: state)
        hub.publish(state.commit([.put("b", "1")]), state: state)

        #expect(sink.events(1).map(\.index) == [2])
        #expect(hub.watcherCount == 1)
    }

    @Test func resetEndsEveryWatchWithHistoryCompactedAndStartsTheHistoryAgain() {
        var state = FakeWatchState()
        let hub = WatchHub(floor: 0)
        let sink = RecordingSink()
        hub.publish(state.commit([.put("k", "1")]), state: state)
        hub.watch(.key("k"), fromIndex: 0, streamID: 1, sink: sink, state: state)
        hub.watch(.service(name: "web", tag: "", passingOnly: false), fromIndex: 0, streamID: 2, sink: sink, state: state)
        hub.watch(.services, fromIndex: 0, streamID: 3, sink: sink, state: state)
        sink.clear()

        state.appliedIndex = 50
        hub.reset(floor: 50)

        for stream: UInt64 in 1...3 {
            #expect(sink.ends(stream).map(\.code) == [.historyCompacted])
        }
        #expect(hub.watcherCount == 0)
        #expect(hub.floor == 50)
        #expect(hub.historyChangeCount == 0)

        let late = RecordingSink()
        hub.watch(.key("k"), fromIndex: 1, streamID: 4, sink: late, state: state)
        #expect(late.ends(4).map(\.code) == [.historyCompacted])

        hub.publish(state.commit([.put("k", "2")]), state: state)
        #expect(sink.deliverCount == 0)
    }

    @Test func endAllEndsEveryWatchWithTheGivenCodeAndKeepsTheHistory() {
        var state = FakeWatchState()
        let hub = WatchHub(floor: 0)
        let sink = RecordingSink()
        hub.publish(state.commit([.put("k", "1")]), state: state)
        hub.watch(.key("k"), fromIndex: 0, streamID: 1, sink: sink, state: state)
        hub.watch(.services, fromIndex: 0, streamID: 2, sink: sink, state: state)

        hub.endAll(code: .shuttingDown, message: "the server is shutting down")

        #expect(sink.ends(1).map(\.code) == [.shuttingDown])
        #expect(sink.ends(2).map(\.message) == ["the server is shutting down"])
        #expect(hub.watcherCount == 0)
        #expect(hub.historyChangeCount == 1)
    }
}
