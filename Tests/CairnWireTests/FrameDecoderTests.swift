import CairnTestSupport
import NIOCore
import NIOTestUtils
import Testing

import CairnWire

@Suite("FrameDecoder")
struct FrameDecoderTests {
    /// Every golden message frame with the Frame it must produce.
    static func goldenFrames() throws -> [(ByteBuffer, [Frame])] {
        try GoldenVector.all.compactMap { vector in
            guard case .message = vector.value else { return nil }
            let bytes = vector.encoded
            return (ByteBuffer(bytes: bytes), try decodeFrames(bytes))
        }
    }

    @Test("ByteToMessageDecoderVerifier: frames fed byte by byte, whole and in batches")
    func verifier() async throws {
        try await inBackground {
            let pairs = try Self.goldenFrames()
            #expect(pairs.count == GoldenVector.all.count - 3)
            try ByteToMessageDecoderVerifier.verifyDecoder(inputOutputPairs: pairs) { FrameDecoder() }
        }
    }

    @Test("ByteToMessageDecoderVerifier: several frames in one input")
    func verifierBatched() async throws {
        try await inBackground {
            let frames = try Self.goldenFrames()
            var batch = ByteBufferAllocator().buffer(capacity: 0)
            var expected: [Frame] = []
            for (var bytes, output) in frames.prefix(8) {
                batch.writeBuffer(&bytes)
                expected += output
            }
            try ByteToMessageDecoderVerifier.verifyDecoder(inputOutputPairs: [(batch, expected)]) { FrameDecoder() }
        }
    }

    @Test("a frame header is parsed into kind, flags, stream and payload")
    func decodesHeader() throws {
        var buffer = ByteBuffer(bytes: header(length: 13, kind: 2, streamID: 0x0102_0304_0506_0708) + [9, 8, 7])
        var decoder = FrameDecoder()
        let frame = try #require(try decoder.decode(buffer: &buffer))
        #expect(frame.kind == .request)
        #expect(frame.flags == 0)
        #expect(frame.streamID == 0x0102_0304_0506_0708)
        #expect(frame.payload.bytes == [9, 8, 7])
        #expect(buffer.readableBytes == 0)
    }

    @Test("an empty payload is a frame of length 10")
    func emptyPayload() throws {
        var buffer = ByteBuffer(bytes: header(length: 10, kind: FrameKind.error.rawValue, streamID: 3))
        var decoder = FrameDecoder()
        let frame = try #require(try decoder.decode(buffer: &buffer))
        #expect(frame.payload.readableBytes == 0)
    }

    @Test("an oversized length fails with frameTooLarge once its 4 bytes arrive, before any payload")
    func oversizedFrameFailsEarly() {
        var decoder = FrameDecoder()
        var buffer = ByteBuffer(bytes: be(UInt32(Frame.defaultMaximumLength + 1)))
        expectWireError(.frameTooLarge) { _ = try decoder.decode(buffer: &buffer) }
    }

    @Test("the largest allowed length is accepted; the limit is configurable per decoder")
    func configurableLimit() throws {
        var decoder = FrameDecoder(maximumFrameLength: 100)
        var atLimit = ByteBuffer(bytes: header(length: 100, kind: 2, streamID: 1))
        #expect(try decoder.decode(buffer: &atLimit) == nil)  // waits for 90 payload bytes
        atLimit.writeBytes(Array(repeating: 0, count: 90))
        #expect(try decoder.decode(buffer: &atLimit)?.payload.readableBytes == 90)

        var overLimit = ByteBuffer(bytes: be(UInt32(101)))
        expectWireError(.frameTooLarge) { _ = try decoder.decode(buffer: &overLimit) }

        var maximal = FrameDecoder()
        var atDefault = ByteBuffer(bytes: header(length: UInt32(Frame.defaultMaximumLength), kind: 1))
        #expect(try maximal.decode(buffer: &atDefault) == nil)
    }

    @Test("a length field below the 10 header bytes is a malformedFrame", arguments: [0, 1, 9] as [UInt32])
    func lengthTooSmall(length: UInt32) {
        var decoder = FrameDecoder()
        var buffer = ByteBuffer(bytes: be(length))
        expectWireError(.malformedFrame) { _ = try decoder.decode(buffer: &buffer) }
    }

    @Test("an unknown kind fails with unknownFrameKind on its fifth byte", arguments: [0, 8, 0x7f, 0xff] as [UInt8])
    func unknownKind(kind: UInt8) {
        var decoder = FrameDecoder()
        var buffer = ByteBuffer(bytes: be(UInt32(18)) + [kind])
        expectWireError(.unknownFrameKind) { _ = try decoder.decode(buffer: &buffer) }
    }

    @Test("non-zero flags fail with malformedFrame on the sixth byte", arguments: [1, 0x80, 0xff] as [UInt8])
    func nonZeroFlags(flags: UInt8) {
        var decoder = FrameDecoder()
        var buffer = ByteBuffer(bytes: be(UInt32(18)) + [FrameKind.raft.rawValue, flags])
        expectWireError(.malformedFrame) { _ = try decoder.decode(buffer: &buffer) }
    }

