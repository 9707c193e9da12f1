import Foundation
import X509

#if canImport(Glibc)
import Glibc
#elseif canImport(Musl)
import Musl
#elseif canImport(Darwin)
import Darwin
#endif

/// A directory of certificate files, named as Consul names them with `cairn` for `consul`:
///
/// ```
/// cairn-agent-ca.pem              the CA certificate (every node gets it)
/// cairn-agent-ca-key.pem          the CA key (stays with the operator)
/// dc1-server-cairn-0.pem          a server certificate, and its key:
/// dc1-server-cairn-0-key.pem
/// dc1-client-cairn-0.pem / -key.pem
/// dc1-cli-cairn-0.pem / -key.pem
/// ```
///
/// Leaf files are numbered with the first number for which neither file exists. Every write is
/// all-or-nothing: an existing file is never overwritten, and if any file of a set cannot be
/// written the ones already written are removed. Keys are written with mode 0600, certificates
/// with 0644 (both subject to the umask).
public struct CertificateDirectory: Sendable, Hashable {
    /// The directory's path, as given.
    public let path: String

    /// A directory at `path` (`"."` for the current directory). It must exist when written to.
    public init(_ path: String = ".") {
        self.path = path.isEmpty ? "." : path
    }

    /// `<domain>-agent-ca.pem`.
    public static func caCertificateFileName(domain: String = ClusterName.defaultDomain) -> String {
        "\(domain)-agent-ca.pem"
    }

    /// `<domain>-agent-ca-key.pem`.
    public static func caKeyFileName(domain: String = ClusterName.defaultDomain) -> String {
        "\(domain)-agent-ca-key.pem"
    }

    /// `<dc>-<kind>-<domain>-<n>.pem` and `<dc>-<kind>-<domain>-<n>-key.pem`.
    public static func leafFileNames(
        kind: CertificateKind,
        cluster: ClusterName,
        number: Int
    ) -> (certificate: String, key: String) {
        let stem = "\(cluster.datacenter)-\(kind.rawValue)-\(cluster.domain)-\(number)"
        return ("\(stem).pem", "\(stem)-key.pem")
    }

    /// The path of `name` in this directory (just `name` for `"."`).
    public func file(_ name: String) -> String {
        self.path == "." ? name : (self.path.hasSuffix("/") ? self.path + name : "\(self.path)/\(name)")
    }

    /// The first `n` for which neither leaf file of `kind` exists.
    public func nextLeafNumber(kind: CertificateKind, cluster: ClusterName) -> Int {
        var number = 0
        while true {
            let names = Self.leafFileNames(kind: kind, cluster: cluster, number: number)
            if !self.exists(names.certificate), !self.exists(names.key) {
                return number
            }
            number += 1
        }
    }

    /// Loads the CA that signs new certificates.
    /// - Throws: ``CairnTLSError/Code/missingCA`` if either file is missing,
    ///   ``CairnTLSError/Code/unreadablePEM`` if either is not PEM, and the errors of
    ///   ``CertificateAuthority/init(certificate:privateKey:)``.
    public static func loadCA(certificateFile: String, keyFile: String) throws -> CertificateAuthority {
        let hint = " (create a CA first with `cairn tls ca create`, or name it with --ca and --key)"
        let certificateText = try PEM.readFile(certificateFile, what: "CA certificate", missing: .missingCA, hint: hint)
        let keyText = try PEM.readFile(keyFile, what: "CA key", missing: .missingCA, hint: hint)
        do {
            return try CertificateAuthority(
                certificatePEM: certificateText,
                privateKeyPEM: keyText,
                certificateSource: "CA certificate \(certificateFile)",
                keySource: "CA key \(keyFile)"
            )
        } catch var error as CairnTLSError where error.code == .keyMismatch {
            error.reason = "CA key \(keyFile) does not belong to CA certificate \(certificateFile)"
            throw error
        } catch var error as CairnTLSError where error.code == .wrongCertificateKind {
            error.reason = "\(certificateFile) is not a CA certificate"
            throw error
        }
    }

