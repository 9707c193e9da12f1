import Foundation
import SwiftASN1
import X509

/// The rule a connection's peer certificate must meet, as a value that does no IO.
///
/// Evaluation order, so that the first failure is the one a person needs to hear about:
/// 1. a certificate was presented (``CairnTLSError/Code/noPeerCertificate``);
/// 2. it is signed by the cluster CA, directly (``CairnTLSError/Code/unknownCA``);
/// 3. it is a leaf, not a CA (``CairnTLSError/Code/wrongCertificateKind``);
/// 4. it and the CA are within their validity periods at ``now``
///    (``CairnTLSError/Code/certificateExpired``, ``CairnTLSError/Code/certificateNotYetValid``);
/// 5. it carries the name the ``Requirement`` asks for
///    (``CairnTLSError/Code/notServerCertificate``, ``CairnTLSError/Code/serverNameMismatch``);
/// 6. the remaining RFC 5280 rules for a one-level hierarchy hold — X.509 v3, no critical
///    extension it does not understand, key usage allows digitalSignature, extended key usage
///    allows the TLS role, the CA has no name constraints (Cairn never makes them)
///    (``CairnTLSError/Code/invalidCertificate``).
///
/// Evaluation is synchronous so that it runs on the channel's event loop inside NIOSSL's
/// verification callback, with no hop to another executor. Cairn's CA signs leaves directly, so
/// extra certificates a peer sends after its leaf are ignored. The tests check the same
/// certificates with swift-certificates' `Verifier` and `RFC5280Policy`.
public struct PeerCertificatePolicy: Sendable {
    /// What the peer's certificate must be.
    public enum Requirement: Sendable, Hashable {
        /// Peer listener: a server certificate of this datacenter (`server.<dc>.<domain>`),
        /// usable for TLS client authentication.
        case serverCertificate(ClusterName)
        /// Client listener: any certificate the CA issued (server, client or CLI), usable for TLS
        /// client authentication.
        case anyClusterCertificate
        /// Dialers: the server they reach must carry `server.<dc>.<domain>` and be usable for
        /// TLS server authentication.
        case serverName(ClusterName)

        var usage: ExtendedKeyUsage.Usage {
            switch self {
            case .serverCertificate, .anyClusterCertificate: .clientAuth
            case .serverName: .serverAuth
            }
        }
    }

    /// The cluster CA, the only trust root.
    public let trustRoot: Certificate
    /// What the peer must present.
    public let requirement: Requirement
    /// The domain used to read the peer's role from its names.
    public let domain: String
    /// The clock validity is checked against.
    public let now: @Sendable () -> Date

    /// A policy trusting `trustRoot` only.
    public init(
        trustRoot: Certificate,
        requirement: Requirement,
        domain: String = ClusterName.defaultDomain,
        now: @escaping @Sendable () -> Date = { Date() }
    ) {
        self.trustRoot = trustRoot
        self.requirement = requirement
        self.domain = domain
        self.now = now
    }

    /// Evaluates a chain of DER certificates as presented in a handshake, leaf first.
    public func evaluate(derChain: [[UInt8]]) -> Result<VerifiedPeer, CairnTLSError> {
        var chain: [Certificate] = []
        for der in derChain {
            guard let certificate = try? Certificate(derEncoded: der) else {
                return .failure(CairnTLSError(.invalidCertificate, "the peer's certificate cannot be parsed as X.509"))
            }
            chain.append(certificate)
        }
        return self.evaluate(chain)
    }

    /// Evaluates a presented chain, leaf first.
    public func evaluate(_ chain: [Certificate]) -> Result<VerifiedPeer, CairnTLSError> {
        guard let leaf = chain.first else {
            return .failure(CairnTLSError(.noPeerCertificate, "no client certificate: the peer presented none"))
        }
        let identity = CertificateIdentity(leaf)
        if let failure = self.check(leaf, identity: identity, now: self.now()) {
            return .failure(failure)
        }
        return .success(VerifiedPeer(certificate: identity, role: identity.clusterRole(domain: self.domain)))
    }

