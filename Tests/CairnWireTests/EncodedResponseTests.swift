import NIOCore
import Testing

import CairnWire

@Suite("Already encoded responses")
struct EncodedResponseTests {
    static let response = ClientResponse.watchEvent(
        WatchEvent(index: 42, payload: .keys([KVChange(key: "app/a", entry: nil)], snapshot: false)))

    /// Encodes `message` with a `WireMessageEncoder`.
    static func encode(_ message: WireMessage, maximumFrameLength: Int = Frame.defaultMaximumLength) throws -> ByteBuffer {
        var out = ByteBufferAllocator().buffer(capacity: 0)
        try WireMessageEncoder(maximumFrameLength: maximumFrameLength).encode(data: message, out: &out)
        return out
    }

    @Test func anEncodedResponseIsTheSameFrameAsTheResponseItEncodes() throws {
        let payload = Self.response.encodedPayload()
        let message = WireMessage.encodedResponse(streamID: 7, payload: payload)
        #expect(message.kind == .response)
        #expect(message.streamID == 7)
        #expect(payload.bytes == payloadBytes(.response(streamID: 7, Self.response)))

        let encoded = try Self.encode(message)
        #expect(encoded.bytes == frameBytes(.response(streamID: 7, Self.response)))
        #expect(try Self.encode(.response(streamID: 7, Self.response)).bytes == encoded.bytes)
    }

    @Test func theDecoderReadsItBackAsAPlainResponse() throws {
        let encoded = try Self.encode(.encodedResponse(streamID: 3, payload: Self.response.encodedPayload()))
        #expect(try decodeMessage(encoded.bytes) == .response(streamID: 3, Self.response))
    }

    @Test func onePayloadIsWrittenOnManyStreamsUnchanged() throws {
        let payload = Self.response.encodedPayload()
        let before = payload.bytes
        for streamID in UInt64(1)...5 {
            let encoded = try Self.encode(.encodedResponse(streamID: streamID, payload: payload))
            #expect(try decodeMessage(encoded.bytes) == .response(streamID: streamID, Self.response))
        }
        #expect(payload.bytes == before)
    }

    @Test func theFrameSizeLimitAndTheStreamRuleStillApply() throws {
        let payload = Self.response.encodedPayload()
        let exact = Frame.lengthCoveredHeaderSize + payload.readableBytes
        #expect(try Self.encode(.encodedResponse(streamID: 1, payload: payload), maximumFrameLength: exact).readableBytes
                == Frame.headerSize + payload.readableBytes)

        var out = ByteBufferAllocator().buffer(capacity: 0)
        out.writeBytes([9, 9])
        expectWireError(.frameTooLarge) {
            try WireMessageEncoder(maximumFrameLength: exact - 1)
                .encode(data: .encodedResponse(streamID: 1, payload: payload), out: &out)
        }
        expectWireError(.malformedFrame) {
            try WireMessageEncoder().encode(data: .encodedResponse(streamID: 0, payload: payload), out: &out)
        }
        #expect(out.bytes == [9, 9]) // nothing left behind
    }

    /// Frames written back to back, as a watch writer builds a ``WireMessage/responseFrames(_:)``.
    static func frames(_ messages: [WireMessage]) -> ByteBuffer {
        var buffer = ByteBufferAllocator().buffer(capacity: 0)
        for message in messages { buffer.writeWireMessage(message) }
        return buffer
    }

    @Test func responseFramesAreSentAsTheyAreAndReadBackOneByOne() throws {
        let messages: [WireMessage] = [
            .encodedResponse(streamID: 1, payload: Self.response.encodedPayload()),
            .response(streamID: 2, .error(.watchTooSlow, message: "slow")),
            .response(streamID: 1, Self.response),
        ]
        let frames = Self.frames(messages)
        let message = WireMessage.responseFrames(frames)
        #expect(message.kind == .response)
        #expect(message.streamID == 0)

        let encoded = try Self.encode(message)
        #expect(encoded.bytes == frames.bytes)
        var input = encoded
        var decoder = FrameDecoder()
        var decoded: [WireMessage] = []
        while let frame = try decoder.decode(buffer: &input) { decoded.append(try WireMessage(decoding: frame)) }
        #expect(decoded == [.response(streamID: 1, Self.response), .response(streamID: 2, .error(.watchTooSlow, message: "slow")),
                            .response(streamID: 1, Self.response)])
    }

    @Test func responseFramesThatBreakAFrameRuleAreRefusedWithoutWritingAnything() throws {
        let good = Self.frames([.response(streamID: 1, Self.response)])
        let exact = Frame.lengthCoveredHeaderSize + Self.response.encodedPayload().readableBytes
        #expect(try Self.encode(.responseFrames(good), maximumFrameLength: exact).bytes == good.bytes)

        var truncated = good
        truncated.moveWriterIndex(to: good.writerIndex - 1)
        var shortHeader = good
        shortHeader.moveWriterIndex(to: good.readerIndex + Frame.headerSize - 1)
        var tooShortLength = good
        tooShortLength.setInteger(UInt32(Frame.lengthCoveredHeaderSize - 1), at: good.readerIndex)
        let cases: [(String, ByteBuffer, WireError.Code, Int)] = [
            ("a frame cut short", Self.frames([.response(streamID: 2, Self.response)]) + truncated, .malformedFrame, Frame.defaultMaximumLength),
            ("half a header", shortHeader, .malformedFrame, Frame.defaultMaximumLength),
            ("a length below the header's", tooShortLength, .malformedFrame, Frame.defaultMaximumLength),
            ("a frame of another kind", good + Self.frames([.ping(1)]), .malformedFrame, Frame.defaultMaximumLength),
            ("a response on stream 0", Self.frames([.response(streamID: 0, Self.response)]), .malformedFrame, Frame.defaultMaximumLength),
            ("a frame over the limit", good, .frameTooLarge, exact - 1),
        ]
        for (name, frames, code, limit) in cases {
            var out = ByteBufferAllocator().buffer(capacity: 0)
            out.writeBytes([9, 9])
            expectWireError(code) {
                try WireMessageEncoder(maximumFrameLength: limit).encode(data: .responseFrames(frames), out: &out)
            }
            #expect(out.bytes == [9, 9], "\(name): nothing written")
        }
    }
}

private func + (lhs: ByteBuffer, rhs: ByteBuffer) -> ByteBuffer {
    var joined = lhs
    var tail = rhs
    joined.writeBuffer(&tail)
    return joined
}
