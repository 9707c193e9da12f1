/// A peer whose certificate passed a ``PeerCertificatePolicy``.
public struct VerifiedPeer: Sendable, Hashable {
    /// What its certificate says.
    public let certificate: CertificateIdentity
    /// Its role in the cluster, read from its names (`nil` for a certificate with no Cairn name).
    public let role: ClusterRole?
}
