import CairnServer
import CairnWire
import Dispatch
import Foundation
import NIOCore
import NIOEmbedded
import Testing

/// A sink that records the shared events it is handed and passes every call on to a writer:
/// lets a test see which event objects the hub shared while the real writer writes them.
final class TappedSink: WatchSink, @unchecked Sendable {
    let writer: WatchStreamWriter
    private let lock = NSLock()
    private var recorded: [(streamID: UInt64, event: SharedWatchEvent)] = []

    init(writer: WatchStreamWriter) { self.writer = writer }

    /// Every (stream, shared event) handed to this sink, in order.
    var delivered: [(streamID: UInt64, event: SharedWatchEvent)] { lock.withLock { recorded } }

    func deliver(_ batch: [(streamID: UInt64, event: SharedWatchEvent)]) {
        lock.withLock { recorded += batch }
        writer.deliver(batch)
    }

    func end(streamID: UInt64, code: ClientErrorCode, message: String) {
        writer.end(streamID: streamID, code: code, message: message)
    }

    func cancelled(streamID: UInt64) { writer.cancelled(streamID: streamID) }
}

/// Addresses recorded from several threads.
final class AddressLog: @unchecked Sendable {
    private let lock = NSLock()
    private var addresses: Set<UInt> = []
    func record(_ address: UInt) { lock.withLock { _ = addresses.insert(address) } }
    var distinct: Set<UInt> { lock.withLock { addresses } }
}

@Suite("WatchHub shared events")
struct WatchSharedEventTests {
    /// The address of a buffer's readable bytes: equal for two buffers sharing one storage.
    static func address(_ buffer: ByteBuffer) -> UInt {
        buffer.withUnsafeReadableBytes { UInt(bitPattern: $0.baseAddress) }
    }

    @Test func manyStreamsWatchingOnePrefixCauseExactlyOneEncodePerEvent() throws {
        var state = FakeWatchState()
        let hub = WatchHub(floor: 0)
        hub.publish(state.commit([.put("app/seed", "0")]), state: state) // index 1, before any watch

        let connections = 40
        let channels = (0..<connections).map { _ in EmbeddedChannel() }
        let sinks = channels.map { TappedSink(writer: WatchStreamWriter(channel: $0, onCut: { _ in })) }
        for sink in sinks {
            // Two streams on the prefix per connection, and one on another prefix.
            hub.watch(.keyPrefix("app/"), fromIndex: 1, streamID: 1, sink: sink, state: state)
            hub.watch(.keyPrefix("app/"), fromIndex: 1, streamID: 2, sink: sink, state: state)
            hub.watch(.keyPrefix("other/"), fromIndex: 1, streamID: 3, sink: sink, state: state)
        }
        #expect(sinks.allSatisfy { $0.delivered.isEmpty }) // resumed at the applied index: nothing to replay

        hub.publish(state.commit([.put("app/a", "1"), .put("app/b", "2")]) // index 2
                    + state.commit([.delete("app/a")])                       // index 3
                    + state.commit([.put("elsewhere", "x")]), state: state)  // index 4
        channels.forEach { $0.embeddedEventLoop.run() }

        // The hub handed every stream of the prefix the same object per index.
        let delivered = sinks.flatMap(\.delivered)
        #expect(delivered.count == connections * 2 * 2)
        #expect(Set(delivered.map(\.streamID)) == [1, 2])
        var perIndex: [UInt64: Set<ObjectIdentifier>] = [:]
        for (_, event) in delivered { perIndex[event.index, default: []].insert(ObjectIdentifier(event)) }
        #expect(perIndex.keys.sorted() == [2, 3])
        #expect(perIndex.values.allSatisfy { $0.count == 1 })

        // Each distinct event was encoded exactly once, for all the streams that wrote it.
        var distinct: [ObjectIdentifier: SharedWatchEvent] = [:]
        for (_, event) in delivered { distinct[ObjectIdentifier(event)] = event }
        #expect(distinct.count == 2)
        #expect(distinct.values.map(\.encodingCount) == [1, 1])

        // Every frame carries the event's one encoding, byte for byte, which decodes to the event.
        var perChannel: [UInt64: Int] = [:]
        let shared = Dictionary(uniqueKeysWithValues: distinct.values.map { ($0.index, $0.responsePayload()) })
        for channel in channels {
            let messages = try WatchStreamWriterTests.frames(channel)
            #expect(messages.count == 4)
            for message in messages {
                guard case .encodedResponse(let streamID, var payload) = message else {
                    Issue.record("expected an already encoded response, got \(message)")
                    continue
                }
                #expect(streamID == 1 || streamID == 2)
                let bytes = payload
                guard case .watchEvent(let event) = try payload.readClientResponse() else {
                    Issue.record("expected a watch event on stream \(streamID)")
                    continue
                }
                #expect(bytes == shared[event.index])
                perChannel[event.index, default: 0] += 1
            }
            #expect(try channel.finish().isClean)
        }
        #expect(perChannel == [2: connections * 2, 3: connections * 2])
        let index3 = try #require(distinct.values.first { $0.index == 3 })
        #expect(index3.event.payload == .keys([KVChange(key: "app/a", entry: nil)], snapshot: false))
    }

