import CairnTLS
import Foundation
import Testing
import X509

@Suite("PeerCertificatePolicy: the peer check as a pure value")
struct PeerCertificatePolicyTests {
    let pki: TestPKI
    let dc1: ClusterName

    init() throws {
        self.pki = try TestPKI()
        self.dc1 = try ClusterName(datacenter: "dc1")
    }

    private func evaluate(
        _ requirement: PeerCertificatePolicy.Requirement,
        _ chain: [Certificate],
        now: Date = Date()
    ) async -> Result<VerifiedPeer, CairnTLSError> {
        await PeerCertificatePolicy(trustRoot: self.pki.authority.certificate, requirement: requirement, now: { now })
            .evaluate(chain)
    }

    @Test("a server certificate of the datacenter passes the peer-listener rule, with its role read from its names")
    func serverPasses() async throws {
        let issued = try pki.issue(.server, node: "n2")
        let peer = try await evaluate(.serverCertificate(dc1), [issued.certificate]).get()
        #expect(peer.role == ClusterRole(kind: .server, datacenter: "dc1", node: "n2"))
    }

    @Test("no certificate → noPeerCertificate")
    func nothingPresented() async {
        #expect(await evaluate(.anyClusterCertificate, []).failure == .noPeerCertificate)
    }

    @Test("another CA's certificate → unknownCA naming both CAs")
    func otherCA() async throws {
        let foreign = try TestPKI().issue(.server).certificate
        let error = try #require(await evaluate(.anyClusterCertificate, [foreign]).failure)
        #expect(error == .unknownCA)
        #expect(error.reason.hasPrefix("certificate signed by an unknown CA"))
        #expect(error.reason.contains(String(describing: pki.authority.certificate.subject)))
    }

    @Test("expiry and not-yet-valid follow the injected clock")
    func clock() async throws {
        let certificate = try pki.issue(.client).certificate
        let later = Date().addingTimeInterval(40 * 86_400)
        let error = try #require(await evaluate(.anyClusterCertificate, [certificate], now: later).failure)
        #expect(error == .certificateExpired)
        #expect(error.reason.hasPrefix("certificate expired"))
        let earlier = Date().addingTimeInterval(-86_400)
        #expect(await evaluate(.anyClusterCertificate, [certificate], now: earlier).failure == .certificateNotYetValid)
    }

    @Test("client, CLI and other-datacenter certificates are not server certificates of dc1")
    func notServers() async throws {
        for issued in [try pki.issue(.client), try pki.issue(.cli), try pki.issue(.server, datacenter: "dc2")] {
            let error = try #require(await evaluate(.serverCertificate(dc1), [issued.certificate]).failure)
            #expect(error == .notServerCertificate)
            #expect(error.reason.hasPrefix("certificate is not a server certificate for datacenter dc1 (has names "))
            #expect(error.reason.contains(CertificateIdentity(issued.certificate).dnsNames[0]))
        }
    }

    @Test("a dialer wants server.<dc>.cairn on the server: otherwise serverNameMismatch")
    func dialerName() async throws {
        let error = try #require(await evaluate(.serverName(dc1), [try pki.issue(.client).certificate]).failure)
        #expect(error == .serverNameMismatch)
        #expect(error.reason.hasPrefix("server name mismatch: expected server.dc1.cairn"))
        #expect(try await evaluate(.serverName(dc1), [try pki.issue(.server).certificate]).get().role?.kind == .server)
    }

    @Test("every kind passes the client-listener rule; the CA itself does not")
    func clientListenerRule() async throws {
        for kind in CertificateKind.allCases {
            let peer = try await evaluate(.anyClusterCertificate, [try pki.issue(kind).certificate]).get()
            #expect(peer.role?.kind == kind)
        }
        #expect(await evaluate(.anyClusterCertificate, [pki.authority.certificate]).failure == .wrongCertificateKind)
    }
}

extension Result {
    var failure: Failure? {
        if case .failure(let failure) = self { return failure }
        return nil
    }
}
