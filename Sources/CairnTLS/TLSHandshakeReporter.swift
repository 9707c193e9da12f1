import Logging
import NIOCore
import NIOSSL
import NIOTLS  // TLSUserEvent; reached through NIOSSL, not listed in Package.swift

/// Fired down the pipeline by ``TLSHandshakeReporter`` once the peer's certificate passed the
/// context's ``PeerCertificatePolicy`` and the TLS handshake completed.
///
/// On a dialer with TLS 1.3 the handshake completes before the listener has checked the dialer's
/// own certificate: a refusal then arrives as a ``CairnTLSError`` right after this event. Treat a
/// connection as accepted once the other side has sent application data.
public struct TLSPeerAuthenticated: Sendable, Hashable {
    /// Who the peer is, by its certificate.
    public let peer: VerifiedPeer
    /// The negotiated TLS version.
    public let tlsVersion: TLSVersion?
}

/// Sits right after the NIOSSL handler that ``MutualTLSContext/addHandlers(to:logger:)`` installs.
///
/// - When the handshake completes, it passes NIOSSL's event on and fires ``TLSPeerAuthenticated``.
/// - When a TLS error arrives, it replaces it with a ``CairnTLSError`` that names the reason (the
///   policy's verdict if the peer's certificate was refused here, otherwise
///   ``TLSHandshakeFailure/classify(_:role:)`` of the error), logs it once at warning level
///   (`<role> <address>: TLS handshake failed: <reason>`), and fires it on. Later TLS errors of the
///   same connection (echoes of the first) are dropped. A connection that closes without
///   close_notify after a good handshake is logged at debug level only.
///   Other errors pass through untouched.
public final class TLSHandshakeReporter: ChannelInboundHandler, RemovableChannelHandler {
    public typealias InboundIn = NIOAny
    public typealias InboundOut = NIOAny

    private let role: MutualTLSContext.Role
    private let record: VerificationRecord
    private let sslHandler: NIOSSLHandler
    private let logger: Logger
    private var failureReported = false
    private var authenticated = false

    init(role: MutualTLSContext.Role, record: VerificationRecord, sslHandler: NIOSSLHandler, logger: Logger) {
        self.role = role
        self.record = record
        self.sslHandler = sslHandler
        self.logger = logger
    }

    public func userInboundEventTriggered(context: ChannelHandlerContext, event: Any) {
        context.fireUserInboundEventTriggered(event)
        guard let tlsEvent = event as? TLSUserEvent, case .handshakeCompleted = tlsEvent,
            case .success(let peer)? = self.record.outcome
        else { return }
        self.authenticated = true
        let version = self.sslHandler.tlsVersion
        self.logger.debug(
            "\(self.role) \(Self.remote(context)): mutual TLS established with \(peer.certificate.subject) (\(peer.certificate.nameList)), \(version.map { "\($0)" } ?? "unknown version")"
        )
        context.fireUserInboundEventTriggered(TLSPeerAuthenticated(peer: peer, tlsVersion: version))
    }

    public func errorCaught(context: ChannelHandlerContext, error: any Error) {
        guard TLSHandshakeFailure.isTLSError(error) else {
            context.fireErrorCaught(error)
            return
        }
        guard !self.failureReported else { return }
        self.failureReported = true
        let reported: CairnTLSError
        if case .failure(let refusal)? = self.record.outcome {
            reported = refusal
        } else {
            reported = TLSHandshakeFailure.classify(error, role: self.role)
        }
        let remote = Self.remote(context)
        switch (self.authenticated, reported.code) {
        case (false, _), (true, .rejectedByPeer), (true, .noPeerCertificate):
            // Before the handshake completed — or, with TLS 1.3, the listener's refusal of this
            // dialer's certificate, which arrives just after.
            self.logger.warning("\(self.role) \(remote): TLS handshake failed: \(reported.reason)")
        case (true, .connectionClosed):
            self.logger.debug("\(self.role) \(remote): \(reported.reason)")
        case (true, _):
            self.logger.warning("\(self.role) \(remote): TLS error: \(reported.reason)")
        }
        context.fireErrorCaught(reported)
    }

    /// `127.0.0.1:8300`, `[::1]:8300`.
    private static func remote(_ context: ChannelHandlerContext) -> String {
        guard let address = context.channel.remoteAddress else { return "(unknown address)" }
        guard let ip = address.ipAddress, let port = address.port else { return "\(address)" }
        return ip.contains(":") ? "[\(ip)]:\(port)" : "\(ip):\(port)"
    }
}

@available(*, unavailable)
extension TLSHandshakeReporter: Sendable {}
