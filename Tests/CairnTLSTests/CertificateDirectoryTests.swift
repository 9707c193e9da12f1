import CairnTLS
import Foundation
import Testing

@Suite("Certificate files: names, numbering, permissions, no overwrites")
struct CertificateDirectoryTests {
    @Test("files are named as Consul names them, with cairn for consul")
    func names() throws {
        #expect(CertificateDirectory.caCertificateFileName() == "cairn-agent-ca.pem")
        #expect(CertificateDirectory.caKeyFileName() == "cairn-agent-ca-key.pem")
        let dc1 = try ClusterName(datacenter: "dc1")
        #expect(CertificateDirectory.leafFileNames(kind: .server, cluster: dc1, number: 0) == ("dc1-server-cairn-0.pem", "dc1-server-cairn-0-key.pem"))
        #expect(CertificateDirectory.leafFileNames(kind: .client, cluster: dc1, number: 3).key == "dc1-client-cairn-3-key.pem")
        #expect(CertificateDirectory.leafFileNames(kind: .cli, cluster: dc1, number: 1).certificate == "dc1-cli-cairn-1.pem")
    }

    @Test("saving a CA writes the two files, the key with mode 0600")
    func saveCA() throws {
        let temp = try TemporaryDirectory()
        let directory = CertificateDirectory(temp.path)
        let written = try directory.saveCA(CertificateAuthority.create(validity: .days(1)))
        #expect(written == [temp.file("cairn-agent-ca.pem"), temp.file("cairn-agent-ca-key.pem")])
        #expect(try temp.listing() == ["cairn-agent-ca-key.pem", "cairn-agent-ca.pem"])
        #expect(try permissions(temp.file("cairn-agent-ca-key.pem")) == 0o600)
        #expect(try permissions(temp.file("cairn-agent-ca.pem")) & 0o077 != 0o077)

        let loaded = try CertificateDirectory.loadCA(certificateFile: written[0], keyFile: written[1])
        #expect(loaded.certificate.subject.description.contains("Cairn Agent CA"))
    }

    @Test("leaf files take the first unused number, per kind and datacenter")
    func numbering() throws {
        let temp = try TemporaryDirectory()
        let directory = CertificateDirectory(temp.path)
        let pki = try TestPKI()
        let dc1 = try ClusterName(datacenter: "dc1")
        let dc2 = try ClusterName(datacenter: "dc2")

        for expected in 0..<3 {
            let written = try directory.saveLeaf(pki.issue(.server), kind: .server, cluster: dc1)
            #expect(written == [temp.file("dc1-server-cairn-\(expected).pem"), temp.file("dc1-server-cairn-\(expected)-key.pem")])
        }
        #expect(try directory.saveLeaf(pki.issue(.client), kind: .client, cluster: dc1) == [temp.file("dc1-client-cairn-0.pem"), temp.file("dc1-client-cairn-0-key.pem")])
        #expect(try directory.saveLeaf(pki.issue(.server, datacenter: "dc2"), kind: .server, cluster: dc2).first == temp.file("dc2-server-cairn-0.pem"))

        // A gap is reused; a lone key file also takes its number.
        try FileManager.default.removeItem(atPath: temp.file("dc1-server-cairn-1.pem"))
        #expect(directory.nextLeafNumber(kind: .server, cluster: dc1) == 3)
        try FileManager.default.removeItem(atPath: temp.file("dc1-server-cairn-1-key.pem"))
        #expect(directory.nextLeafNumber(kind: .server, cluster: dc1) == 1)
        #expect(try permissions(temp.file("dc1-server-cairn-0-key.pem")) == 0o600)
    }

    @Test("an existing CA file is never overwritten, and then nothing is written")
    func refusesToOverwriteCA() throws {
        let temp = try TemporaryDirectory()
        let directory = CertificateDirectory(temp.path)
        try directory.saveCA(CertificateAuthority.create(validity: .days(1)))
        let before = try String(contentsOfFile: temp.file("cairn-agent-ca.pem"), encoding: .utf8)
        #expect(throws: CairnTLSError.fileExists) {
            try directory.saveCA(CertificateAuthority.create(validity: .days(1)))
        }
        #expect(try String(contentsOfFile: temp.file("cairn-agent-ca.pem"), encoding: .utf8) == before)

