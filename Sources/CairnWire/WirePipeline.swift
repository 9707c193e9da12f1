import NIOCore

extension ChannelPipeline.SynchronousOperations {
    /// Adds the handlers every Cairn connection runs after TLS, in order: the preface exchange,
    /// the frame decoder, the protocol-error reporter and the message encoder. Returns the
    /// preface handler, whose `peerPreface` completes once the connection may carry frames.
    public func addCairnWireHandlers(
        side: PrefaceExchange.Side, eventLoop: any EventLoop, maximumFrameLength: Int = Frame.defaultMaximumLength
    ) throws -> PrefaceHandler {
        let preface = PrefaceHandler(side: side, eventLoop: eventLoop)
        try addHandler(preface)
        try addHandler(ByteToMessageHandler(FrameDecoder(maximumFrameLength: maximumFrameLength)))
        try addHandler(WireErrorHandler())
        try addHandler(MessageToByteHandler(WireMessageEncoder(maximumFrameLength: maximumFrameLength)))
        return preface
    }
}