    /// The critical extensions a Cairn leaf may carry: the ones this policy enforces.
    static let understoodCriticalExtensions: Set<ASN1ObjectIdentifier> = [
        .X509ExtensionID.basicConstraints,
        .X509ExtensionID.keyUsage,
        .X509ExtensionID.extendedKeyUsage,
        .X509ExtensionID.subjectAlternativeName,
    ]

    private func check(_ leaf: Certificate, identity: CertificateIdentity, now: Date) -> CairnTLSError? {
        let who = "\(identity.subject) (\(identity.nameList))"
        guard leaf.issuer == self.trustRoot.subject,
            self.trustRoot.publicKey.isValidSignature(leaf.signature, for: leaf)
        else {
            return CairnTLSError(
                .unknownCA,
                "certificate signed by an unknown CA: \(who) was issued by \"\(identity.issuer)\", "
                    + "not by this cluster's CA \"\(self.trustRoot.subject)\""
            )
        }
        if identity.isCertificateAuthority {
            return CairnTLSError(.wrongCertificateKind, "the peer presented the CA certificate itself, not a leaf certificate")
        }
        if now > leaf.notValidAfter {
            return CairnTLSError(
                .certificateExpired,
                "certificate expired: \(who) expired at \(leaf.notValidAfter.rfc3339) (now \(now.rfc3339))"
            )
        }
        if now < leaf.notValidBefore {
            return CairnTLSError(
                .certificateNotYetValid,
                "certificate not yet valid: \(who) is valid from \(leaf.notValidBefore.rfc3339) (now \(now.rfc3339)); check the clocks"
            )
        }
        if now > self.trustRoot.notValidAfter {
            return CairnTLSError(
                .certificateExpired,
                "certificate expired: this cluster's CA \"\(self.trustRoot.subject)\" expired at \(self.trustRoot.notValidAfter.rfc3339)"
            )
        }
        if now < self.trustRoot.notValidBefore {
            return CairnTLSError(
                .certificateNotYetValid,
                "certificate not yet valid: this cluster's CA \"\(self.trustRoot.subject)\" is valid from "
                    + "\(self.trustRoot.notValidBefore.rfc3339); check the clocks"
            )
        }
        switch self.requirement {
        case .serverCertificate(let cluster) where !identity.hasDNSName(cluster.serverName):
            return CairnTLSError(
                .notServerCertificate,
                "certificate is not a server certificate for datacenter \(cluster.datacenter) "
                    + "(has names \(identity.nameList); needs \(cluster.serverName))"
            )
        case .serverName(let cluster) where !identity.hasDNSName(cluster.serverName):
            return CairnTLSError(
                .serverNameMismatch,
                "server name mismatch: expected \(cluster.serverName), the server's certificate has names \(identity.nameList)"
            )
        default:
            break
        }
        return self.checkRFC5280(leaf, who: who)
    }

    private func checkRFC5280(_ leaf: Certificate, who: String) -> CairnTLSError? {
        func invalid(_ what: String) -> CairnTLSError {
            CairnTLSError(.invalidCertificate, "certificate \(who) \(what)")
        }
        guard leaf.version == .v3 else {
            return invalid("is not an X.509 v3 certificate")
        }
        if let unknown = leaf.extensions.first(where: { $0.critical && !Self.understoodCriticalExtensions.contains($0.oid) }) {
            return invalid("has a critical extension Cairn does not understand (\(unknown.oid))")
        }
        if let keyUsage = try? leaf.extensions.keyUsage, !keyUsage.digitalSignature {
            return invalid("may not sign (its key usage lacks digitalSignature), so it cannot authenticate a TLS handshake")
        }
        let usage = self.requirement.usage
        guard leaf.allowsUsage(usage) else {
            let what = usage == .serverAuth ? "server" : "client"
            return invalid("is not valid for TLS \(what) authentication (its extended key usage lacks \(what)Auth)")
        }
        if self.trustRoot.extensions[oid: .X509ExtensionID.nameConstraints] != nil {
            return CairnTLSError(
                .invalidCertificate,
                "this cluster's CA \"\(self.trustRoot.subject)\" has name constraints, which Cairn does not enforce; refusing every peer"
            )
        }
        return nil
    }
}
