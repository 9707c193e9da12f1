import CairnServer
import CairnWire
import Foundation
import NIOCore
import NIOEmbedded
import Testing

/// The writer against an `EmbeddedChannel` with no handlers: what it writes is read back as
/// `WireMessage` values. Writability is flipped through `EmbeddedChannel.isWritable`, and the
/// test calls `writabilityChanged()` as the connection's handler would.
@Suite("WatchStreamWriter")
struct WatchStreamWriterTests {
    /// Counts `onCut` calls (called on the event loop, read on the test's thread: the same one).
    final class CutLog: @unchecked Sendable {
        private let lock = NSLock()
        private var streams: [UInt64] = []
        func record(_ streamID: UInt64) { lock.withLock { streams.append(streamID) } }
        var cut: [UInt64] { lock.withLock { streams } }
    }

    static func event(_ index: UInt64, _ key: String = "k") -> SharedWatchEvent {
        SharedWatchEvent(WatchEvent(index: index, payload: .keys([KVChange(key: key, entry: nil)], snapshot: false)))
    }

    static func eventMessage(_ streamID: UInt64, _ index: UInt64, _ key: String = "k") -> WireMessage {
        .response(streamID: streamID, .watchEvent(event(index, key).event))
    }

    /// Every message written and flushed so far, with already encoded responses decoded (so
    /// that they compare with plain `.response` messages).
    static func written(_ channel: EmbeddedChannel) throws -> [WireMessage] {
        try frames(channel).map { message in
            guard case .encodedResponse(let streamID, var payload) = message else { return message }
            let response = try payload.readClientResponse()
            #expect(payload.readableBytes == 0, "the encoded payload holds more than one response")
            return .response(streamID: streamID, response)
        }
    }

    /// Every message written and flushed so far, each ``WireMessage/responseFrames(_:)`` split
    /// into its frames, as ``WireMessage/encodedResponse(streamID:payload:)`` values.
    static func frames(_ channel: EmbeddedChannel) throws -> [WireMessage] {
        try rawWritten(channel).flatMap { message -> [WireMessage] in
            guard case .responseFrames(let buffer) = message else { return [message] }
            return try split(buffer)
        }
    }

    /// The frames of a ``WireMessage/responseFrames(_:)`` buffer, read with the receiver's
    /// decoder; fails when the buffer is not whole `response` frames.
    static func split(_ buffer: ByteBuffer) throws -> [WireMessage] {
        var input = buffer
        var decoder = FrameDecoder()
        var out: [WireMessage] = []
        while let frame = try decoder.decode(buffer: &input) {
            #expect(frame.kind == .response)
            out.append(.encodedResponse(streamID: frame.streamID, payload: frame.payload))
        }
        #expect(input.readableBytes == 0, "response frames end inside a frame")
        return out
    }

    /// Every message written and flushed so far, as written.
    static func rawWritten(_ channel: EmbeddedChannel) throws -> [WireMessage] {
        var messages: [WireMessage] = []
        for _ in 0..<100_000 {
            guard let message = try channel.readOutbound(as: WireMessage.self) else { break }
            messages.append(message)
        }
        return messages
    }

    @Test func eventsAreWrittenInOrderAndFlushedOncePerBatch() throws {
        let channel = EmbeddedChannel()
        let writer = WatchStreamWriter(channel: channel, onCut: { _ in })

        writer.deliver([(1, Self.event(5)), (2, Self.event(5, "x")), (1, Self.event(6))])
        #expect(try Self.written(channel).isEmpty) // nothing happens before the event loop runs
        channel.embeddedEventLoop.run()

        #expect(try Self.written(channel) == [Self.eventMessage(1, 5), Self.eventMessage(2, 5, "x"), Self.eventMessage(1, 6)])
        #expect(try channel.finish().isClean)
    }

    @Test func eventsWaitWhileTheChannelIsNotWritableAndDrainInOrderWhenItIs() throws {
        let channel = EmbeddedChannel()
        let writer = WatchStreamWriter(channel: channel, onCut: { _ in })
        writer.deliver([(1, Self.event(1))])
        channel.embeddedEventLoop.run()
        #expect(try Self.written(channel) == [Self.eventMessage(1, 1)])

        channel.isWritable = false
        writer.deliver([(1, Self.event(2)), (2, Self.event(2, "x"))])
        writer.deliver([(1, Self.event(3))])
        channel.embeddedEventLoop.run()
        #expect(try Self.written(channel).isEmpty)

        channel.isWritable = true
        writer.writabilityChanged()
        let drained = try Self.written(channel)
        #expect(drained.count == 3)
        #expect(drained.filter { $0.streamID == 1 } == [Self.eventMessage(1, 2), Self.eventMessage(1, 3)])
        #expect(drained.filter { $0.streamID == 2 } == [Self.eventMessage(2, 2, "x")])
    }

