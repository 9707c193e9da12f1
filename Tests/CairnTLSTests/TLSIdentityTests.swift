import CairnTLS
import Foundation
import Testing

@Suite("TLSIdentity: the agent's --ca-file, --cert-file and --key-file, checked together")
struct TLSIdentityTests {
    /// Writes a CA and a server certificate of it into `temp`; returns the three paths.
    private func writeFiles(_ temp: TemporaryDirectory, pki: TestPKI, validity: CertificateValidity? = nil) throws -> (ca: String, cert: String, key: String) {
        let directory = CertificateDirectory(temp.path)
        try directory.saveCA(pki.authority)
        let written = try directory.saveLeaf(pki.issue(.server, validity: validity), kind: .server, cluster: ClusterName())
        return (temp.file("cairn-agent-ca.pem"), written[0], written[1])
    }

    private func expectError(_ code: CairnTLSError, mentioning fragments: [String], _ body: () throws -> Void) {
        do {
            try body()
            Issue.record("expected \(code.code)")
        } catch let error as CairnTLSError {
            #expect(error == code, "\(error)")
            for fragment in fragments {
                #expect(error.reason.contains(fragment), "\(error.reason) should mention \(fragment)")
            }
        } catch {
            Issue.record("unexpected \(error)")
        }
    }

    @Test("files written by the tooling load as an identity")
    func loads() throws {
        let temp = try TemporaryDirectory()
        let files = try writeFiles(temp, pki: TestPKI())
        let identity = try TLSIdentity(caFile: files.ca, certificateFile: files.cert, keyFile: files.key)
        #expect(identity.identity.hasDNSName("server.dc1.cairn"))
    }

    @Test("a certificate of another CA is refused, naming both files")
    func foreignCertificate() throws {
        let temp = try TemporaryDirectory()
        let files = try writeFiles(temp, pki: TestPKI())
        let foreign = try TemporaryDirectory()
        let other = try writeFiles(foreign, pki: TestPKI())
        expectError(.unknownCA, mentioning: [other.cert, files.ca, "is not signed by the CA"]) {
            _ = try TLSIdentity(caFile: files.ca, certificateFile: other.cert, keyFile: other.key)
        }
    }

    @Test("an expired certificate is refused, naming the file and the date")
    func expired() throws {
        let temp = try TemporaryDirectory()
        let past = try CertificateValidity(notBefore: Date().addingTimeInterval(-10 * 86_400), notAfter: Date().addingTimeInterval(-86_400))
        let files = try writeFiles(temp, pki: TestPKI(), validity: past)
        expectError(.certificateExpired, mentioning: [files.cert, "expired at"]) {
            _ = try TLSIdentity(caFile: files.ca, certificateFile: files.cert, keyFile: files.key)
        }
        // As of a moment inside its validity it loads (the clock is an input).
        _ = try TLSIdentity(caFile: files.ca, certificateFile: files.cert, keyFile: files.key, now: Date().addingTimeInterval(-5 * 86_400))
    }

    @Test("a key of another certificate is refused, naming the key file")
    func wrongKey() throws {
        let temp = try TemporaryDirectory()
        let pki = try TestPKI()
        let files = try writeFiles(temp, pki: pki)
        let second = try CertificateDirectory(temp.path).saveLeaf(pki.issue(.client), kind: .client, cluster: ClusterName())
        expectError(.keyMismatch, mentioning: [second[1], files.cert]) {
            _ = try TLSIdentity(caFile: files.ca, certificateFile: files.cert, keyFile: second[1])
        }
    }

    @Test("a missing file, or a leaf given as the CA, is refused with the file named")
    func missingAndWrongFiles() throws {
        let temp = try TemporaryDirectory()
        let files = try writeFiles(temp, pki: TestPKI())
        expectError(.unreadablePEM, mentioning: [temp.file("absent.pem"), "does not exist"]) {
            _ = try TLSIdentity(caFile: temp.file("absent.pem"), certificateFile: files.cert, keyFile: files.key)
        }
        expectError(.wrongCertificateKind, mentioning: [files.cert, "CA"]) {
            _ = try TLSIdentity(caFile: files.cert, certificateFile: files.cert, keyFile: files.key)
        }
        expectError(.unreadablePEM, mentioning: [files.key]) {
            _ = try TLSIdentity(caFile: files.ca, certificateFile: files.key, keyFile: files.key)
        }
    }

    @Test("each endpoint insists on the right kind of certificate of its own")
    func rolesCheckTheirIdentity() throws {
        let pki = try TestPKI()
        #expect(throws: CairnTLSError.wrongCertificateKind) {
            try MutualTLSContext.peerListener(identity: pki.identity(.client))
        }
        #expect(throws: CairnTLSError.wrongCertificateKind) {
            try MutualTLSContext.peerListener(identity: pki.identity(.server, datacenter: "dc2"), datacenter: "dc1")
        }
        #expect(throws: CairnTLSError.wrongCertificateKind) {
            try MutualTLSContext.peerDialer(identity: pki.identity(.cli))
        }
        #expect(throws: CairnTLSError.wrongCertificateKind) {
            try MutualTLSContext.clientListener(identity: pki.identity(.cli))
        }
        let listener = try MutualTLSContext.peerListener(identity: pki.identity(.server))
        #expect(listener.configuration.minimumTLSVersion == .tlsv12)
        #expect(listener.configuration.maximumTLSVersion == nil)
        let dialer = try MutualTLSContext.clientDialer(identity: pki.identity(.cli))
        #expect(dialer.configuration.minimumTLSVersion == .tlsv12)
        #expect(dialer.serverHostname == "server.dc1.cairn")
    }
}
