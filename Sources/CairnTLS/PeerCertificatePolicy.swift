import Foundation
@_spi(FixedExpiryValidationTime) import X509

/// The rule a connection's peer certificate must meet, as a value that does no IO.
///
/// Evaluation order, so that the first failure is the one a person needs to hear about:
/// 1. a certificate was presented (``CairnTLSError/Code/noPeerCertificate``);
/// 2. it is a leaf signed by the cluster CA (``CairnTLSError/Code/unknownCA``);
/// 3. it is within its validity period at ``now`` (``CairnTLSError/Code/certificateExpired``,
///    ``CairnTLSError/Code/certificateNotYetValid``);
/// 4. it carries the name the ``Requirement`` asks for
///    (``CairnTLSError/Code/notServerCertificate``, ``CairnTLSError/Code/serverNameMismatch``);
/// 5. its extended key usage allows the TLS role (``CairnTLSError/Code/invalidCertificate``);
/// 6. swift-certificates' `Verifier` builds the chain to the CA under RFC 5280 rules at ``now``
///    (``CairnTLSError/Code/invalidCertificate``): the authoritative check.
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
    public func evaluate(derChain: [[UInt8]]) async -> Result<VerifiedPeer, CairnTLSError> {
        var chain: [Certificate] = []
        for der in derChain {
            guard let certificate = try? Certificate(derEncoded: der) else {
                return .failure(CairnTLSError(.invalidCertificate, "the peer's certificate cannot be parsed as X.509"))
            }
            chain.append(certificate)
        }
        return await self.evaluate(chain)
    }

    /// Evaluates a presented chain, leaf first.
    public func evaluate(_ chain: [Certificate]) async -> Result<VerifiedPeer, CairnTLSError> {
        guard let leaf = chain.first else {
            return .failure(CairnTLSError(.noPeerCertificate, "no client certificate: the peer presented none"))
        }
        let now = self.now()
        let identity = CertificateIdentity(leaf)
        if let failure = self.precheck(leaf, identity: identity, now: now) {
            return .failure(failure)
        }
        var verifier = Verifier(rootCertificates: CertificateStore([self.trustRoot])) {
            RFC5280Policy(fixedExpiryValidationTime: now)
        }
        let result = await verifier.validate(leaf: leaf, intermediates: CertificateStore(chain.dropFirst()))
        switch result {
        case .validCertificate:
            let role = identity.clusterRole(domain: self.domain)
            return .success(VerifiedPeer(certificate: identity, role: role))
        case .couldNotValidate(let failures):
            let detail = failures.first.map { String(describing: $0.policyFailureReason) } ?? "no chain to the CA"
            return .failure(
                CairnTLSError(
                    .invalidCertificate,
                    "certificate \(identity.subject) (\(identity.nameList)) fails RFC 5280 validation: \(detail)"
                )
            )
        }
    }

    private func precheck(_ leaf: Certificate, identity: CertificateIdentity, now: Date) -> CairnTLSError? {
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
        if now > self.trustRoot.notValidAfter {
            return CairnTLSError(
                .certificateExpired,
                "certificate expired: this cluster's CA \"\(self.trustRoot.subject)\" expired at \(self.trustRoot.notValidAfter.rfc3339)"
            )
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
        let usage = self.requirement.usage
        guard leaf.allowsUsage(usage) else {
            let what = usage == .serverAuth ? "server" : "client"
            return CairnTLSError(
                .invalidCertificate,
                "certificate \(who) is not valid for TLS \(what) authentication (its extended key usage lacks \(what)Auth)"
            )
        }
        return nil
    }
}

/// A peer whose certificate passed a ``PeerCertificatePolicy``.
public struct VerifiedPeer: Sendable, Hashable {
    /// What its certificate says.
    public let certificate: CertificateIdentity
    /// Its role in the cluster, read from its names (`nil` for a certificate with no Cairn name).
    public let role: ClusterRole?
}
