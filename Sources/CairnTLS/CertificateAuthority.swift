import Crypto
import Foundation
import SwiftASN1
import X509

/// A cluster's certificate authority: a self-signed ECDSA P-256 certificate and its key, which
/// issues server, client and CLI certificates.
///
/// Invariant: ``certificate`` is a CA certificate (basic constraints CA, key usage keyCertSign)
/// whose public key belongs to ``privateKey``.
public struct CertificateAuthority: Sendable {
    /// The self-signed CA certificate, the cluster's single trust root.
    public let certificate: Certificate
    /// The CA's signing key.
    public let privateKey: Certificate.PrivateKey

    /// Makes a new CA with subject `CN=Cairn Agent CA <random>, O=Cairn`, a fresh P-256 key and a
    /// random serial number.
    public static func create(validity: CertificateValidity) throws -> CertificateAuthority {
        let key = Certificate.PrivateKey(P256.Signing.PrivateKey())
        let subject = try DistinguishedName {
            OrganizationName("Cairn")
            CommonName("Cairn Agent CA \(UInt64.random(in: 1...UInt64.max))")
        }
        let keyID = SubjectKeyIdentifier(hash: key.publicKey)
        let extensions = try Certificate.Extensions {
            Critical(BasicConstraints.isCertificateAuthority(maxPathLength: 0))
            Critical(KeyUsage(digitalSignature: true, keyCertSign: true, cRLSign: true))
            keyID
            AuthorityKeyIdentifier(keyIdentifier: keyID.keyIdentifier)
        }
        let certificate = try Certificate(
            version: .v3,
            serialNumber: Certificate.SerialNumber(),
            publicKey: key.publicKey,
            notValidBefore: validity.notBefore,
            notValidAfter: validity.notAfter,
            issuer: subject,
            subject: subject,
            signatureAlgorithm: .ecdsaWithSHA256,
            extensions: extensions,
            issuerPrivateKey: key
        )
        return try CertificateAuthority(certificate: certificate, privateKey: key)
    }

    /// Pairs a CA certificate with its key, checking both invariants.
    /// - Throws: ``CairnTLSError/Code/wrongCertificateKind`` if the certificate is not a CA,
    ///   ``CairnTLSError/Code/keyMismatch`` if the key is not the certificate's.
    public init(certificate: Certificate, privateKey: Certificate.PrivateKey) throws {
        guard certificate.isCertificateAuthority else {
            throw CairnTLSError(
                .wrongCertificateKind,
                "\(certificate.subjectSummary) is not a CA certificate (no CA basic constraint)"
            )
        }
        guard certificate.publicKey == privateKey.publicKey else {
            throw CairnTLSError(.keyMismatch, "the CA key does not belong to the CA certificate \(certificate.subjectSummary)")
        }
        self.certificate = certificate
        self.privateKey = privateKey
    }

    /// Loads a CA from PEM text; `source` names where each came from in error messages.
    /// - Throws: ``CairnTLSError/Code/unreadablePEM`` for text that is not a PEM certificate or key,
    ///   and the errors of ``init(certificate:privateKey:)``.
    public init(
        certificatePEM: String,
        privateKeyPEM: String,
        certificateSource: String = "CA certificate",
        keySource: String = "CA key"
    ) throws {
        try self.init(
            certificate: PEM.certificate(certificatePEM, source: certificateSource),
            privateKey: PEM.privateKey(privateKeyPEM, source: keySource)
        )
    }

    /// The CA certificate as PEM.
    public var certificatePEM: String {
        get throws { try self.certificate.serializeAsPEM().pemString }
    }

    /// The CA key as PEM (PKCS #8).
    public var privateKeyPEM: String {
        get throws { try self.privateKey.serializeAsPEM().pemString }
    }

    /// Issues a leaf certificate with a fresh P-256 key and a random serial number, signed with
    /// ECDSA-SHA256.
    ///
    /// Extensions: critical basic constraints (not a CA), critical key usage digitalSignature, the
    /// kind's extended key usages, the request's subject alternative names, and key identifiers.
    public func issue(_ request: LeafCertificateRequest) throws -> IssuedCertificate {
        let key = Certificate.PrivateKey(P256.Signing.PrivateKey())
        let subject = try DistinguishedName {
            CommonName(request.commonName)
        }
        let names: [GeneralName] =
            request.dnsNames.map { .dnsName($0) }
            + request.ipAddresses.map { .ipAddress(ASN1OctetString(contentBytes: $0.bytes[...])) }
        let authorityKeyID = self.certificate.extensionsSubjectKeyIdentifier
        let extensions = try Certificate.Extensions {
            Critical(BasicConstraints.notCertificateAuthority)
            Critical(KeyUsage(digitalSignature: true))
            try ExtendedKeyUsage(request.kind.extendedKeyUsages)
            SubjectAlternativeNames(names)
            SubjectKeyIdentifier(hash: key.publicKey)
            if let authorityKeyID {
                AuthorityKeyIdentifier(keyIdentifier: authorityKeyID)
            }
        }
        let certificate = try Certificate(
            version: .v3,
            serialNumber: Certificate.SerialNumber(),
            publicKey: key.publicKey,
            notValidBefore: request.validity.notBefore,
            notValidAfter: request.validity.notAfter,
            issuer: self.certificate.subject,
            subject: subject,
            signatureAlgorithm: .ecdsaWithSHA256,
            extensions: extensions,
            issuerPrivateKey: self.privateKey
        )
        return IssuedCertificate(certificate: certificate, privateKey: key)
    }
}
