import NIOCore
import Testing

import CairnWire

private func prefaceBytes(_ preface: Preface) -> [UInt8] {
    var buffer = ByteBufferAllocator().buffer(capacity: 8)
    buffer.writePreface(preface)
    return buffer.bytes
}

@Suite("Preface")
struct PrefaceTests {
    @Test("a preface is CAIRN, version, role, 0")
    func layout() {
        #expect(prefaceBytes(Preface(version: 1, role: .client)) == [0x43, 0x41, 0x49, 0x52, 0x4e, 1, 2, 0])
    }

    @Test("a preface reads back; fewer than 8 bytes read nothing", arguments: Preface.Role.allCases)
    func roundTrip(role: Preface.Role) throws {
        let bytes = prefaceBytes(Preface(role: role))
        for count in 0..<8 {
            var partial = ByteBuffer(bytes: Array(bytes.prefix(count)))
            #expect(try partial.readPreface() == nil)
            #expect(partial.readableBytes == count)
        }
        var buffer = ByteBuffer(bytes: bytes + [0xaa])
        #expect(try buffer.readPreface() == Preface(role: role))
        #expect(buffer.bytes == [0xaa])
    }

    @Test("bytes that are not CAIRN fail with badMagic from the first wrong byte")
    func badMagic() {
        for bytes: [UInt8] in [Array("G".utf8), Array("GET / HTTP/1.1\r\n".utf8), Array("CAIRX".utf8), [0x16, 3, 1], Array("cairn\u{1}\u{2}\u{0}".utf8)] {
            var buffer = ByteBuffer(bytes: bytes)
            expectWireError(.badMagic) { _ = try buffer.readPreface() }
        }
    }

    @Test("an unsupported version fails with unsupportedVersion", arguments: [0, 2, 0xff] as [UInt8])
    func unsupportedVersion(version: UInt8) {
        var buffer = ByteBuffer(bytes: Array("CAIRN".utf8) + [version, 2, 0])
        expectWireError(.unsupportedVersion) { _ = try buffer.readPreface() }
    }

    @Test("an undefined role or a non-zero reserved byte fails with invalidValue")
    func invalidRoleOrReserved() {
        for tail: [UInt8] in [[1, 0, 0], [1, 4, 0], [1, 0xff, 0], [1, 2, 1]] {
            var buffer = ByteBuffer(bytes: Array("CAIRN".utf8) + tail)
            expectWireError(.invalidValue) { _ = try buffer.readPreface() }
        }
    }
}

@Suite("PrefaceExchange")
struct PrefaceExchangeTests {
    @Test("a dialer sends its preface once, on activation")
    func dialerSendsFirst() {
        var exchange = PrefaceExchange(side: .dialer(.client))
        #expect(exchange.activate() == .send(Preface(version: 1, role: .client)))
        #expect(exchange.activate() == PrefaceExchange.Action.nothing)
    }

