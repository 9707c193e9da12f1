import CairnClient
import CairnTLS
import CairnWire
import Foundation
import NIOCore
import Testing

/// A real agent refuses every connection that does not meet its mutual-TLS rules, on both of its
/// ports, whether the other side is the Cairn client or `openssl s_client` — and says why in its
/// log. Each case starts an agent of its own (Swift Testing makes a suite instance per test); the
/// fixture kills it when the case ends.
@Suite("Security matrix against a running agent", .serialized)
final class SecurityMatrixTests {
    let fx: ClusterFixture
    let other: String

    init() async throws {
        fx = try ClusterFixture(nodes: 1)
        try fx.start(1)
        // Certificates the agent must refuse: another CA's, an expired one, a dc2 server's.
        other = fx.root + "/other"
        try FileManager.default.createDirectory(atPath: other, withIntermediateDirectories: true)
        let foreign = try CertificateAuthority.create(validity: .days(30))
        let foreignDir = CertificateDirectory(other + "/foreign")
        try FileManager.default.createDirectory(atPath: foreignDir.path, withIntermediateDirectories: true)
        try foreignDir.saveCA(foreign)
        try foreignDir.saveLeaf(try foreign.issue(LeafCertificateRequest(kind: .cli, cluster: ClusterName(), validity: .days(30))),
                                kind: .cli, cluster: ClusterName())
        let ca = try CertificateDirectory.loadCA(certificateFile: fx.certs + "/cairn-agent-ca.pem", keyFile: fx.certs + "/cairn-agent-ca-key.pem")
        let expiredDir = CertificateDirectory(other + "/expired")
        try FileManager.default.createDirectory(atPath: expiredDir.path, withIntermediateDirectories: true)
        let past = try CertificateValidity(notBefore: Date().addingTimeInterval(-7200), notAfter: Date().addingTimeInterval(-3600))
        try expiredDir.saveLeaf(try ca.issue(LeafCertificateRequest(kind: .cli, cluster: ClusterName(), validity: past)), kind: .cli, cluster: ClusterName())
        let dc2Dir = CertificateDirectory(other + "/dc2")
        try FileManager.default.createDirectory(atPath: dc2Dir.path, withIntermediateDirectories: true)
        let dc2 = try ClusterName(datacenter: "dc2")
        try dc2Dir.saveLeaf(try ca.issue(LeafCertificateRequest(kind: .server, cluster: dc2, validity: .days(30))), kind: .server, cluster: dc2)
        // The agent is up once a client can write.
        let client = try fx.client()
        _ = try await fx.eventually(within: 30, "the agent to lead") { try await client.put("up", value: [1]).succeeded ? true : nil }
        await client.close()
    }

    static var openssl: String? {
        for dir in ["/usr/bin", "/usr/local/bin", "/bin"] where FileManager.default.isExecutableFile(atPath: dir + "/openssl") {
            return dir + "/openssl"
        }
        return nil
    }

    /// A valid client preface, then a frame header announcing 4 GiB: a server that accepted the
    /// handshake answers with its preface, then a frameTooLarge error frame, and closes.
    static let oversizedFrameInput = Array("CAIRN".utf8) + [1, 2, 0, 0xFF, 0xFF, 0xFF, 0xFF, 2, 0]

    func sClient(port address: String, cert: String?, key: String?, input: [UInt8] = oversizedFrameInput) async throws -> ProcessResult {
        var args = ["s_client", "-connect", address, "-CAfile", fx.certs + "/cairn-agent-ca.pem", "-servername", "server.dc1.cairn",
                    "-verify_hostname", "server.dc1.cairn", "-verify_return_error", "-brief", "-ign_eof"]
        if let cert, let key { args += ["-cert", cert, "-key", key] }
        return try await runWithInput(Self.openssl!, args, input: input, timeout: 20)
    }

    /// The agent still answers a client.
    func agentStillServes() async throws -> Bool {
        let client = try fx.client()
        defer { Task { await client.close() } }
        return try await client.put("after", value: [2]).succeeded
    }

    func logEventually(contains text: String) async throws -> Bool {
        try await fx.eventually(within: 10, "the agent's log to say \"\(text)\"") { fx.log(1).contains(text) ? true : nil }
    }

