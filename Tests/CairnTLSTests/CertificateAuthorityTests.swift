import CairnTLS
import Foundation
import SwiftASN1
import Testing
import X509

@Suite("Certificate authority and issued certificates")
struct CertificateAuthorityTests {
    @Test("a new CA is a self-signed P-256 CA named Cairn Agent CA with keyCertSign and cRLSign")
    func caShape() throws {
        let validity = try CertificateValidity.days(1825)
        let ca = try CertificateAuthority.create(validity: validity)
        let certificate = ca.certificate

        #expect(certificate.subject == certificate.issuer)
        #expect(certificate.publicKey.isValidSignature(certificate.signature, for: certificate))
        #expect(certificate.signatureAlgorithm == .ecdsaWithSHA256)
        #expect(String(describing: certificate.subject).contains("CN=Cairn Agent CA "))
        #expect(try certificate.extensions.basicConstraints == .isCertificateAuthority(maxPathLength: 0))
        let keyUsage = try #require(try certificate.extensions.keyUsage)
        #expect(keyUsage.keyCertSign && keyUsage.cRLSign)
        #expect(certificate.notValidAfter.timeIntervalSince(certificate.notValidBefore) > 1824 * 86_400)
        #expect(certificate.notValidBefore <= Date())
    }

    @Test("two CAs get different names, keys and serial numbers")
    func casAreDistinct() throws {
        let a = try CertificateAuthority.create(validity: .days(1))
        let b = try CertificateAuthority.create(validity: .days(1))
        #expect(a.certificate.subject != b.certificate.subject)
        #expect(a.certificate.serialNumber != b.certificate.serialNumber)
        #expect(a.certificate.publicKey != b.certificate.publicKey)
    }

    @Test(
        "each leaf kind chains to the CA under swift-certificates' Verifier with its names and usages",
        arguments: CertificateKind.allCases
    )
    func leafChainsToCA(kind: CertificateKind) async throws {
        let pki = try TestPKI()
        let issued = try pki.issue(kind)
        var verifier = Verifier(rootCertificates: CertificateStore([pki.authority.certificate])) {
            RFC5280Policy()
            if kind != .cli {
                ServerIdentityPolicy(serverHostname: "\(kind.rawValue).dc1.cairn", serverIP: nil)
            }
        }
        let result = await verifier.validate(leaf: issued.certificate, intermediates: CertificateStore())
        guard case .validCertificate(let chain) = result else {
            Issue.record("\(kind) certificate did not validate: \(result)")
            return
        }
        #expect(Array(chain) == [issued.certificate, pki.authority.certificate])
        #expect(issued.certificate.signatureAlgorithm == .ecdsaWithSHA256)
        #expect(try issued.certificate.extensions.basicConstraints == .notCertificateAuthority)
    }

    @Test("a server certificate carries server.<dc>.cairn, the node name, localhost, 127.0.0.1, extras; server+client auth")
    func serverNames() throws {
        let pki = try TestPKI()
        let request = try LeafCertificateRequest(
            kind: .server,
            cluster: ClusterName(datacenter: "east"),
            node: "n1",
            additionalDNSNames: ["cairn.example.com"],
            additionalIPAddresses: [IPAddress("127.0.0.2"), IPAddress("::1")],
            validity: .days(10)
        )
        let identity = CertificateIdentity(try pki.authority.issue(request).certificate)
        #expect(identity.dnsNames == ["server.east.cairn", "n1.server.east.cairn", "cairn.example.com", "localhost"])
        #expect(identity.ipAddresses.map(\.description) == ["127.0.0.1", "127.0.0.2", "::1"])
        #expect(identity.subject == "CN=server.east.cairn")
        #expect(identity.allowsServerAuthentication && identity.allowsClientAuthentication)
        #expect(identity.clusterRole() == ClusterRole(kind: .server, datacenter: "east", node: "n1"))
    }

    @Test("a client certificate carries client.<dc>.cairn, localhost, 127.0.0.1; client+server auth")
    func clientNames() throws {
        let identity = CertificateIdentity(try TestPKI().issue(.client).certificate)
        #expect(identity.dnsNames == ["client.dc1.cairn", "localhost"])
        #expect(identity.ipAddresses == [.loopbackV4])
        #expect(identity.allowsServerAuthentication && identity.allowsClientAuthentication)
        #expect(identity.clusterRole()?.kind == .client)
    }

