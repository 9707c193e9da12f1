import CairnRaft
import NIOCore
import Testing

import CairnWire

/// Expects `body` to throw a ``WireError`` with `code`.
func expectWireError(
    _ code: WireError.Code, sourceLocation: SourceLocation = #_sourceLocation, _ body: () throws -> Void
) {
    do {
        try body()
        Issue.record("expected WireError.\(code), nothing was thrown", sourceLocation: sourceLocation)
    } catch let error as WireError {
        #expect(error.code == code, "got \(error)", sourceLocation: sourceLocation)
        #expect(!error.reason.isEmpty, "the error gives no reason", sourceLocation: sourceLocation)
    } catch {
        Issue.record("expected WireError.\(code), got \(error)", sourceLocation: sourceLocation)
    }
}

extension ByteBuffer {
    init(bytes: [UInt8]) {
        self = ByteBufferAllocator().buffer(capacity: bytes.count)
        writeBytes(bytes)
    }

    var bytes: [UInt8] { Array(readableBytesView) }
}

/// Encodes `message` as a frame.
func frameBytes(_ message: WireMessage) -> [UInt8] {
    var buffer = ByteBufferAllocator().buffer(capacity: 64)
    buffer.writeWireMessage(message)
    return buffer.bytes
}

/// Splits complete frame bytes into frames with a fresh decoder; fails the test on leftovers.
func decodeFrames(_ bytes: [UInt8], sourceLocation: SourceLocation = #_sourceLocation) throws -> [Frame] {
    var decoder = FrameDecoder()
    var buffer = ByteBuffer(bytes: bytes)
    var frames: [Frame] = []
    while let frame = try decoder.decodeLast(buffer: &buffer, seenEOF: true) { frames.append(frame) }
    return frames
}

/// Decodes exactly one frame and its message.
func decodeMessage(_ bytes: [UInt8]) throws -> WireMessage {
    let frames = try decodeFrames(bytes)
    guard frames.count == 1 else { throw WireError(.malformedFrame, "expected 1 frame, got \(frames.count)") }
    return try WireMessage(decoding: frames[0])
}

/// The payload of the encoding of `message`.
func payloadBytes(_ message: WireMessage) -> [UInt8] {
    Array(frameBytes(message).dropFirst(Frame.headerSize))
}

func bytesOf(_ string: String) -> [UInt8] { Array(string.utf8) }

/// Big-endian bytes of an integer.
func be<T: FixedWidthInteger>(_ value: T) -> [UInt8] {
    withUnsafeBytes(of: value.bigEndian) { Array($0) }
}

/// A frame header.
func header(length: UInt32, kind: UInt8, flags: UInt8 = 0, streamID: UInt64 = 0) -> [UInt8] {
    be(length) + [kind, flags] + be(streamID)
}

/// A complete frame around `payload`.
func frame(kind: FrameKind, streamID: UInt64 = 0, payload: [UInt8]) -> [UInt8] {
    header(length: UInt32(10 + payload.count), kind: kind.rawValue, streamID: streamID) + payload
}

/// Parses a vector file: `#` lines are comments, the rest is hex with any whitespace.
func parseHex(_ text: String) throws -> [UInt8] {
    var digits: [UInt8] = []
    for line in text.split(separator: "\n", omittingEmptySubsequences: false) where !line.hasPrefix("#") {
        for character in line.unicodeScalars where !character.properties.isWhitespace {
            guard let value = UInt8(String(character), radix: 16) else {
                throw WireError(.invalidValue, "not a hex digit: \(character)")
            }
            digits.append(value)
        }
    }
    guard digits.count % 2 == 0 else { throw WireError(.invalidValue, "odd number of hex digits") }
    return stride(from: 0, to: digits.count, by: 2).map { digits[$0] << 4 | digits[$0 + 1] }
}

/// Formats bytes as vector hex: 16 space-separated bytes per line.
func formatHex(_ bytes: [UInt8]) -> String {
    stride(from: 0, to: bytes.count, by: 16).map { start in
        bytes[start..<min(start + 16, bytes.count)].map { byte in
            let digits = String(byte, radix: 16)
            return digits.count == 1 ? "0" + digits : digits
        }.joined(separator: " ")
    }.joined(separator: "\n")
}

/// Read metadata for tests that need one: a leader's answer at index 12.
let sampleReadMeta = ReadMeta(index: 12, knownLeader: true, lastContactMilliseconds: 0)

/// The encoding of a `string` field.
func stringField(_ value: String) -> [UInt8] { be(UInt32(value.utf8.count)) + Array(value.utf8) }

/// The encoding of a `readMeta`.
func readMetaBytes(_ meta: ReadMeta) -> [UInt8] {
    be(meta.index) + [meta.knownLeader ? 1 : 0] + be(meta.lastContactMilliseconds)
}

extension ByteBuffer {
    /// Decodes the readable bytes as a client request without moving this buffer's reader index.
    func getClientRequest() throws -> ClientRequest {
        var copy = self
        return try copy.readClientRequest()
    }

    /// Decodes the readable bytes as a client response without moving this buffer's reader index.
    func getClientResponse() throws -> ClientResponse {
        var copy = self
        return try copy.readClientResponse()
    }
}
