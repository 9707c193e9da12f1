import ArgumentParser
import CairnCLI
import CairnTLS
import Foundation
import Testing

/// `cairn tls …` run in-process, writing into a temporary --dir.
@Suite("cairn tls ca create / cert create")
struct TLSCommandTests {
    /// Parses `arguments` (after `cairn tls`) and runs the command; returns the exit code.
    @discardableResult
    private func run(_ arguments: [String]) throws -> Int32 {
        var command = try TLSCommand.parseAsRoot(arguments)
        do {
            try command.run()
            return 0
        } catch let code as ExitCode {
            return code.rawValue
        }
    }

    private func files(_ temp: TemporaryDirectory) throws -> [String] {
        try temp.listing()
    }

    @Test("ca create writes cairn-agent-ca.pem and its key, valid for --days")
    func caCreate() throws {
        let temp = try TemporaryDirectory()
        #expect(try run(["ca", "create", "--dir", temp.path, "--days", "10"]) == 0)
        #expect(try files(temp) == ["cairn-agent-ca-key.pem", "cairn-agent-ca.pem"])
        let ca = try CertificateDirectory.loadCA(certificateFile: temp.file("cairn-agent-ca.pem"), keyFile: temp.file("cairn-agent-ca-key.pem"))
        let lifetime = ca.certificate.notValidAfter.timeIntervalSinceNow
        // Certificates keep whole seconds.
        #expect(abs(lifetime - 10 * 86_400) < 2)
        #expect(try permissions(temp.file("cairn-agent-ca-key.pem")) == 0o600)
    }

    @Test("ca create --domain names the files after the domain")
    func caCreateDomain() throws {
        let temp = try TemporaryDirectory()
        #expect(try run(["ca", "create", "--dir", temp.path, "--domain", "corp"]) == 0)
        #expect(try files(temp) == ["corp-agent-ca-key.pem", "corp-agent-ca.pem"])
    }

    @Test("cert create --server/--client/--cli write numbered files signed by the CA, with the right names")
    func certCreate() async throws {
        let temp = try TemporaryDirectory()
        try run(["ca", "create", "--dir", temp.path])
        #expect(try run(["cert", "create", "--server", "--dir", temp.path, "--node", "n1"]) == 0)
        #expect(try run(["cert", "create", "--server", "--dir", temp.path, "--node", "n2", "--additional-ipaddress", "127.0.0.2", "--additional-dnsname", "cairn.internal"]) == 0)
        #expect(try run(["cert", "create", "--client", "--dir", temp.path]) == 0)
        #expect(try run(["cert", "create", "--cli", "--dir", temp.path, "--dc", "east", "--days", "3"]) == 0)
        #expect(
            try files(temp) == [
                "cairn-agent-ca-key.pem", "cairn-agent-ca.pem",
                "dc1-client-cairn-0-key.pem", "dc1-client-cairn-0.pem",
                "dc1-server-cairn-0-key.pem", "dc1-server-cairn-0.pem",
                "dc1-server-cairn-1-key.pem", "dc1-server-cairn-1.pem",
                "east-cli-cairn-0-key.pem", "east-cli-cairn-0.pem",
            ]
        )
        let second = try TLSIdentity(
            caFile: temp.file("cairn-agent-ca.pem"),
            certificateFile: temp.file("dc1-server-cairn-1.pem"),
            keyFile: temp.file("dc1-server-cairn-1-key.pem")
        ).identity
        #expect(second.dnsNames == ["server.dc1.cairn", "n2.server.dc1.cairn", "cairn.internal", "localhost"])
        #expect(second.ipAddresses.map(\.description) == ["127.0.0.1", "127.0.0.2"])

