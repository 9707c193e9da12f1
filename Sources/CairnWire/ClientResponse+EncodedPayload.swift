import NIOCore

extension ClientResponse {
    /// This response's payload, encoded once into a buffer of its own: what
    /// ``WireMessage/encodedResponse(streamID:payload:)`` sends, on as many streams as needed,
    /// without running the encoder again. The bytes are exactly those
    /// ``WireMessage/response(streamID:_:)`` would put after the frame header.
    public func encodedPayload(allocator: ByteBufferAllocator = ByteBufferAllocator()) -> ByteBuffer {
        var buffer = allocator.buffer(capacity: 256)
        buffer.writeClientResponse(self)
        return buffer
    }
}