    func client(cert: String, key: String, datacenter: String = "dc1", ca: String? = nil) throws -> CairnClient {
        var config = ClientConfiguration(addresses: [fx.clientAddress(1)], caFile: ca ?? fx.certs + "/cairn-agent-ca.pem",
                                         certificateFile: cert, keyFile: key, datacenter: datacenter)
        config.requestTimeout = .seconds(5)
        config.maxAttempts = 1
        return try CairnClient(configuration: config)
    }

    @Test("openssl with the CLI certificate completes mutual TLS 1.3 on the client port and gets the server's preface")
    func opensslSucceeds() async throws {
        try #require(Self.openssl != nil, "openssl is not installed (.ci/run installs it)")
        let r = try await sClient(port: fx.clientAddress(1), cert: fx.certs + "/dc1-cli-cairn-0.pem", key: fx.certs + "/dc1-cli-cairn-0-key.pem")
        #expect(r.output.contains("TLSv1.3"), "\(r.output)")
        #expect(r.output.contains("CAIRN"), "the agent answered the preface: \(r.output)")
        #expect(r.output.contains("frame") || r.output.contains("large"), "and refused the oversized frame with an error frame: \(r.output)")
    }

    @Test("no client certificate is refused on the client port (openssl)")
    func noClientCertificate() async throws {
        try #require(Self.openssl != nil, "openssl is not installed (.ci/run installs it)")
        let r = try await sClient(port: fx.clientAddress(1), cert: nil, key: nil)
        #expect(!r.output.contains("CAIRN\u{01}\u{03}"), "\(r.output)")
        #expect(r.output.lowercased().contains("alert") || r.status != 0, "\(r.output)")
        #expect(try await logEventually(contains: "no client certificate"))
    }

    @Test("a client certificate presented on the peer port is refused (openssl)")
    func clientCertificateOnPeerPort() async throws {
        try #require(Self.openssl != nil, "openssl is not installed (.ci/run installs it)")
        let r = try await sClient(port: fx.peerAddress(1), cert: fx.certs + "/dc1-cli-cairn-0.pem", key: fx.certs + "/dc1-cli-cairn-0-key.pem")
        #expect(r.output.lowercased().contains("alert") || r.status != 0, "\(r.output)")
        #expect(try await logEventually(contains: "peer listener"))
        #expect(fx.log(1).contains("not a server certificate"), "\(fx.log(1).suffix(1500))")
    }

    @Test("a server of this datacenter that sends client frames on the peer port gets an error frame and is cut off; the agent goes on (openssl)")
    func clientFrameOnPeerPort() async throws {
        try #require(Self.openssl != nil, "openssl is not installed (.ci/run installs it)")
        var frame = ByteBuffer()
        frame.writeWireMessage(.request(streamID: 1, .kvGet(key: "a", consistency: .stale)))
        let input = Array("CAIRN".utf8) + [1, 1, 0] + Array(frame.readableBytesView)
        let r = try await sClient(port: fx.peerAddress(1), cert: fx.certs + "/dc1-server-cairn-0.pem", key: fx.certs + "/dc1-server-cairn-0-key.pem", input: input)
        #expect(r.output.contains("client frames are not allowed on the peer port"), "the error frame's reason: \(r.output)")
        #expect(try await logEventually(contains: "broke the protocol"))
        #expect(try await agentStillServes())
    }

    @Test("a frame too large for the peer port is refused before its payload arrives (openssl)")
    func oversizedFrameOnPeerPort() async throws {
        try #require(Self.openssl != nil, "openssl is not installed (.ci/run installs it)")
        let input = Array("CAIRN".utf8) + [1, 1, 0, 0xFF, 0xFF, 0xFF, 0xFF, 1, 0]
        let r = try await sClient(port: fx.peerAddress(1), cert: fx.certs + "/dc1-server-cairn-0.pem", key: fx.certs + "/dc1-server-cairn-0-key.pem", input: input)
        #expect(r.output.contains("exceeds the limit"), "the error frame's reason: \(r.output)")
        #expect(try await logEventually(contains: "frameTooLarge") || fx.log(1).contains("exceeds the limit"))
        #expect(try await agentStillServes())
    }

    @Test("a server certificate of another datacenter is refused on the peer port (openssl)")
    func wrongDatacenterOnPeerPort() async throws {
        try #require(Self.openssl != nil, "openssl is not installed (.ci/run installs it)")
        let r = try await sClient(port: fx.peerAddress(1), cert: other + "/dc2/dc2-server-cairn-0.pem", key: other + "/dc2/dc2-server-cairn-0-key.pem")
        #expect(r.output.lowercased().contains("alert") || r.status != 0, "\(r.output)")
        #expect(try await logEventually(contains: "dc2"))
    }