    @Test("stream ids: raft, peerHello, ping and pong use stream 0; request and response never do")
    func streamIDRules() throws {
        for kind in [FrameKind.raft, .peerHello, .ping, .pong] {
            var decoder = FrameDecoder()
            var buffer = ByteBuffer(bytes: header(length: 18, kind: kind.rawValue, streamID: 1))
            expectWireError(.malformedFrame) { _ = try decoder.decode(buffer: &buffer) }
        }
        for kind in [FrameKind.request, .response] {
            var decoder = FrameDecoder()
            var buffer = ByteBuffer(bytes: header(length: 12, kind: kind.rawValue, streamID: 0))
            expectWireError(.malformedFrame) { _ = try decoder.decode(buffer: &buffer) }
        }
        for streamID: UInt64 in [0, 7] {
            var decoder = FrameDecoder()
            var buffer = ByteBuffer(bytes: header(length: 10, kind: FrameKind.error.rawValue, streamID: streamID))
            #expect(try decoder.decode(buffer: &buffer)?.streamID == streamID)
        }
    }

    @Test("a stream ending inside a header fails with truncated in decodeLast", arguments: [1, 4, 13])
    func truncatedHeaderAtEOF(count: Int) {
        var decoder = FrameDecoder()
        var buffer = ByteBuffer(bytes: Array(header(length: 12, kind: 2, streamID: 1).prefix(count)))
        expectWireError(.truncated) { _ = try decoder.decodeLast(buffer: &buffer, seenEOF: true) }
    }

    @Test("a stream ending inside a payload fails with truncated in decodeLast")
    func truncatedPayloadAtEOF() throws {
        var decoder = FrameDecoder()
        var buffer = ByteBuffer(bytes: header(length: 20, kind: 2, streamID: 1) + [1, 2, 3])
        #expect(try decoder.decode(buffer: &buffer) == nil)
        expectWireError(.truncated) { _ = try decoder.decodeLast(buffer: &buffer, seenEOF: true) }
    }

    @Test("decodeLast returns the complete frames before it reports a truncated one")
    func decodeLastDrainsCompleteFramesFirst() throws {
        let complete = frameBytes(.ping(1))
        var buffer = ByteBuffer(bytes: complete + complete.prefix(5))
        var decoder = FrameDecoder()
        #expect(try decoder.decodeLast(buffer: &buffer, seenEOF: true)?.kind == .ping)
        expectWireError(.truncated) { _ = try decoder.decodeLast(buffer: &buffer, seenEOF: true) }
    }

    @Test("a clean end of stream between frames is not an error")
    func cleanEOF() throws {
        var decoder = FrameDecoder()
        var buffer = ByteBufferAllocator().buffer(capacity: 0)
        #expect(try decoder.decodeLast(buffer: &buffer, seenEOF: true) == nil)
    }

    @Test("the payload is a slice of the received bytes and the next frame starts right after it")
    func backToBackFrames() throws {
        var buffer = ByteBuffer(bytes: frameBytes(.ping(1)) + frameBytes(.pong(2)) + frameBytes(.ping(3)))
        var decoder = FrameDecoder()
        var messages: [WireMessage] = []
        while let frame = try decoder.decode(buffer: &buffer) { messages.append(try WireMessage(decoding: frame)) }
        #expect(messages == [.ping(1), .pong(2), .ping(3)])
    }

    @Test("FrameEncoder refuses frames the receiver would reject")
    func encoderRefusesInvalidFrames() {
        let small = FrameEncoder(maximumFrameLength: 20)
        var out = ByteBufferAllocator().buffer(capacity: 0)
        expectWireError(.frameTooLarge) {
            try small.encode(data: Frame(kind: .request, streamID: 1, payload: ByteBuffer(bytes: Array(repeating: 0, count: 11))), out: &out)
        }
        expectWireError(.malformedFrame) {
            try small.encode(data: Frame(kind: .request, streamID: 0, payload: ByteBuffer(bytes: [])), out: &out)
        }
        expectWireError(.malformedFrame) {
            try small.encode(data: Frame(kind: .ping, flags: 1, payload: ByteBuffer(bytes: be(UInt64(1)))), out: &out)
        }
        #expect(out.readableBytes == 0)
    }

    @Test("WireMessageEncoder refuses oversized frames and bad stream ids and leaves no bytes behind")
    func messageEncoderRefusesInvalidFrames() {
        let small = WireMessageEncoder(maximumFrameLength: 30)
        var out = ByteBufferAllocator().buffer(capacity: 0)
        expectWireError(.frameTooLarge) {
            try small.encode(
                data: .request(streamID: 1, .kvPut(key: "k", value: Array(repeating: 1, count: 50), flags: 0, cas: nil)),
                out: &out)
        }
        expectWireError(.malformedFrame) { try small.encode(data: .request(streamID: 0, .members), out: &out) }
        #expect(out.readableBytes == 0)
    }
}