    @Test("a CLI certificate carries only cli.<dc>.cairn and is for client authentication only")
    func cliNames() throws {
        let certificate = try TestPKI().issue(.cli).certificate
        let identity = CertificateIdentity(certificate)
        #expect(identity.dnsNames == ["cli.dc1.cairn"])
        #expect(identity.ipAddresses.isEmpty)
        #expect(identity.allowsClientAuthentication)
        #expect(!identity.allowsServerAuthentication)
        #expect(Array(try #require(try certificate.extensions.extendedKeyUsage)) == [.clientAuth])
    }

    @Test("validity is --days from now, and explicit notBefore/notAfter are kept exactly")
    func validity() throws {
        let now = Date()
        let days = try CertificateValidity.days(365, from: now)
        #expect(days.notAfter == now.addingTimeInterval(365 * 86_400))
        #expect(days.notBefore == now.addingTimeInterval(-CertificateValidity.clockSkewAllowance))

        let past = try CertificateValidity(
            notBefore: Date(timeIntervalSince1970: 1_600_000_000),
            notAfter: Date(timeIntervalSince1970: 1_600_086_400)
        )
        let certificate = try TestPKI().issue(.client, validity: past).certificate
        #expect(certificate.notValidBefore == past.notBefore)
        #expect(certificate.notValidAfter == past.notAfter)

        #expect(throws: CairnTLSError.invalidArgument) { try CertificateValidity.days(0) }
        #expect(throws: CairnTLSError.invalidArgument) { try CertificateValidity.days(-5) }
        #expect(throws: CairnTLSError.invalidArgument) { try CertificateValidity(notBefore: now, notAfter: now) }
    }

    @Test("serial numbers are random, with at least 64 bits")
    func serialNumbers() throws {
        let pki = try TestPKI()
        let serials = try (0..<20).map { _ in try pki.issue(.cli).certificate.serialNumber }
        #expect(Set(serials).count == 20)
        #expect(serials.allSatisfy { $0.bytes.count >= 8 })
    }

    @Test("the CA and the leaves round-trip through PEM")
    func pemRoundTrip() throws {
        let pki = try TestPKI()
        let reloaded = try CertificateAuthority(certificatePEM: pki.authority.certificatePEM, privateKeyPEM: pki.authority.privateKeyPEM)
        #expect(reloaded.certificate == pki.authority.certificate)
        #expect(reloaded.privateKey.publicKey == pki.authority.privateKey.publicKey)

        let issued = try pki.issue(.server)
        let pem = try issued.certificatePEM
        #expect(pem.hasPrefix("-----BEGIN CERTIFICATE-----"))
        #expect(try Certificate(pemEncoded: pem) == issued.certificate)
        #expect(try issued.privateKeyPEM.hasPrefix("-----BEGIN PRIVATE KEY-----"))
    }

    @Test("bad requests are refused: --node on a non-server, bad names, bad IPs, bad datacenter")
    func badRequests() throws {
        let validity = try CertificateValidity.days(1)
        #expect(throws: CairnTLSError.invalidArgument) {
            try LeafCertificateRequest(kind: .client, cluster: ClusterName(), node: "n1", validity: validity)
        }
        #expect(throws: CairnTLSError.invalidArgument) {
            try LeafCertificateRequest(kind: .server, cluster: ClusterName(), node: "bad.node", validity: validity)
        }
        #expect(throws: CairnTLSError.invalidArgument) {
            try LeafCertificateRequest(kind: .server, cluster: ClusterName(), additionalDNSNames: ["a..b"], validity: validity)
        }
        #expect(throws: CairnTLSError.invalidArgument) { try IPAddress("300.1.1.1") }
        #expect(throws: CairnTLSError.invalidArgument) { try IPAddress("localhost") }
        #expect(throws: CairnTLSError.invalidArgument) { try ClusterName(datacenter: "dc 1") }
        #expect(throws: CairnTLSError.invalidArgument) { try ClusterName(datacenter: "") }
    }

    @Test("a CA whose key is not its own, or a leaf passed as a CA, is refused")
    func caInvariants() throws {
        let a = try CertificateAuthority.create(validity: .days(1))
        let b = try CertificateAuthority.create(validity: .days(1))
        #expect(throws: CairnTLSError.keyMismatch) {
            try CertificateAuthority(certificate: a.certificate, privateKey: b.privateKey)
        }
        let leaf = try a.issue(LeafCertificateRequest(kind: .client, cluster: ClusterName(), validity: .days(1)))
        #expect(throws: CairnTLSError.wrongCertificateKind) {
            try CertificateAuthority(certificate: leaf.certificate, privateKey: leaf.privateKey)
        }
    }
}
