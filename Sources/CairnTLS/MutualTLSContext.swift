import Foundation
import Logging
import NIOCore
import NIOSSL

/// Mutual TLS for one kind of Cairn endpoint: its NIOSSL `TLSConfiguration`, the
/// ``PeerCertificatePolicy`` that checks the other side, and the channel handlers that apply both.
///
/// Four kinds, each made by a static function:
/// - ``peerListener(identity:datacenter:domain:now:)``: the server-to-server port. Requires a
///   client certificate signed by the CA that is a *server* certificate of the same datacenter.
/// - ``clientListener(identity:domain:now:)``: the client port. Requires a client certificate of any
///   kind (server, client, CLI) signed by the CA.
/// - ``peerDialer(identity:datacenter:domain:now:)``: a server dialing another server. Presents its
///   server certificate; the remote must carry `server.<dc>.<domain>`.
/// - ``clientDialer(identity:datacenter:domain:now:)``: a client or CLI dialing a server. Presents its
///   certificate; the server must carry `server.<dc>.<domain>`.
///
/// Every configuration sets TLS 1.2 as the minimum (nio-ssl's mTLS default is 1.0) and no maximum,
/// so TLS 1.3 is negotiated whenever the peer offers it. The CA is the only trust root.
///
/// The peer check runs in NIOSSL's custom verification callback, so it exists only in a handler
/// made by this type: install it with ``addHandlers(to:logger:)`` in the channel initializer. The
/// ``configuration`` alone still verifies the chain with BoringSSL (and, for dialers, the host name)
/// but not the server-of-this-datacenter rule of the peer listener.
public struct MutualTLSContext: Sendable {
    /// Which endpoint this context is for.
    public enum Role: String, Sendable, Hashable, CustomStringConvertible {
        case peerListener = "peer listener"
        case clientListener = "client listener"
        case peerDialer = "peer dialer"
        case clientDialer = "client dialer"

        /// Whether this side accepts connections (TLS server) rather than dials them.
        public var isListener: Bool {
            self == .peerListener || self == .clientListener
        }

        public var description: String { self.rawValue }
    }

    /// Which endpoint this is.
    public let role: Role
    /// The NIOSSL configuration: this node's certificate and key, the CA as sole trust root,
    /// a required peer certificate, TLS 1.2 minimum.
    public let configuration: TLSConfiguration
    /// The rule the peer's certificate must meet.
    public let policy: PeerCertificatePolicy
    /// For dialers, the name the server must carry and that is sent as SNI: `server.<dc>.<domain>`.
    public let serverHostname: String?
    /// The NIOSSL context built from ``configuration`` (built once, shared by all connections).
    public let sslContext: NIOSSLContext

    private let nioCA: NIOSSLCertificate

    // MARK: The four endpoints

    /// The server-to-server listener of a server in `datacenter`.
    /// - Throws: ``CairnTLSError/Code/wrongCertificateKind`` unless `identity` is a server
    ///   certificate of `datacenter`.
    public static func peerListener(
        identity: TLSIdentity,
        datacenter: String = ClusterName.defaultDatacenter,
        domain: String = ClusterName.defaultDomain,
        now: @escaping @Sendable () -> Date = { Date() }
    ) throws -> MutualTLSContext {
        let cluster = try ClusterName(datacenter: datacenter, domain: domain)
        try Self.requireServerCertificate(identity, of: cluster, for: .peerListener)
        return try MutualTLSContext(
            role: .peerListener,
            identity: identity,
            requirement: .serverCertificate(cluster),
            domain: cluster.domain,
            serverHostname: nil,
            now: now
        )
    }