        let cli = try TLSIdentity(
            caFile: temp.file("cairn-agent-ca.pem"),
            certificateFile: temp.file("east-cli-cairn-0.pem"),
            keyFile: temp.file("east-cli-cairn-0-key.pem")
        ).identity
        #expect(cli.dnsNames == ["cli.east.cairn"])
        #expect(abs(cli.notAfter.timeIntervalSinceNow - 3 * 86_400) < 5)
        #expect(try permissions(temp.file("dc1-client-cairn-0-key.pem")) == 0o600)
    }

    @Test("--ca and --key name a CA elsewhere; output says what was used and saved")
    func explicitCA() throws {
        let caDirectory = try TemporaryDirectory()
        let out = try TemporaryDirectory()
        try run(["ca", "create", "--dir", caDirectory.path])
        let command = try #require(
            try TLSCommand.parseAsRoot([
                "cert", "create", "--client", "--dir", out.path,
                "--ca", caDirectory.file("cairn-agent-ca.pem"), "--key", caDirectory.file("cairn-agent-ca-key.pem"),
            ]) as? TLSCertCreateCommand
        )
        var lines: [String] = []
        try command.perform { lines.append($0) }
        #expect(lines == [
            "==> Using \(caDirectory.file("cairn-agent-ca.pem")) and \(caDirectory.file("cairn-agent-ca-key.pem"))",
            "==> Saved \(out.file("dc1-client-cairn-0.pem"))",
            "==> Saved \(out.file("dc1-client-cairn-0-key.pem"))",
        ])
    }

    @Test(
        "bad input exits with code 2, says why, and writes nothing",
        arguments: [
            (["cert", "create", "--dir", "DIR"], "exactly one of --server, --client or --cli"),
            (["cert", "create", "--server", "--client", "--dir", "DIR"], "exactly one of --server, --client or --cli"),
            (["cert", "create", "--server", "--dir", "DIR", "--additional-ipaddress", "10.0.0.300"], "invalid IP address \"10.0.0.300\""),
            (["cert", "create", "--server", "--dir", "DIR", "--days", "0"], "invalid --days 0"),
            (["cert", "create", "--client", "--dir", "DIR", "--days=-3"], "invalid --days -3"),
            (["cert", "create", "--client", "--dir", "DIR", "--node", "n1"], "--node n1 requires a server certificate"),
            (["cert", "create", "--server", "--dir", "DIR", "--dc", "dc_1"], "invalid datacenter \"dc_1\""),
            (["ca", "create", "--dir", "DIR", "--days", "0"], "invalid --days 0"),
        ]
    )
    func badInput(arguments: [String], message: String) throws {
        let temp = try TemporaryDirectory()
        try run(["ca", "create", "--dir", temp.path])
        let before = try files(temp)
        let resolved = arguments.map { $0 == "DIR" ? temp.path : $0 }
        #expect(try run(resolved) == 2)
        #expect(try files(temp) == before)
        let command = try TLSCommand.parseAsRoot(resolved)
        let error = try #require(throws: CairnTLSError.self) {
            if let create = command as? TLSCertCreateCommand {
                try create.perform { _ in }
            } else if let create = command as? TLSCACreateCommand {
                try create.perform { _ in }
            }
        }
        #expect(error.reason.contains(message), "\(error.reason)")
    }

    @Test("a missing CA exits with code 2 and writes nothing")
    func missingCA() throws {
        let temp = try TemporaryDirectory()
        #expect(try run(["cert", "create", "--server", "--dir", temp.path]) == 2)
        #expect(try files(temp).isEmpty)
        let command = try #require(try TLSCommand.parseAsRoot(["cert", "create", "--server", "--dir", temp.path]) as? TLSCertCreateCommand)
        #expect(throws: CairnTLSError.missingCA) { try command.perform { _ in } }
    }

    @Test("ca create refuses to overwrite an existing CA, with code 2, leaving it intact")
    func caOverwrite() throws {
        let temp = try TemporaryDirectory()
        try run(["ca", "create", "--dir", temp.path])
        let original = try String(contentsOfFile: temp.file("cairn-agent-ca.pem"), encoding: .utf8)
        #expect(try run(["ca", "create", "--dir", temp.path]) == 2)
        #expect(try String(contentsOfFile: temp.file("cairn-agent-ca.pem"), encoding: .utf8) == original)
        let command = try #require(try TLSCommand.parseAsRoot(["ca", "create", "--dir", temp.path]) as? TLSCACreateCommand)
        #expect(throws: CairnTLSError.fileExists) { try command.perform { _ in } }
    }

    @Test("a --dir that does not exist exits with code 2")
    func missingDirectory() throws {
        let temp = try TemporaryDirectory()
        #expect(try run(["ca", "create", "--dir", temp.file("missing")]) == 2)
        #expect(!FileManager.default.fileExists(atPath: temp.file("missing")))
    }
}
