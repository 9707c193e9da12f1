import CairnRaft
import NIOCore
import NIOEmbedded
import Testing

import CairnWire

/// A connection's pipeline as the transport assembles it (without TLS).
private func makeChannel(side: PrefaceExchange.Side) throws -> (EmbeddedChannel, PrefaceHandler) {
    let channel = EmbeddedChannel()
    let preface = PrefaceHandler(side: side, eventLoop: channel.eventLoop)
    try channel.pipeline.syncOperations.addHandlers([
        preface,
        ByteToMessageHandler(FrameDecoder()),
        WireErrorHandler(),
        MessageToByteHandler(WireMessageEncoder()),
    ])
    return (channel, preface)
}

private func prefaceBytes(_ preface: Preface) -> [UInt8] {
    var buffer = ByteBufferAllocator().buffer(capacity: 8)
    buffer.writePreface(preface)
    return buffer.bytes
}

/// Everything written to the transport so far, concatenated.
private func outbound(_ channel: EmbeddedChannel) throws -> [UInt8] {
    var bytes: [UInt8] = []
    while let buffer = try channel.readOutbound(as: ByteBuffer.self) { bytes += buffer.bytes }
    return bytes
}

/// The result of a future of the embedded event loop, which completes futures synchronously.
private final class Outcome<Value>: @unchecked Sendable {
    var result: Result<Value, any Error>?

    init(_ future: EventLoopFuture<Value>) {
        future.whenComplete { self.result = $0 }
    }

    var value: Value? { try? result?.get() }
}

/// Expects the future to have failed with a WireError of `code`.
private func expectFailed(_ future: EventLoopFuture<Preface>, _ code: WireError.Code, sourceLocation: SourceLocation = #_sourceLocation) {
    let outcome = Outcome(future)
    guard case .failure(let error) = outcome.result else {
        Issue.record("the exchange did not fail: \(String(describing: outcome.result))", sourceLocation: sourceLocation)
        return
    }
    #expect((error as? WireError)?.code == code, "got \(error)", sourceLocation: sourceLocation)
}

@Suite("Pipeline")
struct PipelineTests {
    @Test("an acceptor answers the preface, removes its preface handler and decodes the frames that came with it")
    func acceptorHappyPath() throws {
        let (channel, handler) = try makeChannel(side: .acceptor(accepting: [.client]))
        let peer = Outcome(handler.peerPreface)
        let request = WireMessage.request(streamID: 9, .kvGet(key: "a", consistency: .linearizable))
        try channel.writeInbound(ByteBuffer(bytes: prefaceBytes(Preface(role: .client)) + frameBytes(request)))

        #expect(peer.value == Preface(role: .client))
        #expect(try outbound(channel) == prefaceBytes(Preface(role: .server)))
        let frame = try #require(try channel.readInbound(as: Frame.self))
        #expect(try WireMessage(decoding: frame) == request)
        #expect(throws: (any Error).self) { try channel.pipeline.syncOperations.context(handlerType: PrefaceHandler.self) }

        // After the exchange frames flow both ways.
        try channel.writeOutbound(WireMessage.response(streamID: 9, .kvGet(nil, sampleReadMeta)))
        #expect(try outbound(channel) == frameBytes(.response(streamID: 9, .kvGet(nil, sampleReadMeta))))
        try channel.writeInbound(ByteBuffer(bytes: frameBytes(.ping(3))))
        #expect(try channel.readInbound(as: Frame.self)?.kind == .ping)
        #expect(try channel.finish().isClean)
    }

    @Test("bytes trickling in one at a time complete the exchange and the frame")
    func acceptorDripFed() throws {
        let (channel, _) = try makeChannel(side: .acceptor(accepting: [.peer]))
        let hello = WireMessage.peerHello(
            PeerHello(id: 1, name: "n", datacenter: "dc1", peerAddress: "a", clientAddress: "b", bootstrapExpect: 3, hasState: false))
        for byte in prefaceBytes(Preface(role: .peer)) + frameBytes(hello) {
            try channel.writeInbound(ByteBuffer(bytes: [byte]))
        }
        #expect(try outbound(channel) == prefaceBytes(Preface(role: .server)))
        #expect(try WireMessage(decoding: try #require(try channel.readInbound(as: Frame.self))) == hello)
        _ = try channel.finish()
    }

