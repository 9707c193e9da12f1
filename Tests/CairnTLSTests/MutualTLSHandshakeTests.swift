import CairnTLS
import Foundation
import NIOCore
import NIOPosix
import NIOSSL
import Testing

/// Real handshakes over loopback: Cairn's listeners and dialers, NIOPosix bootstraps, 127.0.0.1.
@Suite("Mutual TLS handshakes over loopback")
struct MutualTLSHandshakeTests {
    let pki: TestPKI

    init() throws {
        self.pki = try TestPKI()
    }

    /// Runs one connection and returns both sides' outcomes and logs.
    private func connect(
        listener: MutualTLSContext,
        dialer: MutualTLSContext
    ) async throws -> (listener: SideOutcome, dialer: SideOutcome, listenerLog: CapturedLog, dialerLog: CapturedLog) {
        let listenerLog = CapturedLog()
        let dialerLog = CapturedLog()
        let server = try await TestListener.start(listener, log: listenerLog)
        let dialed = try await TestDialer.dial(dialer, port: server.port, log: dialerLog)
        let accepted = try await server.result()
        await server.stop()
        return (accepted, dialed, listenerLog, dialerLog)
    }

    private func rawRefusal(
        listener: MutualTLSContext,
        configuration: TLSConfiguration
    ) async throws -> (listener: SideOutcome, dialer: SideOutcome, listenerLog: CapturedLog) {
        let log = CapturedLog()
        let server = try await TestListener.start(listener, log: log)
        let dialed = try await TestDialer.dialRaw(configuration, serverHostname: "server.dc1.cairn", port: server.port)
        let accepted = try await server.result()
        await server.stop()
        return (accepted, dialed, log)
    }

    /// A bare client trusting this cluster's CA, presenting `certificate` (or nothing).
    private func rawClient(presenting issued: IssuedCertificate?) throws -> TLSConfiguration {
        var configuration = TLSConfiguration.makeClientConfiguration()
        configuration.trustRoots = .certificates([try NIOSSLCertificate(bytes: Array(pki.authority.certificatePEM.utf8), format: .pem)])
        configuration.minimumTLSVersion = .tlsv12
        if let issued {
            configuration.certificateChain = [.certificate(try NIOSSLCertificate(bytes: Array(issued.certificatePEM.utf8), format: .pem))]
            configuration.privateKey = .privateKey(try NIOSSLPrivateKey(bytes: Array(issued.privateKeyPEM.utf8), format: .pem))
        }
        return configuration
    }

    private func expectRefused(
        _ outcome: SideOutcome,
        _ code: CairnTLSError,
        prefix: String,
        sourceLocation: SourceLocation = #_sourceLocation
    ) {
        guard let error = outcome.error else {
            Issue.record("expected \(code.code), got \(outcome)", sourceLocation: sourceLocation)
            return
        }
        #expect(error == code, "\(error)", sourceLocation: sourceLocation)
        #expect(error.reason.hasPrefix(prefix), "\(error.reason)", sourceLocation: sourceLocation)
    }

    private func expectLogged(_ log: CapturedLog, _ fragment: String, sourceLocation: SourceLocation = #_sourceLocation) {
        #expect(log.warnings.count == 1, "\(log.warnings)", sourceLocation: sourceLocation)
        #expect(log.warnings.contains { $0.contains(fragment) }, "\(log.warnings) should mention \(fragment)", sourceLocation: sourceLocation)
    }

    // MARK: Success

    @Test("two dc1 servers establish mutual TLS over TLS 1.3 and learn who the other is")
    func peersConnect() async throws {
        let result = try await connect(
            listener: .peerListener(identity: pki.identity(.server)),
            dialer: .peerDialer(identity: pki.identity(.server))
        )
        let listenerSaw = try #require(result.listener.authenticated, "\(result.listener)")
        let dialerSaw = try #require(result.dialer.authenticated, "\(result.dialer)")
        #expect(listenerSaw.tlsVersion == .tlsv13)
        #expect(dialerSaw.tlsVersion == .tlsv13)
        #expect(listenerSaw.peer.role?.kind == .server)
        #expect(listenerSaw.peer.role?.datacenter == "dc1")
        #expect(dialerSaw.peer.role?.kind == .server)
        #expect(result.listenerLog.warnings.isEmpty && result.dialerLog.warnings.isEmpty)
    }

    @Test("server, client and CLI certificates are all accepted by the client listener", arguments: CertificateKind.allCases)
    func clientListenerAcceptsEveryKind(kind: CertificateKind) async throws {
        let result = try await connect(
            listener: .clientListener(identity: pki.identity(.server)),
            dialer: .clientDialer(identity: pki.identity(kind))
        )
        #expect(result.listener.authenticated?.peer.role?.kind == kind, "\(result.listener)")
        #expect(result.dialer.authenticated?.peer.role?.kind == .server, "\(result.dialer)")
    }

    // MARK: Refusals, each seen on both sides