    /// The client listener (clients, CLIs and servers connect to it).
    /// - Throws: ``CairnTLSError/Code/wrongCertificateKind`` unless `identity` may act as a TLS
    ///   server (a server or client certificate; not a CLI one).
    public static func clientListener(
        identity: TLSIdentity,
        domain: String = ClusterName.defaultDomain,
        now: @escaping @Sendable () -> Date = { Date() }
    ) throws -> MutualTLSContext {
        let cluster = try ClusterName(domain: domain)
        guard identity.identity.allowsServerAuthentication else {
            throw CairnTLSError(
                .wrongCertificateKind,
                "the client listener's certificate (\(identity.identity.nameList)) is not valid for TLS server authentication; "
                    + "use a server certificate"
            )
        }
        return try MutualTLSContext(
            role: .clientListener,
            identity: identity,
            requirement: .anyClusterCertificate,
            domain: cluster.domain,
            serverHostname: nil,
            now: now
        )
    }

    /// A server dialing the servers of `datacenter`.
    /// - Throws: ``CairnTLSError/Code/wrongCertificateKind`` unless `identity` is a server certificate.
    public static func peerDialer(
        identity: TLSIdentity,
        datacenter: String = ClusterName.defaultDatacenter,
        domain: String = ClusterName.defaultDomain,
        now: @escaping @Sendable () -> Date = { Date() }
    ) throws -> MutualTLSContext {
        let cluster = try ClusterName(datacenter: datacenter, domain: domain)
        guard identity.identity.clusterRole(domain: cluster.domain)?.kind == .server else {
            throw CairnTLSError(
                .wrongCertificateKind,
                "the peer dialer's certificate is not a server certificate (has names \(identity.identity.nameList)); "
                    + "servers dial each other with `cairn tls cert create --server` certificates"
            )
        }
        return try MutualTLSContext(
            role: .peerDialer,
            identity: identity,
            requirement: .serverName(cluster),
            domain: cluster.domain,
            serverHostname: cluster.serverName,
            now: now
        )
    }

    /// A client or CLI dialing the servers of `datacenter`.
    /// - Throws: ``CairnTLSError/Code/wrongCertificateKind`` unless `identity` may act as a TLS client.
    public static func clientDialer(
        identity: TLSIdentity,
        datacenter: String = ClusterName.defaultDatacenter,
        domain: String = ClusterName.defaultDomain,
        now: @escaping @Sendable () -> Date = { Date() }
    ) throws -> MutualTLSContext {
        let cluster = try ClusterName(datacenter: datacenter, domain: domain)
        guard identity.identity.allowsClientAuthentication else {
            throw CairnTLSError(
                .wrongCertificateKind,
                "the certificate (\(identity.identity.nameList)) is not valid for TLS client authentication"
            )
        }
        return try MutualTLSContext(
            role: .clientDialer,
            identity: identity,
            requirement: .serverName(cluster),
            domain: cluster.domain,
            serverHostname: cluster.serverName,
            now: now
        )
    }

    private static func requireServerCertificate(_ identity: TLSIdentity, of cluster: ClusterName, for role: Role) throws {
        guard identity.identity.hasDNSName(cluster.serverName) else {
            throw CairnTLSError(
                .wrongCertificateKind,
                "the \(role)'s certificate is not a server certificate for datacenter \(cluster.datacenter) "
                    + "(has names \(identity.identity.nameList)); make one with `cairn tls cert create --server --dc \(cluster.datacenter)`"
            )
        }
    }

