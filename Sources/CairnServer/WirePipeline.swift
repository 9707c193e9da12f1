import CairnTLS
import CairnWire
import Logging
import NIOCore

/// Assembles the pipeline of every Cairn connection a server makes or accepts: the TLS handlers,
/// the preface exchange, then `application`, which does its own framing (``WireFraming``): it
/// reads the decrypted bytes and writes encoded frames, so a message passes one handler of ours
/// each way instead of a decoder, an error reporter and an encoder as well.
enum WirePipeline {
    static func configure(
        _ channel: any Channel, tls: MutualTLSContext, side: PrefaceExchange.Side, logger: Logger,
        application: any ChannelHandler
    ) throws -> PrefaceHandler {
        let sync = channel.pipeline.syncOperations
        try tls.addHandlers(to: sync, logger: logger)
        let preface = PrefaceHandler(side: side, eventLoop: channel.eventLoop)
        try sync.addHandler(preface)
        try sync.addHandler(application)
        return preface
    }
}