    @Test func aStreamWithQueuedEventsKeepsItsOrderEvenIfTheChannelIsWritableBeforeTheDrain() throws {
        let channel = EmbeddedChannel()
        let writer = WatchStreamWriter(channel: channel, onCut: { _ in })
        channel.isWritable = false
        writer.deliver([(1, Self.event(1)), (1, Self.event(2))])
        channel.embeddedEventLoop.run()

        channel.isWritable = true // writabilityChanged() not called yet
        writer.deliver([(1, Self.event(3))])
        channel.embeddedEventLoop.run()

        #expect(try Self.written(channel) == [Self.eventMessage(1, 1), Self.eventMessage(1, 2), Self.eventMessage(1, 3)])
    }

    @Test func aStreamPastTheLimitIsCutWithWatchTooSlowAndOnCutIsCalledOnce() throws {
        let channel = EmbeddedChannel()
        let cuts = CutLog()
        let writer = WatchStreamWriter(channel: channel, maxQueuedEvents: 3, onCut: { cuts.record($0) })
        writer.deliver([(1, Self.event(10)), (2, Self.event(10, "x"))])
        channel.embeddedEventLoop.run()
        _ = try Self.written(channel)

        channel.isWritable = false
        writer.deliver([(1, Self.event(11)), (1, Self.event(12)), (1, Self.event(13)), (2, Self.event(11, "x"))])
        channel.embeddedEventLoop.run()
        #expect(try Self.written(channel).isEmpty)
        #expect(cuts.cut.isEmpty)

        writer.deliver([(1, Self.event(14)), (1, Self.event(15))]) // the fourth queued event cuts stream 1
        channel.embeddedEventLoop.run()
        let message = "the client read the watch too slowly; resume from index 10"
        #expect(try Self.written(channel) == [.response(streamID: 1, .error(.watchTooSlow, message: message))])
        #expect(cuts.cut == [1])

        // Stream 1 is forgotten: later events are dropped; stream 2 still drains.
        writer.deliver([(1, Self.event(16))])
        channel.isWritable = true
        channel.embeddedEventLoop.run()
        writer.writabilityChanged()
        #expect(try Self.written(channel) == [Self.eventMessage(2, 11, "x")])
        #expect(cuts.cut == [1])
    }

    @Test func aStreamCutBeforeAnythingWasWrittenSaysToResumeFromTheLastIndexReceived() throws {
        let channel = EmbeddedChannel()
        let writer = WatchStreamWriter(channel: channel, maxQueuedEvents: 1, onCut: { _ in })
        channel.isWritable = false
        writer.deliver([(4, Self.event(1)), (4, Self.event(2))])
        channel.embeddedEventLoop.run()

        let message = "the client read the watch too slowly; resume from the last index received"
        #expect(try Self.written(channel) == [.response(streamID: 4, .error(.watchTooSlow, message: message))])
    }

    @Test func aCutStreamCanBeUsedAgainOnceTheHubConfirmsTheCancel() throws {
        let channel = EmbeddedChannel()
        let writer = WatchStreamWriter(channel: channel, maxQueuedEvents: 0, onCut: { _ in })
        channel.isWritable = false
        writer.deliver([(1, Self.event(1))])
        channel.embeddedEventLoop.run()
        _ = try Self.written(channel)

        channel.isWritable = true
        writer.deliver([(1, Self.event(2))]) // still in flight from the hub: dropped
        writer.cancelled(streamID: 1)        // the hub cancelled the watch
        writer.deliver([(1, Self.event(3))]) // a new watch on the same stream id
        channel.embeddedEventLoop.run()

        #expect(try Self.written(channel) == [Self.eventMessage(1, 3)])
    }