        // Only the key exists: the certificate must not be written either.
        let other = try TemporaryDirectory()
        _ = FileManager.default.createFile(atPath: other.file("cairn-agent-ca-key.pem"), contents: Data("mine".utf8))
        do {
            try CertificateDirectory(other.path).saveCA(CertificateAuthority.create(validity: .days(1)))
            Issue.record("expected fileExists")
        } catch let error as CairnTLSError {
            #expect(error == .fileExists)
            #expect(error.reason.contains("cairn-agent-ca-key.pem already exists"))
        }
        #expect(try other.listing() == ["cairn-agent-ca-key.pem"])
        #expect(try String(contentsOfFile: other.file("cairn-agent-ca-key.pem"), encoding: .utf8) == "mine")
    }

    @Test("a missing CA is a clear missingCA error naming the file")
    func missingCA() throws {
        let temp = try TemporaryDirectory()
        do {
            _ = try CertificateDirectory.loadCA(certificateFile: temp.file("cairn-agent-ca.pem"), keyFile: temp.file("cairn-agent-ca-key.pem"))
            Issue.record("expected missingCA")
        } catch let error as CairnTLSError {
            #expect(error == .missingCA)
            #expect(error.reason.contains("cairn-agent-ca.pem does not exist"))
            #expect(error.reason.contains("cairn tls ca create"))
        }
        // The certificate without its key is still a missing CA.
        try CertificateDirectory(temp.path).saveCA(CertificateAuthority.create(validity: .days(1)))
        try FileManager.default.removeItem(atPath: temp.file("cairn-agent-ca-key.pem"))
        #expect(throws: CairnTLSError.missingCA) {
            try CertificateDirectory.loadCA(certificateFile: temp.file("cairn-agent-ca.pem"), keyFile: temp.file("cairn-agent-ca-key.pem"))
        }
    }

    @Test("a CA file that is not PEM, or a key of another CA, is refused with the file named")
    func badCAFiles() throws {
        let temp = try TemporaryDirectory()
        _ = FileManager.default.createFile(atPath: temp.file("ca.pem"), contents: Data("not a certificate\n".utf8))
        _ = FileManager.default.createFile(atPath: temp.file("key.pem"), contents: Data("not a key\n".utf8))
        do {
            _ = try CertificateDirectory.loadCA(certificateFile: temp.file("ca.pem"), keyFile: temp.file("key.pem"))
            Issue.record("expected unreadablePEM")
        } catch let error as CairnTLSError {
            #expect(error == .unreadablePEM)
            #expect(error.reason.contains(temp.file("ca.pem")))
        }

        let a = try CertificateAuthority.create(validity: .days(1))
        let b = try CertificateAuthority.create(validity: .days(1))
        try Data(a.certificatePEM.utf8).write(to: URL(fileURLWithPath: temp.file("a.pem")))
        try Data(b.privateKeyPEM.utf8).write(to: URL(fileURLWithPath: temp.file("b-key.pem")))
        do {
            _ = try CertificateDirectory.loadCA(certificateFile: temp.file("a.pem"), keyFile: temp.file("b-key.pem"))
            Issue.record("expected keyMismatch")
        } catch let error as CairnTLSError {
            #expect(error == .keyMismatch)
            #expect(error.reason.contains("b-key.pem does not belong to CA certificate"))
        }
    }

    @Test("writing into a directory that does not exist writes nothing")
    func missingDirectory() throws {
        let temp = try TemporaryDirectory()
        let missing = temp.file("nope")
        #expect(throws: CairnTLSError.invalidArgument) {
            try CertificateDirectory(missing).saveCA(CertificateAuthority.create(validity: .days(1)))
        }
        #expect(!FileManager.default.fileExists(atPath: missing))
    }
}

func permissions(_ path: String) throws -> Int {
    let attributes = try FileManager.default.attributesOfItem(atPath: path)
    return (attributes[.posixPermissions] as? NSNumber)?.intValue ?? -1
}