    @Test func serviceWatchersShareOneEventPerFilter() throws {
        var state = FakeWatchState()
        let hub = WatchHub(floor: 0)
        let sink = RecordingSink()
        hub.watch(.service(name: "web", tag: "", passingOnly: false), fromIndex: 0, streamID: 1, sink: sink, state: state)
        hub.watch(.service(name: "web", tag: "", passingOnly: false), fromIndex: 0, streamID: 2, sink: sink, state: state)
        hub.watch(.service(name: "web", tag: "blue", passingOnly: false), fromIndex: 0, streamID: 3, sink: sink, state: state)
        hub.watch(.services, fromIndex: 0, streamID: 4, sink: sink, state: state)
        hub.watch(.services, fromIndex: 0, streamID: 5, sink: sink, state: state)
        sink.clear()

        let blue = FakeWatchState.instance("web", id: "w1", tags: ["blue"])
        let green = FakeWatchState.instance("web", id: "w2", tags: ["green"])
        hub.publish(state.commit([.service("web", [blue, green])]), state: state)

        let shared = Dictionary(uniqueKeysWithValues: sink.sharedDeliveries.map { ($0.streamID, ObjectIdentifier($0.event)) })
        #expect(shared.keys.sorted() == [1, 2, 3, 4, 5])
        #expect(shared[1] == shared[2])
        #expect(shared[1] != shared[3])
        #expect(shared[4] == shared[5])
        #expect(sink.events(3).first?.payload == .service([blue]))
        #expect(sink.events(1).first?.payload == .service([blue, green]))
    }

    @Test func anEventIsEncodedOnlyWhenFirstAskedAndThenOnceWhateverTheThreads() throws {
        let event = WatchEvent(index: 7, payload: .keys([KVChange(key: "k", entry: nil)], snapshot: false))
        let shared = SharedWatchEvent(event)
        #expect(shared.encodingCount == 0)

        let addresses = AddressLog()
        DispatchQueue.concurrentPerform(iterations: 16) { _ in
            addresses.record(Self.address(shared.responsePayload()))
        }
        #expect(shared.encodingCount == 1)
        #expect(addresses.distinct.count == 1)

        var payload = shared.responsePayload()
        #expect(try payload.readClientResponse() == .watchEvent(event))
        #expect(payload.readableBytes == 0)
    }

    @Test func aDrainedStreamIsCutLaterWithTheLastIndexTheDrainWrote() throws {
        let channel = EmbeddedChannel()
        let writer = WatchStreamWriter(channel: channel, maxQueuedEvents: 1, onCut: { _ in })
        channel.isWritable = false
        writer.deliver([(1, WatchStreamWriterTests.event(2))])
        channel.embeddedEventLoop.run()
        channel.isWritable = true
        writer.writabilityChanged()
        writer.deliver([(1, WatchStreamWriterTests.event(3))]) // back on the direct path
        channel.embeddedEventLoop.run()
        #expect(try WatchStreamWriterTests.written(channel)
                == [WatchStreamWriterTests.eventMessage(1, 2), WatchStreamWriterTests.eventMessage(1, 3)])

        channel.isWritable = false
        writer.deliver([(1, WatchStreamWriterTests.event(4)), (1, WatchStreamWriterTests.event(5))])
        channel.embeddedEventLoop.run()
        let message = "the client read the watch too slowly; resume from index 3"
        #expect(try WatchStreamWriterTests.written(channel) == [.response(streamID: 1, .error(.watchTooSlow, message: message))])
    }
}