    @Test func endIsWrittenAfterTheStreamsQueuedEvents() throws {
        let channel = EmbeddedChannel()
        let writer = WatchStreamWriter(channel: channel, onCut: { _ in })
        channel.isWritable = false
        writer.deliver([(1, Self.event(1)), (1, Self.event(2))])
        writer.end(streamID: 1, code: .historyCompacted, message: "re-read")
        channel.embeddedEventLoop.run()
        #expect(try Self.written(channel).isEmpty)

        channel.isWritable = true
        writer.writabilityChanged()

        #expect(try Self.written(channel) == [
            Self.eventMessage(1, 1), Self.eventMessage(1, 2),
            .response(streamID: 1, .error(.historyCompacted, message: "re-read")),
        ])
    }

    @Test func endOfAStreamWithNothingQueuedIsWrittenAtOnce() throws {
        let channel = EmbeddedChannel()
        let writer = WatchStreamWriter(channel: channel, onCut: { _ in })
        channel.isWritable = false
        writer.deliver([(2, Self.event(1))])
        writer.end(streamID: 1, code: .shuttingDown, message: "bye")
        channel.embeddedEventLoop.run()

        #expect(try Self.written(channel) == [.response(streamID: 1, .error(.shuttingDown, message: "bye"))])
    }

    @Test func aForgottenStreamDropsItsQueueItsEventsAndItsEnd() throws {
        let channel = EmbeddedChannel()
        let writer = WatchStreamWriter(channel: channel, onCut: { _ in })
        channel.isWritable = false
        writer.deliver([(1, Self.event(1)), (2, Self.event(1, "x"))])
        channel.embeddedEventLoop.run()

        writer.forget(streamID: 1)
        writer.deliver([(1, Self.event(2))])
        writer.end(streamID: 1, code: .historyCompacted, message: "re-read")
        channel.isWritable = true
        channel.embeddedEventLoop.run()
        writer.writabilityChanged()

        #expect(try Self.written(channel) == [Self.eventMessage(2, 1, "x")])
    }

    @Test func theHubAndTheWriterTogetherDeliverAWatchToTheWire() throws {
        let channel = EmbeddedChannel()
        let writer = WatchStreamWriter(channel: channel, onCut: { _ in })
        var state = FakeWatchState()
        let hub = WatchHub(floor: 0)
        hub.watch(.key("k"), fromIndex: 0, streamID: 9, sink: writer, state: state)
        hub.publish(state.commit([.put("k", "v")]), state: state)
        channel.embeddedEventLoop.run()

        let messages = try Self.written(channel)
        #expect(messages.count == 2)
        guard case .response(9, .watchEvent(let last)) = messages.last else {
            Issue.record("expected a watch event on stream 9, got \(messages)")
            return
        }
        #expect(last.index == 1)
        #expect(last.keyChanges.map(\.entry?.value) == [Array("v".utf8)])
    }

    @Test func aBatchForManyStreamsGoesOutAsAFewBuffersOfWholeFramesInOrder() throws {
        let channel = EmbeddedChannel()
        let writer = WatchStreamWriter(channel: channel, onCut: { _ in })
        let event = Self.event(7, String(repeating: "k", count: 100))
        let streams = 1...1_000
        writer.deliver(streams.map { (UInt64($0), event) })
        channel.embeddedEventLoop.run()

        let raw = try Self.rawWritten(channel)
        let frameBytes = Frame.headerSize + event.responsePayload().readableBytes
        // A chunk is written once it holds 16 KiB: far fewer writes than frames.
        let framesPerChunk = (16 * 1024 + frameBytes - 1) / frameBytes
        #expect(raw.count == (streams.count + framesPerChunk - 1) / framesPerChunk)
        #expect(raw.count < 20)
        var total = 0
        var decoded: [WireMessage] = []
        for message in raw {
            guard case .responseFrames(let buffer) = message else {
                Issue.record("expected response frames, got \(message)")
                continue
            }
            #expect(buffer.readableBytes < 16 * 1024 + frameBytes)
            total += buffer.readableBytes
            decoded += try Self.split(buffer)
        }
        #expect(total == streams.count * frameBytes)
        #expect(decoded.map(\.streamID) == streams.map { UInt64($0) })
        #expect(event.encodingCount == 1)
    }

    @Test func anEventLargerThanAChunkIsWrittenAloneBetweenTheFramesAroundIt() throws {
        let channel = EmbeddedChannel()
        let writer = WatchStreamWriter(channel: channel, onCut: { _ in })
        let big = SharedWatchEvent(WatchEvent(index: 2, payload: .keys(
            [KVChange(key: "big", entry: KVEntry(key: "big", value: Array(repeating: 7, count: 40_000), createIndex: 2, modifyIndex: 2))], snapshot: false)))
        writer.deliver([(1, Self.event(1)), (1, big), (2, Self.event(3))])
        channel.embeddedEventLoop.run()

        let raw = try Self.rawWritten(channel)
        #expect(raw.count == 3)
        guard raw.count == 3, case .responseFrames = raw[0], case .encodedResponse(1, _) = raw[1], case .responseFrames = raw[2] else {
            Issue.record("expected frames, the large event alone, frames; got \(raw.map(\.kind))")
            return
        }
        var bigPayload = big.responsePayload()
        let expected: [WireMessage] = [Self.eventMessage(1, 1), .response(streamID: 1, try bigPayload.readClientResponse()), Self.eventMessage(2, 3)]
        let decoded = try raw.flatMap { message -> [WireMessage] in
            if case .responseFrames(let buffer) = message { return try Self.split(buffer) }
            return [message]
        }.map { message -> WireMessage in
            guard case .encodedResponse(let streamID, var payload) = message else { return message }
            return .response(streamID: streamID, try payload.readClientResponse())
        }
        #expect(decoded == expected)
    }
}
