import CairnTLS
import Foundation
import Testing

/// `openssl s_client` against a Cairn client listener. The test needs `openssl` on PATH
/// (Debian: `apt-get install -y openssl`); without it, it says so and is skipped.
@Suite("Interop with openssl s_client", .enabled(if: OpenSSL.path != nil, "openssl is not on PATH: apt-get install -y openssl"))
struct OpenSSLInteropTests {
    let pki: TestPKI
    let files: TemporaryDirectory

    init() throws {
        self.pki = try TestPKI()
        self.files = try TemporaryDirectory()
        try CertificateDirectory(files.path).saveCA(pki.authority)
    }

    /// Writes a certificate of `pki` (and its key) and returns the two paths.
    private func write(_ issued: IssuedCertificate, kind: CertificateKind) throws -> (cert: String, key: String) {
        let written = try CertificateDirectory(files.path).saveLeaf(issued, kind: kind, cluster: ClusterName())
        return (written[0], written[1])
    }

    /// Runs `openssl s_client` against a fresh client listener; returns its result and the listener's outcome.
    private func sClient(presenting client: (cert: String, key: String)?) async throws -> (openssl: ProcessResult, listener: SideOutcome) {
        let log = CapturedLog()
        let server = try await TestListener.start(
            .clientListener(identity: pki.identity(.server)),
            log: log,
            closeAfterGreeting: true
        )
        var arguments = [
            "s_client", "-connect", "127.0.0.1:\(server.port)",
            "-CAfile", files.file("cairn-agent-ca.pem"),
            "-servername", "server.dc1.cairn", "-verify_hostname", "server.dc1.cairn", "-verify_return_error",
            "-ign_eof", "-brief",
        ]
        if let client {
            arguments += ["-cert", client.cert, "-key", client.key]
        }
        let result = try await runProcess(OpenSSL.path!, arguments, timeout: 20)
        let outcome = try await server.result()
        await server.stop()
        return (result, outcome)
    }

    @Test("mutual TLS with a client certificate succeeds, over TLS 1.3, and s_client verifies server.dc1.cairn")
    func succeeds() async throws {
        let client = try write(pki.issue(.client), kind: .client)
        let (openssl, listener) = try await sClient(presenting: client)
        #expect(openssl.status == 0, "\(openssl.output)")
        #expect(openssl.output.contains(OutcomeHandler.greeting.trimmingCharacters(in: .newlines)), "\(openssl.output)")
        #expect(openssl.output.contains("TLSv1.3"), "\(openssl.output)")
        #expect(listener.authenticated?.peer.role?.kind == .client, "\(listener)")
    }

    @Test("without a client certificate the listener refuses and s_client reports the alert")
    func noCertificate() async throws {
        let (openssl, listener) = try await sClient(presenting: nil)
        #expect(listener.error == .noPeerCertificate, "\(listener)")
        #expect(!openssl.output.contains(OutcomeHandler.greeting.trimmingCharacters(in: .newlines)))
        #expect(openssl.output.lowercased().contains("certificate required"), "\(openssl.output)")
        #expect(openssl.status != 0, "\(openssl.output)")
    }

    @Test("with a certificate of another CA the listener refuses it as unknown CA")
    func foreignCertificate() async throws {
        let foreign = try TemporaryDirectory()
        let written = try CertificateDirectory(foreign.path).saveLeaf(TestPKI().issue(.client), kind: .client, cluster: ClusterName())
        let (openssl, listener) = try await sClient(presenting: (written[0], written[1]))
        #expect(listener.error == .unknownCA, "\(listener)")
        #expect(!openssl.output.contains(OutcomeHandler.greeting.trimmingCharacters(in: .newlines)))
        #expect(openssl.output.lowercased().contains("certificate unknown"), "\(openssl.output)")
        #expect(openssl.status != 0, "\(openssl.output)")
    }
}

enum OpenSSL {
    /// The `openssl` executable on PATH, if any.
    static let path: String? = {
        let directories = (ProcessInfo.processInfo.environment["PATH"] ?? "/usr/bin:/bin").split(separator: ":")
        return directories.map { "\($0)/openssl" }.first { FileManager.default.isExecutableFile(atPath: $0) }
    }()
}

struct ProcessResult: Sendable {
    var status: Int32
    /// Standard output and standard error, interleaved.
    var output: String
}

/// Runs a program with standard input empty, killing it after `timeout` seconds.
func runProcess(_ executable: String, _ arguments: [String], timeout: Double) async throws -> ProcessResult {
    let outputFile = FileManager.default.temporaryDirectory.appendingPathComponent("cairn-process-\(UUID().uuidString)")
    _ = FileManager.default.createFile(atPath: outputFile.path, contents: nil)
    defer { try? FileManager.default.removeItem(at: outputFile) }
    let output = try FileHandle(forWritingTo: outputFile)
    defer { try? output.close() }

    let process = Process()
    process.executableURL = URL(fileURLWithPath: executable)
    process.arguments = arguments
    process.standardInput = FileHandle.nullDevice
    process.standardOutput = output
    process.standardError = output
    let box = ProcessBox(process)
    let status: Int32 = try await withCheckedThrowingContinuation { continuation in
        process.terminationHandler = { finished in continuation.resume(returning: finished.terminationStatus) }
        do {
            try process.run()
        } catch {
            process.terminationHandler = nil
            continuation.resume(throwing: error)
            return
        }
        DispatchQueue.global().asyncAfter(deadline: .now() + timeout) {
            if box.process.isRunning { box.process.terminate() }
        }
    }
    let text = String(decoding: (try? Data(contentsOf: outputFile)) ?? Data(), as: UTF8.self)
    return ProcessResult(status: status, output: text)
}

private final class ProcessBox: @unchecked Sendable {
    let process: Process
    init(_ process: Process) { self.process = process }
}
