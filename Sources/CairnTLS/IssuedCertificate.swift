import X509

/// A leaf certificate and its private key, as issued by a ``CertificateAuthority``.
public struct IssuedCertificate: Sendable {
    /// The signed certificate.
    public let certificate: Certificate
    /// Its private key.
    public let privateKey: Certificate.PrivateKey

    /// The certificate as PEM.
    public var certificatePEM: String {
        get throws { try self.certificate.serializeAsPEM().pemString }
    }

    /// The key as PEM (PKCS #8).
    public var privateKeyPEM: String {
        get throws { try self.privateKey.serializeAsPEM().pemString }
    }
}
