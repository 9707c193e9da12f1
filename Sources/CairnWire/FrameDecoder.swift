import NIOCore

/// Splits a byte stream into ``Frame``s, checking each header before its payload is buffered.
///
/// The decoder reads in two states: waiting for a header, then waiting for the payload the header
/// announced. The header is checked as its bytes arrive, so a bad frame fails on its first bytes:
/// the length as soon as its 4 bytes are there (below 10 → ``WireError/Code/malformedFrame``,
/// above ``maximumFrameLength`` → ``WireError/Code/frameTooLarge``, before any payload is
/// buffered), then the kind (``WireError/Code/unknownFrameKind``), the flags (non-zero →
/// ``WireError/Code/malformedFrame``) and the stream id rule of the kind. A stream that ends inside
/// a frame fails with ``WireError/Code/truncated`` in `decodeLast`.
///
/// The payload is a slice of the received bytes, not a copy. Use it in a pipeline as
/// `ByteToMessageHandler(FrameDecoder())`, after the ``PrefaceHandler``.
public struct FrameDecoder: NIOSingleStepByteToMessageDecoder {
    /// Decoded frames, their payloads still encoded.
    public typealias InboundOut = Frame

    /// A header read, its payload not yet complete.
    private struct Header {
        var kind: FrameKind
        var streamID: UInt64
        var payloadLength: Int
    }

    private enum ReadState {
        case waitingForHeader
        case waitingForPayload(Header)
    }

    /// The largest length field accepted.
    public let maximumFrameLength: Int
    private var state: ReadState = .waitingForHeader

    /// Creates a decoder accepting length fields up to `maximumFrameLength` bytes (at least 10, at
    /// most `UInt32.max`).
    public init(maximumFrameLength: Int = Frame.defaultMaximumLength) {
        precondition(
            maximumFrameLength >= Frame.lengthCoveredHeaderSize && UInt64(maximumFrameLength) <= UInt64(UInt32.max),
            "maximumFrameLength must be in 10...UInt32.max")
        self.maximumFrameLength = maximumFrameLength
    }

    /// Returns the next frame, or nil until all its bytes have arrived.
    public mutating func decode(buffer: inout ByteBuffer) throws(WireError) -> Frame? {
        let header: Header
        switch state {
        case .waitingForHeader:
            guard let read = try readHeader(&buffer) else { return nil }
            header = read
        case .waitingForPayload(let pending):
            header = pending
        }
        guard let payload = buffer.readSlice(length: header.payloadLength) else {
            state = .waitingForPayload(header)
            return nil
        }
        state = .waitingForHeader
        return Frame(kind: header.kind, streamID: header.streamID, payload: payload)
    }

    /// Returns the frames still complete in `buffer`; fails with ``WireError/Code/truncated`` when
    /// the stream ended inside a frame.
    public mutating func decodeLast(buffer: inout ByteBuffer, seenEOF: Bool) throws(WireError) -> Frame? {
        if let frame = try decode(buffer: &buffer) { return frame }
        switch state {
        case .waitingForHeader where buffer.readableBytes > 0:
            let partial = buffer.readableBytes
            buffer.moveReaderIndex(forwardBy: partial)
            throw WireError(
                .truncated, "the stream ended inside a frame header: \(partial) of \(Frame.headerSize) bytes arrived")
        case .waitingForPayload(let header):
            let partial = buffer.readableBytes
            buffer.moveReaderIndex(forwardBy: partial)
            state = .waitingForHeader
            throw WireError(
                .truncated,
                "the stream ended inside a \(header.kind) frame (stream \(header.streamID)): \(partial) of \(header.payloadLength) payload bytes arrived")
        case .waitingForHeader:
            return nil
        }
    }

    /// Checks the header bytes available so far; reads the header once all 14 bytes are there.
    private func readHeader(_ buffer: inout ByteBuffer) throws(WireError) -> Header? {
        let start = buffer.readerIndex
        guard let length = buffer.getInteger(at: start, as: UInt32.self) else { return nil }
        guard length >= Frame.lengthCoveredHeaderSize else {
            throw WireError(
                .malformedFrame, "frame length \(length) is below the \(Frame.lengthCoveredHeaderSize) header bytes it must cover")
        }
        guard UInt64(length) <= UInt64(maximumFrameLength) else {
            throw WireError(.frameTooLarge, "frame length \(length) exceeds the limit of \(maximumFrameLength) bytes")
        }
        guard let kindByte = buffer.getInteger(at: start + 4, as: UInt8.self) else { return nil }
        guard let kind = FrameKind(rawValue: kindByte) else {
            throw WireError(.unknownFrameKind, "frame kind \(kindByte) is not defined (1...7)")
        }
        guard let flags = buffer.getInteger(at: start + 5, as: UInt8.self) else { return nil }
        guard flags == 0 else {
            throw WireError(.malformedFrame, "\(kind) frame has reserved flag bits set: 0x\(String(flags, radix: 16))")
        }
        guard let streamID = buffer.getInteger(at: start + 6, as: UInt64.self) else { return nil }
        try kind.checkStreamID(streamID)
        buffer.moveReaderIndex(forwardBy: Frame.headerSize)
        return Header(kind: kind, streamID: streamID, payloadLength: Int(length) - Frame.lengthCoveredHeaderSize)
    }
}
