import CairnTLS
import Crypto
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
    ) -> Result<VerifiedPeer, CairnTLSError> {
        PeerCertificatePolicy(trustRoot: self.pki.authority.certificate, requirement: requirement, now: { now })
            .evaluate(chain)
    }

    @Test("a server certificate of the datacenter passes the peer-listener rule, with its role read from its names")
    func serverPasses() throws {
        let issued = try pki.issue(.server, node: "n2")
        let peer = try evaluate(.serverCertificate(dc1), [issued.certificate]).get()
        #expect(peer.role == ClusterRole(kind: .server, datacenter: "dc1", node: "n2"))
    }

    @Test("no certificate → noPeerCertificate")
    func nothingPresented() {
        #expect(evaluate(.anyClusterCertificate, []).failure == .noPeerCertificate)
    }

    @Test("another CA's certificate → unknownCA naming both CAs")
    func otherCA() throws {
        let foreign = try TestPKI().issue(.server).certificate
        let error = try #require(evaluate(.anyClusterCertificate, [foreign]).failure)
        #expect(error == .unknownCA)
        #expect(error.reason.hasPrefix("certificate signed by an unknown CA"))
        #expect(error.reason.contains(String(describing: pki.authority.certificate.subject)))
    }

    @Test("expiry and not-yet-valid follow the injected clock")
    func clock() throws {
        let certificate = try pki.issue(.client).certificate
        let later = Date().addingTimeInterval(40 * 86_400)
        let error = try #require(evaluate(.anyClusterCertificate, [certificate], now: later).failure)
        #expect(error == .certificateExpired)
        #expect(error.reason.hasPrefix("certificate expired"))
        let earlier = Date().addingTimeInterval(-86_400)
        #expect(evaluate(.anyClusterCertificate, [certificate], now: earlier).failure == .certificateNotYetValid)
    }

    @Test("client, CLI and other-datacenter certificates are not server certificates of dc1")
    func notServers() throws {
        for issued in [try pki.issue(.client), try pki.issue(.cli), try pki.issue(.server, datacenter: "dc2")] {
            let error = try #require(evaluate(.serverCertificate(dc1), [issued.certificate]).failure)
            #expect(error == .notServerCertificate)
            #expect(error.reason.hasPrefix("certificate is not a server certificate for datacenter dc1 (has names "))
            #expect(error.reason.contains(CertificateIdentity(issued.certificate).dnsNames[0]))
        }
    }

    @Test("a dialer wants server.<dc>.cairn on the server: otherwise serverNameMismatch")
    func dialerName() throws {
        let error = try #require(evaluate(.serverName(dc1), [try pki.issue(.client).certificate]).failure)
        #expect(error == .serverNameMismatch)
        #expect(error.reason.hasPrefix("server name mismatch: expected server.dc1.cairn"))
        #expect(try evaluate(.serverName(dc1), [try pki.issue(.server).certificate]).get().role?.kind == .server)
    }

    @Test("every kind passes the client-listener rule; the CA itself does not")
    func clientListenerRule() throws {
        for kind in CertificateKind.allCases {
            let peer = try evaluate(.anyClusterCertificate, [try pki.issue(kind).certificate]).get()
            #expect(peer.role?.kind == kind)
        }
        #expect(evaluate(.anyClusterCertificate, [pki.authority.certificate]).failure == .wrongCertificateKind)
    }
}

extension PeerCertificatePolicyTests {
    /// A certificate signed by the test CA with hand-picked extensions.
    private func handMade(_ extensions: [Certificate.Extension]) throws -> Certificate {
        let key = P256.Signing.PrivateKey()
        return try Certificate(
            version: .v3,
            serialNumber: Certificate.SerialNumber(),
            publicKey: Certificate.PublicKey(key.publicKey),
            notValidBefore: Date().addingTimeInterval(-60),
            notValidAfter: Date().addingTimeInterval(86_400),
            issuer: pki.authority.certificate.subject,
            subject: DistinguishedName { CommonName("server.dc1.cairn") },
            signatureAlgorithm: .ecdsaWithSHA256,
            extensions: Certificate.Extensions(extensions),
            issuerPrivateKey: pki.authority.privateKey
        )
    }

    @Test("RFC 5280: an unknown critical extension, or a key that may not sign, is refused")
    func rfc5280Rules() throws {
        let names = try Certificate.Extension(SubjectAlternativeNames([.dnsName("server.dc1.cairn")]), critical: false)
        #expect(try evaluate(.serverCertificate(dc1), [handMade([names])]).get().role?.kind == .server)

        let unknown = Certificate.Extension(oid: [1, 3, 6, 1, 4, 1, 55555, 1], critical: true, value: [0x05, 0x00])
        let error = try #require(evaluate(.serverCertificate(dc1), [handMade([names, unknown])]).failure)
        #expect(error == .invalidCertificate)
        #expect(error.reason.contains("critical extension Cairn does not understand"))

        let encipherOnly = try Certificate.Extension(KeyUsage(keyEncipherment: true), critical: true)
        #expect(evaluate(.serverCertificate(dc1), [try handMade([names, encipherOnly])]).failure == .invalidCertificate)

        let serverOnly = try Certificate.Extension(ExtendedKeyUsage([.serverAuth]), critical: false)
        let noClientAuth = try #require(evaluate(.serverCertificate(dc1), [try handMade([names, serverOnly])]).failure)
        #expect(noClientAuth.reason.contains("not valid for TLS client authentication"))
    }
}

extension Result {
    var failure: Failure? {
        if case .failure(let failure) = self { return failure }
        return nil
    }
}