    @Test("an acceptor refuses a bad preface with an error frame and closes", arguments: [
        (Array("GET / HTTP/1.1\r\n".utf8), WireError.Code.badMagic),
        (Array("CAIRN".utf8) + [2, 2, 0], .unsupportedVersion),
        (Array("CAIRN".utf8) + [1, 1, 0], .invalidValue),
    ] as [([UInt8], WireError.Code)])
    func acceptorRefuses(bytes: [UInt8], code: WireError.Code) throws {
        let (channel, handler) = try makeChannel(side: .acceptor(accepting: [.client]))
        try channel.writeInbound(ByteBuffer(bytes: bytes))
        expectFailed(handler.peerPreface, code)
        let reply = try outbound(channel)
        guard case .error(0, let payload) = try decodeMessage(reply) else {
            Issue.record("no error frame was sent")
            return
        }
        #expect(payload.code == code)
        #expect(!channel.isActive)
    }

    @Test("a dialer sends its preface on connect and completes on the server's")
    func dialerHappyPath() throws {
        let (channel, handler) = try makeChannel(side: .dialer(.client))
        try channel.connect(to: SocketAddress(ipAddress: "127.0.0.1", port: 1)).wait()
        #expect(try outbound(channel) == prefaceBytes(Preface(role: .client)))
        let peer = Outcome(handler.peerPreface)
        try channel.writeInbound(ByteBuffer(bytes: prefaceBytes(Preface(role: .server))))
        #expect(peer.value == Preface(role: .server))
        try channel.writeOutbound(WireMessage.request(streamID: 1, .members))
        #expect(try outbound(channel) == frameBytes(.request(streamID: 1, .members)))
        _ = try channel.finish()
    }

    @Test("a dialer refused with an error frame fails with the server's code and closes without answering")
    func dialerRefused() throws {
        let (channel, handler) = try makeChannel(side: .dialer(.peer))
        try channel.connect(to: SocketAddress(ipAddress: "127.0.0.1", port: 1)).wait()
        _ = try outbound(channel)
        try channel.writeInbound(ByteBuffer(bytes: frameBytes(.error(streamID: 0, ErrorPayload(code: .badMagic, reason: "x")))))
        expectFailed(handler.peerPreface, .badMagic)
        #expect(try outbound(channel).isEmpty)
        #expect(!channel.isActive)
    }

    @Test("the connection closing before the preface fails the exchange with truncated")
    func closedBeforePreface() throws {
        let (channel, handler) = try makeChannel(side: .acceptor(accepting: [.client]))
        try channel.writeInbound(ByteBuffer(bytes: Array("CAIR".utf8)))
        _ = try? channel.finish()
        expectFailed(handler.peerPreface, .truncated)
    }

    @Test("a frame error after the preface is reported to the peer in an error frame and closes the connection")
    func frameErrorReported() throws {
        let (channel, _) = try makeChannel(side: .acceptor(accepting: [.client]))
        try channel.writeInbound(ByteBuffer(bytes: prefaceBytes(Preface(role: .client))))
        _ = try outbound(channel)
        expectWireError(.frameTooLarge) {
            try channel.writeInbound(ByteBuffer(bytes: be(UInt32(Frame.defaultMaximumLength + 1))))
        }
        guard case .error(0, let payload) = try decodeMessage(try outbound(channel)) else {
            Issue.record("no error frame was sent")
            return
        }
        #expect(payload.code == .frameTooLarge)
        #expect(payload.reason.contains("16777216"))
        #expect(!channel.isActive)
    }

    @Test("the stream ending inside a frame raises truncated")
    func truncatedAtEOF() throws {
        let (channel, _) = try makeChannel(side: .acceptor(accepting: [.client]))
        try channel.writeInbound(ByteBuffer(bytes: prefaceBytes(Preface(role: .client)) + frameBytes(.ping(1)).prefix(17)))
        expectWireError(.truncated) { _ = try channel.finish() }
    }
}