    /// Writes `<domain>-agent-ca.pem` and `<domain>-agent-ca-key.pem`.
    /// - Returns: The paths written, certificate first.
    /// - Throws: ``CairnTLSError/Code/fileExists`` if either exists (nothing is written),
    ///   ``CairnTLSError/Code/writeFailed`` otherwise.
    @discardableResult
    public func saveCA(_ ca: CertificateAuthority, domain: String = ClusterName.defaultDomain) throws -> [String] {
        try self.commit([
            PlannedFile(name: Self.caCertificateFileName(domain: domain), contents: try ca.certificatePEM, mode: 0o644),
            PlannedFile(name: Self.caKeyFileName(domain: domain), contents: try ca.privateKeyPEM, mode: 0o600),
        ])
    }

    /// Writes a leaf certificate and its key under the next free number for its kind.
    /// - Returns: The paths written, certificate first.
    /// - Throws: ``CairnTLSError/Code/fileExists`` if another writer took the number meanwhile
    ///   (nothing is written), ``CairnTLSError/Code/writeFailed`` otherwise.
    @discardableResult
    public func saveLeaf(_ issued: IssuedCertificate, kind: CertificateKind, cluster: ClusterName) throws -> [String] {
        let names = Self.leafFileNames(kind: kind, cluster: cluster, number: self.nextLeafNumber(kind: kind, cluster: cluster))
        return try self.commit([
            PlannedFile(name: names.certificate, contents: try issued.certificatePEM, mode: 0o644),
            PlannedFile(name: names.key, contents: try issued.privateKeyPEM, mode: 0o600),
        ])
    }

    // MARK: All-or-nothing writes

    struct PlannedFile {
        var name: String
        var contents: String
        var mode: mode_t
    }

    private func exists(_ name: String) -> Bool {
        var info = stat()
        return lstat(self.file(name), &info) == 0
    }

    private func commit(_ files: [PlannedFile]) throws -> [String] {
        var isDirectory: ObjCBool = false
        guard FileManager.default.fileExists(atPath: self.path, isDirectory: &isDirectory), isDirectory.boolValue else {
            throw CairnTLSError(.invalidArgument, "directory \(self.path) does not exist")
        }
        for planned in files where self.exists(planned.name) {
            throw CairnTLSError(.fileExists, "\(self.file(planned.name)) already exists; refusing to overwrite it")
        }
        var written: [String] = []
        do {
            for planned in files {
                let path = self.file(planned.name)
                try Self.createExclusively(path, contents: planned.contents, mode: planned.mode)
                written.append(path)
            }
        } catch {
            for path in written {
                unlink(path)
            }
            throw error
        }
        Self.syncDirectory(self.path)
        return written
    }

    private static func createExclusively(_ path: String, contents: String, mode: mode_t) throws {
        let fd = open(path, O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC, mode)
        guard fd >= 0 else {
            let code = errno
            if code == EEXIST {
                throw CairnTLSError(.fileExists, "\(path) already exists; refusing to overwrite it")
            }
            throw CairnTLSError(.writeFailed, "cannot create \(path): \(String(cString: strerror(code)))")
        }
        var failure: Int32 = 0
        if fchmod(fd, mode) != 0 { failure = errno }
        let bytes = Array(contents.utf8)
        var offset = 0
        while failure == 0, offset < bytes.count {
            let count = bytes[offset...].withUnsafeBytes { write(fd, $0.baseAddress, $0.count) }
            if count < 0 {
                if errno == EINTR { continue }
                failure = errno
            } else {
                offset += count
            }
        }
        if failure == 0, fsync(fd) != 0 { failure = errno }
        close(fd)
        if failure != 0 {
            unlink(path)
            throw CairnTLSError(.writeFailed, "cannot write \(path): \(String(cString: strerror(failure)))")
        }
    }

    private static func syncDirectory(_ path: String) {
        let fd = open(path, O_RDONLY | O_DIRECTORY | O_CLOEXEC)
        guard fd >= 0 else { return }
        _ = fsync(fd)
        close(fd)
    }
}
