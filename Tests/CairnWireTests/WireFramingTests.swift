import CairnRaft
import NIOCore
import Testing

@testable import CairnWire

/// The framing the server and client handlers run themselves: the same frames as the standard
/// decoder whatever the read boundaries, the same errors; and the encoder's buffer-of-its-own
/// form they write with.
@Suite("WireFraming")
struct WireFramingTests {
    /// Every golden message, encoded back to back.
    static func goldenStream() throws -> (bytes: [UInt8], frames: [Frame]) {
        var bytes: [UInt8] = []
        var frames: [Frame] = []
        for vector in GoldenVector.all {
            guard case .message = vector.value else { continue }
            bytes += vector.encoded
            frames += try decodeFrames(vector.encoded)
        }
        return (bytes, frames)
    }

    /// Feeds `bytes` in reads of `chunk` bytes and takes every frame as it completes.
    static func read(_ bytes: [UInt8], chunk: Int) throws(WireError) -> (frames: [Frame], left: Int) {
        var framing = WireFraming()
        var frames: [Frame] = []
        var offset = 0
        while offset < bytes.count {
            let end = min(bytes.count, offset + chunk)
            framing.append(ByteBuffer(bytes: Array(bytes[offset..<end])))
            offset = end
            while let frame = try framing.next() { frames.append(frame) }
        }
        return (frames, framing.bufferedBytes)
    }

    @Test("every golden frame comes out whole and in order, read in one piece, byte by byte, or in odd chunks",
          arguments: [Int.max, 1, 3, 13, 14, 15, 64, 1000])
    func splitAnywhere(chunk: Int) throws {
        let (bytes, expected) = try Self.goldenStream()
        #expect(expected.count == GoldenVector.all.count - 3)
        let (frames, left) = try Self.read(bytes, chunk: min(chunk, bytes.count))
        #expect(frames == expected)
        #expect(left == 0)
    }

    @Test("bytes of a frame still incomplete are held, and counted")
    func holdsPartialFrame() throws {
        let whole = frame(kind: .ping, payload: be(UInt64(7)))
        let (frames, left) = try Self.read(whole + Array(whole.prefix(5)), chunk: whole.count + 5)
        #expect(frames.count == 1)
        #expect(left == 5)
    }

    @Test("a connection that always has a frame in progress does not keep the bytes it has taken")
    func dropsTakenBytes() throws {
        var framing = WireFraming()
        let whole = frame(kind: .ping, payload: be(UInt64(7)))
        // Each read completes the frame before and starts the next: one frame is always partial.
        framing.append(ByteBuffer(bytes: Array(whole.prefix(10))))
        var taken = 0
        for _ in 0..<10_000 {
            framing.append(ByteBuffer(bytes: Array(whole.suffix(whole.count - 10)) + Array(whole.prefix(10))))
            while try framing.next() != nil { taken += 1 }
            #expect(framing.bufferedBytes < 64)
            #expect(framing.bufferCapacity < 1024, "the buffer keeps the bytes already taken")
        }
        #expect(taken == 10_000)
    }

    @Test("a frame header announcing more than the limit fails before its payload arrives")
    func tooLarge() {
        var framing = WireFraming(maximumFrameLength: 1024)
        framing.append(ByteBuffer(bytes: header(length: 1025, kind: FrameKind.request.rawValue, streamID: 1)))
        expectWireError(.frameTooLarge) { _ = try framing.next() }
    }

    @Test("an undefined frame kind, reserved flags and a length below the header fail with their codes")
    func badHeaders() {
        for (bytes, code) in [
            (header(length: 10, kind: 99), WireError.Code.unknownFrameKind),
            (header(length: 10, kind: FrameKind.ping.rawValue, flags: 1), .malformedFrame),
            (be(UInt32(9)) + [1], .malformedFrame),
        ] {
            var framing = WireFraming()
            framing.append(ByteBuffer(bytes: bytes))
            expectWireError(code) { _ = try framing.next() }
        }
    }

    @Test("the encoder's buffer of its own holds the bytes writeWireMessage gives, for every golden message")
    func encodes() throws {
        let encoder = WireMessageEncoder()
        for vector in GoldenVector.all {
            guard case .message(let message) = vector.value else { continue }
            #expect(try encoder.encoded(message, allocator: ByteBufferAllocator()).bytes == vector.encoded, "\(vector.name)")
        }
    }

    @Test("the encoder refuses a frame above the limit and a stream id against its kind's rule")
    func encodeRefuses() {
        let encoder = WireMessageEncoder(maximumFrameLength: 64)
        let large = WireMessage.response(streamID: 1, .error(.internalError, message: String(repeating: "x", count: 100)))
        expectWireError(.frameTooLarge) { _ = try encoder.encoded(large, allocator: ByteBufferAllocator()) }
        expectWireError(.malformedFrame) { _ = try encoder.encoded(.response(streamID: 0, .applied(index: 1)), allocator: ByteBufferAllocator()) }
    }

    @Test("pre-encoded response frames pass the encoder as they are, and are checked")
    func responseFrames() throws {
        let encoder = WireMessageEncoder()
        let frames = ByteBuffer(bytes: frame(kind: .response, streamID: 4, payload: [0, 1]))
        let out = try encoder.encoded(.responseFrames(frames), allocator: ByteBufferAllocator())
        #expect(out == frames)
        let notResponse = ByteBuffer(bytes: frame(kind: .ping, payload: be(UInt64(1))))
        expectWireError(.malformedFrame) { _ = try encoder.encoded(.responseFrames(notResponse), allocator: ByteBufferAllocator()) }
    }

    @Test("the error frame carries the code and reason")
    func errorFrame() throws {
        let bytes = WireFraming.errorFrame(WireError(.unexpectedFrame, "no"), allocator: ByteBufferAllocator()).bytes
        guard case .error(let stream, let payload) = try decodeMessage(bytes) else {
            Issue.record("not an error frame")
            return
        }
        #expect(stream == 0)
        #expect(payload.code == .unexpectedFrame)
        #expect(payload.reason == "no")
    }
}