    @Test("a certificate from another CA is refused (Cairn client, then openssl)")
    func foreignCA() async throws {
        // A client of another PKI altogether: its own CA and its certificate.
        let c = try client(cert: other + "/foreign/dc1-cli-cairn-0.pem", key: other + "/foreign/dc1-cli-cairn-0-key.pem",
                           ca: other + "/foreign/cairn-agent-ca.pem")
        // TLS 1.3: the client checks the server first and refuses it (signed by a CA it does not trust).
        let error = await #expect(throws: CairnClientError.self) { _ = try await c.get("up") }
        #expect(error?.reason.contains("unknown CA") == true, "\(String(describing: error))")
        await c.close()
        // openssl trusting the agent's CA but presenting the foreign certificate: the agent refuses it.
        try #require(Self.openssl != nil, "openssl is not installed (.ci/run installs it)")
        let r = try await sClient(port: fx.clientAddress(1), cert: other + "/foreign/dc1-cli-cairn-0.pem", key: other + "/foreign/dc1-cli-cairn-0-key.pem")
        #expect(!r.output.contains("CAIRN\u{01}\u{03}"), "\(r.output)")
        #expect(try await logEventually(contains: "certificate signed by an unknown CA"))
    }

    @Test("an expired certificate is refused (Cairn client)")
    func expired() async throws {
        // The client library refuses to even load an expired identity, so present it raw.
        #expect(throws: CairnClientError.self) {
            _ = try client(cert: other + "/expired/dc1-cli-cairn-0.pem", key: other + "/expired/dc1-cli-cairn-0-key.pem")
        }
        if Self.openssl != nil {
            let r = try await sClient(port: fx.clientAddress(1), cert: other + "/expired/dc1-cli-cairn-0.pem", key: other + "/expired/dc1-cli-cairn-0-key.pem")
            #expect(!r.output.contains("CAIRN\u{01}\u{03}"), "\(r.output)")
            #expect(try await logEventually(contains: "expired"))
        }
    }

    @Test("a client expecting datacenter dc2 refuses the dc1 server's certificate")
    func clientRefusesWrongServerName() async throws {
        let c = try client(cert: fx.certs + "/dc1-cli-cairn-0.pem", key: fx.certs + "/dc1-cli-cairn-0-key.pem", datacenter: "dc2")
        let error = await #expect(throws: CairnClientError.self) { _ = try await c.get("up") }
        #expect(error?.reason.contains("server.dc2.cairn") == true || error?.reason.lowercased().contains("name") == true, "\(String(describing: error))")
        await c.close()
    }
}

struct ProcessResult: Sendable {
    var status: Int32
    var output: String
}

/// Runs a program with `input` on standard input (then end of input), killed after `timeout` s.
func runWithInput(_ executable: String, _ arguments: [String], input: [UInt8], timeout: Double) async throws -> ProcessResult {
    let outputFile = FileManager.default.temporaryDirectory.appendingPathComponent("cairn-proc-\(UUID().uuidString)")
    _ = FileManager.default.createFile(atPath: outputFile.path, contents: nil)
    defer { try? FileManager.default.removeItem(at: outputFile) }
    let output = try FileHandle(forWritingTo: outputFile)
    let p = Process()
    p.executableURL = URL(fileURLWithPath: executable)
    p.arguments = arguments
    let stdin = Pipe()
    p.standardInput = stdin
    p.standardOutput = output
    p.standardError = output
    let writer = stdin.fileHandleForWriting
    let status = try await p.runToExit(within: timeout) {
        // The program may exit before reading its input (a refused handshake ends `openssl
        // s_client` at once): the write then fails with EPIPE, which is no failure of the test.
        // (The non-throwing `write(_:)` would stop the whole test process on it.)
        try? writer.write(contentsOf: Data(input))
        try? writer.close()
    }
    try? output.close()
    let text = String(decoding: (try? Data(contentsOf: outputFile)) ?? Data(), as: UTF8.self)
    // A run that had to be killed is no answer (its kill status would pass for a refusal).
    guard let status else { throw FixtureError("\(executable) did not finish within \(timeout) s; it printed: \(text)") }
    return ProcessResult(status: status, output: text)
}
