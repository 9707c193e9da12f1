import CairnRaft
import CairnServer
import CairnTestSupport
import CairnWire
import Testing

/// Randomized checks of the resume guarantee: a watch that disconnects and resumes from an index
/// it received sees exactly what a watch that never disconnected saw, with no gap and no repeat.
@Suite("WatchHub resume, randomized")
struct WatchHubResumeTests {
    static let keys = ["a/1", "a/2", "a/b/1", "a/b/2", "ab", "b/1", "b/a/1"]
    static let targets: [WatchTarget] = [.keyPrefix("a/"), .key("a/b/1"), .keyPrefix(""), .keyPrefix("b/")]

    /// Random writes for one index: one to three puts or deletes of the pool's keys.
    static func randomWrites(_ random: inout SeededRandom) -> [FakeWatchState.Write] {
        (0..<Int.random(in: 1...3, using: &random)).map { _ in
            let key = keys.randomElement(using: &random)!
            return Bool.random(using: &random) ? .put(key, String(random.next() % 1_000)) : .delete(key)
        }
    }

    /// A watch that keeps disconnecting: each connection is a new sink and stream id.
    struct Resumer {
        var target: WatchTarget
        var received: [WatchEvent] = []
        var sink = RecordingSink()
        var streamID: UInt64
        var connected = true
        var compactions = 0

        /// Takes what the current connection received, then drops the connection.
        mutating func disconnect(from hub: WatchHub) {
            received += sink.events(streamID)
            hub.removeAll(sink: sink)
            connected = false
        }

        /// Resumes from an index it received (not necessarily the last: a client may have
        /// processed less than it was sent), dropping what it had after it.
        mutating func reconnect(to hub: WatchHub, state: FakeWatchState, streamID: UInt64, random: inout SeededRandom) {
            let resumeIndex = received.map(\.index).randomElement(using: &random) ?? 0
            // Resuming from 0 is a fresh watch: the client starts again from its snapshot.
            received.removeAll { resumeIndex == 0 || $0.index > resumeIndex }
            sink = RecordingSink()
            self.streamID = streamID
            hub.watch(target, fromIndex: resumeIndex, streamID: streamID, sink: sink, state: state)
            if let end = sink.ends(streamID).first {
                #expect(end.code == .historyCompacted)
                compactions += 1
                received.removeAll()
                hub.watch(target, fromIndex: 0, streamID: streamID, sink: sink, state: state)
            }
            connected = true
        }
    }

    @Test(arguments: 0..<24)
    func aResumedWatchSeesExactlyWhatAnUninterruptedWatchSaw(seed: UInt64) async {
        await inBackground {
            var random = SeededRandom(seed: seed)
            var state = FakeWatchState()
            let hub = WatchHub(floor: 0)
            let target = Self.targets[Int(seed) % Self.targets.count]
            // Something before the watches start, so that their snapshot is at index 1, not 0.
            hub.publish(state.commit([.put("a/1", "first"), .put("b/1", "first")]), state: state)

            let reference = RecordingSink()
            hub.watch(target, fromIndex: 0, streamID: 1, sink: reference, state: state)
            var resumer = Resumer(target: target, streamID: 2)
            hub.watch(target, fromIndex: 0, streamID: 2, sink: resumer.sink, state: state)
            // Watches started later from a random index N: (N, sink, stream).
            var late: [(from: UInt64, sink: RecordingSink)] = []
            var nextStream: UInt64 = 3

            for _ in 0..<60 {
                var changes: [StateChange] = []
                for _ in 0..<Int.random(in: 1...8, using: &random) {
                    changes += state.commit(Self.randomWrites(&random))
                }
                hub.publish(changes, state: state)

                switch Int.random(in: 0..<10, using: &random) {
                case 0..<3 where resumer.connected:
                    resumer.disconnect(from: hub)
                case 0..<5 where !resumer.connected:
                    resumer.reconnect(to: hub, state: state, streamID: nextStream, random: &random)
                    nextStream += 1
                case 8:
                    let from = UInt64.random(in: 1...state.appliedIndex, using: &random)
                    let sink = RecordingSink()
                    hub.watch(target, fromIndex: from, streamID: nextStream, sink: sink, state: state)
                    late.append((from, sink))
                    nextStream += 1
                default:
                    break
                }
            }
            if !resumer.connected {
                resumer.reconnect(to: hub, state: state, streamID: nextStream, random: &random)
            }
            resumer.disconnect(from: hub)

            let expected = reference.events(1)
            #expect(resumer.compactions == 0)
            // Indexes first, so that a failure prints a short list rather than every payload.
            #expect(resumer.received.map(\.index) == expected.map(\.index))
            #expect(resumer.received == expected)
            #expect(zip(expected, expected.dropFirst()).allSatisfy { $0.index < $1.index })
            #expect(expected.dropFirst().allSatisfy { !$0.isSnapshot && !$0.keyChanges.isEmpty })
            for watch in late {
                let stream = watch.sink.streamsWithEvents.first
                let events = stream.map { watch.sink.events($0) } ?? []
                #expect(events.map(\.index) == expected.filter { $0.index > watch.from }.map(\.index))
                #expect(events == expected.filter { $0.index > watch.from })
            }
        }
    }

    @Test(arguments: 0..<12)
    func withASmallHistoryAResumedWatchEitherContinuesExactlyOrIsToldToReRead(seed: UInt64) {
        var random = SeededRandom(seed: 1_000 + seed)
        var state = FakeWatchState()
        let hub = WatchHub(floor: 0, historyLimit: 12)
        let target = WatchTarget.keyPrefix("a/")
        var resumer = Resumer(target: target, streamID: 1)
        hub.watch(target, fromIndex: 0, streamID: 1, sink: resumer.sink, state: state)
        var nextStream: UInt64 = 2

        for _ in 0..<80 {
            var changes: [StateChange] = []
            for _ in 0..<Int.random(in: 1...4, using: &random) {
                changes += state.commit(Self.randomWrites(&random))
            }
            hub.publish(changes, state: state)
            if resumer.connected, Int.random(in: 0..<4, using: &random) == 0 {
                resumer.disconnect(from: hub)
            } else if !resumer.connected, Bool.random(using: &random) {
                resumer.reconnect(to: hub, state: state, streamID: nextStream, random: &random)
                nextStream += 1
            }
        }
        if !resumer.connected {
            resumer.reconnect(to: hub, state: state, streamID: nextStream, random: &random)
        }
        resumer.disconnect(from: hub)

        // Replaying what the resumer kept rebuilds exactly the current entries under the prefix,
        // and its indexes never go back or repeat.
        let events = resumer.received
        #expect(zip(events, events.dropFirst()).allSatisfy { $0.index < $1.index })
        #expect(events.first?.isSnapshot == true)
        #expect(events.dropFirst().allSatisfy { !$0.isSnapshot })
        var rebuilt: [String: KVEntry] = [:]
        for event in events {
            for change in event.keyChanges { rebuilt[change.key] = change.entry }
        }
        #expect(rebuilt.values.sorted { $0.key < $1.key } == state.kvEntries(prefix: "a/"))
        #expect(hub.floor > 0)
    }
}
