import CairnTLS
import Foundation
import Logging
import X509

/// A fresh, empty directory under the system's temporary directory, removed by `cleanup()`.
final class TemporaryDirectory: Sendable {
    let path: String

    init() throws {
        let url = FileManager.default.temporaryDirectory.appendingPathComponent("cairn-tls-\(UUID().uuidString)")
        try FileManager.default.createDirectory(at: url, withIntermediateDirectories: true)
        self.path = url.path
    }

    func file(_ name: String) -> String {
        "\(self.path)/\(name)"
    }

    /// The names of the files in the directory, sorted.
    func listing() throws -> [String] {
        try FileManager.default.contentsOfDirectory(atPath: self.path).sorted()
    }

    deinit {
        try? FileManager.default.removeItem(atPath: self.path)
    }
}

/// Certificates made in memory for a test: a CA and leaves of each kind.
struct TestPKI {
    let authority: CertificateAuthority

    init() throws {
        self.authority = try CertificateAuthority.create(validity: .days(30))
    }

    func issue(
        _ kind: CertificateKind,
        datacenter: String = "dc1",
        node: String? = nil,
        validity: CertificateValidity? = nil
    ) throws -> IssuedCertificate {
        try self.authority.issue(
            LeafCertificateRequest(
                kind: kind,
                cluster: ClusterName(datacenter: datacenter),
                node: node,
                validity: validity ?? .days(30)
            )
        )
    }

    func identity(
        _ kind: CertificateKind,
        datacenter: String = "dc1",
        validity: CertificateValidity? = nil,
        now: Date = Date()
    ) throws -> TLSIdentity {
        try TLSIdentity(authority: self.authority, issued: self.issue(kind, datacenter: datacenter, validity: validity), now: now)
    }
}

/// Bounds an async wait: the body's result, or `TimedOut` after `seconds`.
struct TimedOut: Error, CustomStringConvertible {
    let what: String
    var description: String { "timed out waiting for \(self.what)" }
}

func withTimeout<T: Sendable>(
    _ seconds: Double,
    _ what: String,
    _ body: @escaping @Sendable () async throws -> T
) async throws -> T {
    try await withThrowingTaskGroup(of: T.self) { group in
        group.addTask { try await body() }
        group.addTask {
            try await Task.sleep(for: .seconds(seconds))
            throw TimedOut(what: what)
        }
        defer { group.cancelAll() }
        return try await group.next()!
    }
}

/// A log handler that keeps every message, so a test can check what a side logged.
final class CapturedLog: @unchecked Sendable {
    private let lock = NSLock()
    private var entries: [(Logger.Level, String)] = []

    var logger: Logger {
        Logger(label: "cairn.tls.test") { _ in CapturingHandler(log: self) }
    }

    func append(_ level: Logger.Level, _ message: String) {
        self.lock.withLock { self.entries.append((level, message)) }
    }

    /// The warnings and errors logged so far.
    var warnings: [String] {
        self.lock.withLock { self.entries.filter { $0.0 >= .warning }.map(\.1) }
    }
}

private struct CapturingHandler: LogHandler {
    let log: CapturedLog
    var metadata: Logger.Metadata = [:]
    var logLevel: Logger.Level = .trace

    subscript(metadataKey key: String) -> Logger.Metadata.Value? {
        get { self.metadata[key] }
        set { self.metadata[key] = newValue }
    }

    func log(event: LogEvent) {
        self.log.append(event.level, "\(event.message)")
    }
}
