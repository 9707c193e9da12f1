import CairnTLS
import CairnWire
import Logging
import NIOCore

/// Assembles the pipeline every Cairn connection uses, after the TLS handlers:
/// preface exchange, frame decoder, protocol-error reporter, message encoder, then `application`.
enum WirePipeline {
    static func configure(
        _ channel: any Channel, tls: MutualTLSContext, side: PrefaceExchange.Side, logger: Logger,
        maximumFrameLength: Int = Frame.defaultMaximumLength, application: any ChannelHandler
    ) throws -> PrefaceHandler {
        let sync = channel.pipeline.syncOperations
        try tls.addHandlers(to: sync, logger: logger)
        let preface = try sync.addCairnWireHandlers(side: side, eventLoop: channel.eventLoop, maximumFrameLength: maximumFrameLength)
        try sync.addHandler(application)
        return preface
    }
}

/// Sends a protocol error to the other side and closes the connection.
func closeWithError(_ channel: any Channel, _ error: WireError) {
    channel.writeAndFlush(WireMessage.error(streamID: 0, ErrorPayload(error))).whenComplete { _ in
        channel.close(promise: nil)
    }
}