    private init(
        role: Role,
        identity: TLSIdentity,
        requirement: PeerCertificatePolicy.Requirement,
        domain: String,
        serverHostname: String?,
        now: @escaping @Sendable () -> Date
    ) throws {
        var configuration: TLSConfiguration
        let chain: [NIOSSLCertificateSource] = [.certificate(identity.nioCertificate)]
        let key = NIOSSLPrivateKeySource.privateKey(identity.nioPrivateKey)
        if role.isListener {
            configuration = TLSConfiguration.makeServerConfigurationWithMTLS(
                certificateChain: chain,
                privateKey: key,
                trustRoots: .certificates([identity.nioCA])
            )
            configuration.certificateVerification = .noHostnameVerification
            configuration.sendCANameList = true
        } else {
            configuration = TLSConfiguration.makeClientConfiguration()
            configuration.certificateChain = chain
            configuration.privateKey = key
            configuration.trustRoots = .certificates([identity.nioCA])
            configuration.certificateVerification = .fullVerification
        }
        configuration.minimumTLSVersion = .tlsv12
        configuration.maximumTLSVersion = nil
        self.role = role
        self.configuration = configuration
        self.policy = PeerCertificatePolicy(trustRoot: identity.ca, requirement: requirement, domain: domain, now: now)
        self.serverHostname = serverHostname
        self.nioCA = identity.nioCA
        do {
            self.sslContext = try NIOSSLContext(configuration: configuration)
        } catch {
            throw CairnTLSError(.handshakeFailed, "cannot build the \(role)'s TLS context: \(error)")
        }
    }

    // MARK: Installing it in a pipeline

    /// Adds, at the front of the pipeline, the NIOSSL handler with Cairn's peer verification
    /// installed (`NIOSSLServerHandler` for listeners, `NIOSSLClientHandler` with SNI
    /// ``serverHostname`` for dialers) followed by a ``TLSHandshakeReporter``.
    ///
    /// Call it on the channel's event loop, e.g. from a bootstrap's channel initializer:
    /// ```swift
    /// ServerBootstrap(group: group).childChannelInitializer { channel in
    ///     channel.eventLoop.makeCompletedFuture {
    ///         try tls.addHandlers(to: channel.pipeline.syncOperations, logger: logger)
    ///         try channel.pipeline.syncOperations.addHandler(MyProtocolHandler())
    ///     }
    /// }
    /// ```
    /// Handlers after them see ``TLSPeerAuthenticated`` once the peer is verified, and a
    /// ``CairnTLSError`` (via `errorCaught`) naming the reason when the handshake fails; the
    /// reporter also logs that reason on `logger`.
    public func addHandlers(to pipeline: ChannelPipeline.SynchronousOperations, logger: Logger) throws {
        let record = VerificationRecord()
        let callback = self.makeVerificationCallback(record: record)
        let sslHandler: NIOSSLHandler
        if self.role.isListener {
            sslHandler = NIOSSLServerHandler(context: self.sslContext, customVerificationCallbackWithMetadata: callback)
        } else {
            sslHandler = try NIOSSLClientHandler(
                context: self.sslContext,
                serverHostname: self.serverHostname,
                customVerificationCallbackWithMetadata: callback
            )
        }
        let reporter = TLSHandshakeReporter(role: self.role, record: record, sslHandler: sslHandler, logger: logger)
        try pipeline.addHandlers([sslHandler, reporter], position: .first)
    }

    /// The callback NIOSSL calls with the peer's chain: it evaluates ``policy`` right there on the
    /// event loop, records the outcome for the reporter, and answers NIOSSL with the validated
    /// chain (leaf, CA) or a failure.
    private func makeVerificationCallback(record: VerificationRecord) -> NIOSSLCustomVerificationCallbackWithMetadata {
        let policy = self.policy
        let nioCA = self.nioCA
        return { presented, promise in
            guard let leaf = presented.first, let derChain = try? presented.map({ try $0.toDERBytes() }) else {
                record.outcome = .failure(CairnTLSError(.invalidCertificate, "the peer's certificate cannot be read"))
                promise.succeed(.failed)
                return
            }
            let outcome = policy.evaluate(derChain: derChain)
            record.outcome = outcome
            switch outcome {
            case .success:
                promise.succeed(.certificateVerified(VerificationMetadata(ValidatedCertificateChain([leaf, nioCA]))))
            case .failure:
                promise.succeed(.failed)
            }
        }
    }
}

/// The verification outcome of one connection, shared by its callback and its reporter.
/// Touched only on the channel's event loop.
final class VerificationRecord {
    var outcome: Result<VerifiedPeer, CairnTLSError>?
}

@available(*, unavailable)
extension VerificationRecord: Sendable {}