    @Test("no client certificate: refused, and both sides say so")
    func noClientCertificate() async throws {
        let result = try await rawRefusal(listener: .peerListener(identity: pki.identity(.server)), configuration: rawClient(presenting: nil))
        expectRefused(result.listener, .noPeerCertificate, prefix: "no client certificate")
        expectRefused(result.dialer, .noPeerCertificate, prefix: "no client certificate: the server requires one")
        expectLogged(result.listenerLog, "no client certificate")
    }

    @Test("a client certificate from another CA: unknown CA on the listener, a refusal on the client")
    func foreignCA() async throws {
        let foreign = try TestPKI().issue(.server)
        let result = try await rawRefusal(listener: .peerListener(identity: pki.identity(.server)), configuration: rawClient(presenting: foreign))
        expectRefused(result.listener, .unknownCA, prefix: "certificate signed by an unknown CA")
        expectRefused(result.dialer, .rejectedByPeer, prefix: "rejected by the remote: the server refused this side's certificate (TLS alert: certificate unknown)")
        expectLogged(result.listenerLog, "certificate signed by an unknown CA")
    }

    @Test("an expired client certificate: certificate expired on the listener, a refusal on the client")
    func expiredClient() async throws {
        let past = try CertificateValidity(notBefore: Date().addingTimeInterval(-10 * 86_400), notAfter: Date().addingTimeInterval(-86_400))
        let expired = try pki.identity(.client, validity: past, now: Date().addingTimeInterval(-5 * 86_400))
        let result = try await connect(
            listener: .clientListener(identity: pki.identity(.server)),
            dialer: .clientDialer(identity: expired)
        )
        expectRefused(result.listener, .certificateExpired, prefix: "certificate expired: CN=client.dc1.cairn")
        expectRefused(result.dialer, .rejectedByPeer, prefix: "rejected by the remote: the server refused this side's certificate")
        expectLogged(result.listenerLog, "certificate expired")
        expectLogged(result.dialerLog, "rejected by the remote")
    }

    @Test("a client certificate on the peer listener: not a server certificate, and the client hears it was refused")
    func clientCertificateOnPeerPort() async throws {
        let result = try await connect(
            listener: .peerListener(identity: pki.identity(.server)),
            dialer: .clientDialer(identity: pki.identity(.client))
        )
        expectRefused(
            result.listener,
            .notServerCertificate,
            prefix: "certificate is not a server certificate for datacenter dc1 (has names client.dc1.cairn, localhost, 127.0.0.1"
        )
        expectRefused(result.dialer, .rejectedByPeer, prefix: "rejected by the remote")
        expectLogged(result.listenerLog, "is not a server certificate for datacenter dc1")
        expectLogged(result.listenerLog, "peer listener 127.0.0.1:")
        expectLogged(result.dialerLog, "rejected by the remote")
        expectLogged(result.dialerLog, "client dialer 127.0.0.1:")
    }

    @Test("a dc2 server certificate on a dc1 peer listener is refused on both sides")
    func wrongDatacenter() async throws {
        let result = try await connect(
            listener: .peerListener(identity: pki.identity(.server), datacenter: "dc1"),
            dialer: .peerDialer(identity: pki.identity(.server, datacenter: "dc2"), datacenter: "dc1")
        )
        expectRefused(
            result.listener,
            .notServerCertificate,
            prefix: "certificate is not a server certificate for datacenter dc1 (has names server.dc2.cairn"
        )
        expectRefused(result.dialer, .rejectedByPeer, prefix: "rejected by the remote")
    }

    @Test("a client dialer refuses a server whose certificate lacks server.dc1.cairn")
    func dialerRefusesImpostorServer() async throws {
        // A client certificate may act as a TLS server, but it does not carry server.dc1.cairn.
        let result = try await connect(
            listener: .clientListener(identity: pki.identity(.client)),
            dialer: .clientDialer(identity: pki.identity(.cli))
        )
        expectRefused(
            result.dialer,
            .serverNameMismatch,
            prefix: "server name mismatch: expected server.dc1.cairn, the server's certificate has names client.dc1.cairn"
        )
        expectRefused(result.listener, .rejectedByPeer, prefix: "rejected by the remote: the client refused this side's certificate")
        expectLogged(result.dialerLog, "server name mismatch")
        expectLogged(result.listenerLog, "rejected by the remote")
    }

    @Test("a client offering only TLS 1.1 is refused: protocol mismatch on both sides")
    func oldTLSRefused() async throws {
        var configuration = try rawClient(presenting: pki.issue(.client))
        configuration.minimumTLSVersion = .tlsv1
        configuration.maximumTLSVersion = .tlsv11
        let result = try await rawRefusal(listener: .clientListener(identity: pki.identity(.server)), configuration: configuration)
        expectRefused(result.listener, .protocolMismatch, prefix: "no common TLS version")
        expectRefused(result.dialer, .protocolMismatch, prefix: "no common TLS version")
    }
}