    @Test("an acceptor waits for 8 bytes, answers with role server and hands on the bytes after the preface")
    func acceptorCompletes() {
        var exchange = PrefaceExchange(side: .acceptor(accepting: [.client]))
        #expect(exchange.activate() == PrefaceExchange.Action.nothing)
        let bytes = prefaceBytes(Preface(role: .client)) + frameBytes(.ping(7))
        #expect(exchange.received(ByteBuffer(bytes: Array(bytes.prefix(3)))) == PrefaceExchange.Action.nothing)
        let action = exchange.received(ByteBuffer(bytes: Array(bytes.dropFirst(3))))
        #expect(
            action
                == .complete(
                    peer: Preface(role: .client), reply: Preface(role: .server), leftover: ByteBuffer(bytes: frameBytes(.ping(7)))))
        #expect(exchange.isFinished)
    }

    @Test("an acceptor refuses a bad preface and reports it to the dialer")
    func acceptorRefuses() {
        let cases: [([UInt8], WireError.Code)] = [
            (Array("HELLO".utf8), .badMagic),
            (Array("CAIRN".utf8) + [9, 2, 0], .unsupportedVersion),
            (prefaceBytes(Preface(role: .peer)), .invalidValue),  // a peer on the client port
            (prefaceBytes(Preface(role: .server)), .invalidValue),  // only dialers send first
        ]
        for (bytes, code) in cases {
            var exchange = PrefaceExchange(side: .acceptor(accepting: [.client]))
            guard case .fail(let error, let notifyPeer) = exchange.received(ByteBuffer(bytes: bytes)) else {
                Issue.record("\(bytes) did not fail")
                continue
            }
            #expect(error.code == code)
            #expect(notifyPeer)
            #expect(exchange.received(ByteBuffer(bytes: [1])) == PrefaceExchange.Action.nothing)
        }
    }

    @Test("a dialer accepts the server's preface of its version")
    func dialerCompletes() {
        var exchange = PrefaceExchange(side: .dialer(.peer))
        _ = exchange.activate()
        #expect(
            exchange.received(ByteBuffer(bytes: prefaceBytes(Preface(role: .server))))
                == .complete(peer: Preface(role: .server), reply: nil, leftover: ByteBuffer(bytes: [])))
    }

    @Test("a dialer refuses an answer that is not a server preface of its version")
    func dialerRefuses() {
        var wrongRole = PrefaceExchange(side: .dialer(.peer))
        _ = wrongRole.activate()
        guard case .fail(let roleError, true) = wrongRole.received(ByteBuffer(bytes: prefaceBytes(Preface(role: .peer)))) else {
            Issue.record("accepted a peer preface as the answer")
            return
        }
        #expect(roleError.code == .invalidValue)

        var wrongVersion = PrefaceExchange(side: .dialer(.client), version: 1, supportedVersions: 1...2)
        _ = wrongVersion.activate()
        guard case .fail(let versionError, true) = wrongVersion.received(ByteBuffer(bytes: prefaceBytes(Preface(version: 2, role: .server)))) else {
            Issue.record("accepted another version")
            return
        }
        #expect(versionError.code == .unsupportedVersion)
    }

    @Test("a dialer reads an error frame in place of the preface and fails with the code reported")
    func dialerReadsRefusal() {
        var exchange = PrefaceExchange(side: .dialer(.client))
        _ = exchange.activate()
        let refusal = frameBytes(.error(streamID: 0, ErrorPayload(code: .unsupportedVersion, reason: "supported: 2...3")))
        #expect(exchange.received(ByteBuffer(bytes: Array(refusal.prefix(10)))) == PrefaceExchange.Action.nothing)
        guard case .fail(let error, let notifyPeer) = exchange.received(ByteBuffer(bytes: Array(refusal.dropFirst(10)))) else {
            Issue.record("the refusal was not reported")
            return
        }
        #expect(error.code == .unsupportedVersion)
        #expect(error.reason.contains("supported: 2...3"))
        #expect(error.file == "remote")
        #expect(!notifyPeer)
    }

    @Test("a dialer refuses any other frame in place of the preface")
    func dialerRefusesOtherFrames() {
        var exchange = PrefaceExchange(side: .dialer(.client))
        _ = exchange.activate()
        guard case .fail(let error, _) = exchange.received(ByteBuffer(bytes: frameBytes(.ping(1)))) else {
            Issue.record("a ping was accepted in place of the preface")
            return
        }
        #expect(error.code == .unexpectedFrame)
    }

    @Test("the connection closing before the preface fails with truncated, once")
    func closedEarly() {
        var exchange = PrefaceExchange(side: .acceptor(accepting: [.peer]))
        _ = exchange.received(ByteBuffer(bytes: Array("CAI".utf8)))
        guard case .fail(let error, false) = exchange.inputClosed() else {
            Issue.record("closing early did not fail")
            return
        }
        #expect(error.code == .truncated)
        #expect(exchange.inputClosed() == PrefaceExchange.Action.nothing)
    }
}

@Suite("ConnectionKind")
struct ConnectionKindTests {
    @Test("peer connections carry Raft and hellos; client connections carry requests one way and responses the other")
    func permittedFrames() {
        let peer = ConnectionKind(dialerRole: .peer)!
        let client = ConnectionKind(dialerRole: .client)!
        #expect(ConnectionKind(dialerRole: .server) == nil)
        for kind in [FrameKind.error, .ping, .pong] {
            for byDialer in [true, false] {
                #expect(peer.permits(kind, sentByDialer: byDialer))
                #expect(client.permits(kind, sentByDialer: byDialer))
            }
        }
        #expect(peer.permits(.raft, sentByDialer: true) && peer.permits(.raft, sentByDialer: false))
        #expect(peer.permits(.peerHello, sentByDialer: false))
        #expect(!client.permits(.raft, sentByDialer: true))
        #expect(!client.permits(.peerHello, sentByDialer: false))
        #expect(client.permits(.request, sentByDialer: true) && !client.permits(.request, sentByDialer: false))
        #expect(client.permits(.response, sentByDialer: false) && !client.permits(.response, sentByDialer: true))
        #expect(!peer.permits(.request, sentByDialer: true))
        expectWireError(.unexpectedFrame) { try client.checkPermitted(.raft, sentByDialer: true) }
    }
}
