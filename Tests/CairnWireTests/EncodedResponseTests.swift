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
}
