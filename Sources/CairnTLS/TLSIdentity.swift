import Foundation
import NIOSSL
import X509

/// A node's TLS identity: the cluster CA, the node's certificate and its private key — the
/// `--ca-file`, `--cert-file` and `--key-file` of an agent — loaded and checked together.
///
/// Invariants, checked when it is made (each error names the file and what is wrong):
/// the CA is a CA certificate and valid now; the certificate is a leaf signed by that CA and valid
/// now; the key belongs to the certificate.
public struct TLSIdentity: Sendable {
    /// The cluster CA certificate: the only trust root.
    public let ca: Certificate
    /// The node's certificate.
    public let certificate: Certificate
    /// The node's private key.
    public let privateKey: Certificate.PrivateKey
    /// What the node's certificate says.
    public let identity: CertificateIdentity

    let nioCA: NIOSSLCertificate
    let nioCertificate: NIOSSLCertificate
    let nioPrivateKey: NIOSSLPrivateKey

    /// Loads and checks the three PEM files.
    /// - Parameter now: The instant the certificates must be valid at (injectable for tests).
    /// - Throws: ``CairnTLSError`` with ``CairnTLSError/Code/unreadablePEM``,
    ///   ``CairnTLSError/Code/unknownCA``, ``CairnTLSError/Code/certificateExpired``,
    ///   ``CairnTLSError/Code/certificateNotYetValid``, ``CairnTLSError/Code/keyMismatch`` or
    ///   ``CairnTLSError/Code/wrongCertificateKind``, naming the file concerned.
    public init(caFile: String, certificateFile: String, keyFile: String, now: Date = Date()) throws {
        let caText = try PEM.readFile(caFile, what: "CA file")
        let certificateText = try PEM.readFile(certificateFile, what: "certificate file")
        let keyText = try PEM.readFile(keyFile, what: "key file")
        try self.init(
            ca: PEM.certificate(caText, source: "CA file \(caFile)"),
            certificate: PEM.certificate(certificateText, source: "certificate file \(certificateFile)"),
            privateKey: PEM.privateKey(keyText, source: "key file \(keyFile)"),
            now: now,
            names: (ca: "CA file \(caFile)", certificate: "certificate file \(certificateFile)", key: "key file \(keyFile)")
        )
    }

    /// Checks in-memory values (e.g. freshly issued ones) the same way.
    public init(ca: Certificate, certificate: Certificate, privateKey: Certificate.PrivateKey, now: Date = Date()) throws {
        try self.init(
            ca: ca,
            certificate: certificate,
            privateKey: privateKey,
            now: now,
            names: (ca: "CA certificate", certificate: "certificate", key: "private key")
        )
    }

    /// Uses an issued certificate of `authority`.
    public init(authority: CertificateAuthority, issued: IssuedCertificate, now: Date = Date()) throws {
        try self.init(ca: authority.certificate, certificate: issued.certificate, privateKey: issued.privateKey, now: now)
    }

    private init(
        ca: Certificate,
        certificate: Certificate,
        privateKey: Certificate.PrivateKey,
        now: Date,
        names: (ca: String, certificate: String, key: String)
    ) throws {
        let identity = CertificateIdentity(certificate)
        guard ca.isCertificateAuthority else {
            throw CairnTLSError(
                .wrongCertificateKind,
                "\(names.ca) does not hold a CA certificate (\"\(ca.subject)\" has no CA basic constraint)"
            )
        }
        if ca.extensions[oid: .X509ExtensionID.nameConstraints] != nil {
            throw CairnTLSError(
                .wrongCertificateKind,
                "\(names.ca) holds a CA with name constraints, which Cairn does not enforce; use a CA made by `cairn tls ca create`"
            )
        }
        if now > ca.notValidAfter {
            throw CairnTLSError(.certificateExpired, "\(names.ca): the CA certificate expired at \(ca.notValidAfter.rfc3339)")
        }
        guard certificate.issuer == ca.subject, ca.publicKey.isValidSignature(certificate.signature, for: certificate) else {
            throw CairnTLSError(
                .unknownCA,
                "\(names.certificate) is not signed by the CA in \(names.ca) "
                    + "(it was issued by \"\(certificate.issuer)\", the CA is \"\(ca.subject)\")"
            )
        }
        if identity.isCertificateAuthority {
            throw CairnTLSError(.wrongCertificateKind, "\(names.certificate) holds a CA certificate, not a node certificate")
        }
        if now > certificate.notValidAfter {
            throw CairnTLSError(
                .certificateExpired,
                "\(names.certificate) expired at \(certificate.notValidAfter.rfc3339) (\(identity.nameList))"
            )
        }
        if now < certificate.notValidBefore {
            throw CairnTLSError(
                .certificateNotYetValid,
                "\(names.certificate) is not valid until \(certificate.notValidBefore.rfc3339); check the clock"
            )
        }
        guard privateKey.publicKey == certificate.publicKey else {
            throw CairnTLSError(.keyMismatch, "\(names.key) does not belong to \(names.certificate)")
        }
        do {
            self.nioCA = try NIOSSLCertificate(bytes: PEM.der(ca), format: .der)
            self.nioCertificate = try NIOSSLCertificate(bytes: PEM.der(certificate), format: .der)
            self.nioPrivateKey = try NIOSSLPrivateKey(bytes: Array(privateKey.serializeAsPEM().pemString.utf8), format: .pem)
        } catch {
            throw CairnTLSError(.unreadablePEM, "\(names.key) or \(names.certificate) cannot be loaded into BoringSSL: \(error)")
        }
        self.ca = ca
        self.certificate = certificate
        self.privateKey = privateKey
        self.identity = identity
    }
}
