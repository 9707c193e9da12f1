import Foundation
import NIOCore
import NIOSSL

/// Turns whatever a failed TLS handshake produced — a ``CairnTLSError`` from Cairn's own
/// verification, an `NIOSSLError` carrying BoringSSL's error stack, a bare `BoringSSLError` (a TLS
/// alert read after a TLS 1.3 handshake), `NIOSSLExtraError` — into a ``CairnTLSError`` whose
/// reason is one clear line, e.g. "no client certificate…", "certificate signed by an unknown CA…",
/// "certificate expired…", "server name mismatch…", "rejected by the remote…".
///
/// The side that refuses a certificate knows why; the side refused learns only the TLS alert
/// it was sent. Cairn's listeners and dialers send `certificate_unknown` for every refusal of their
/// own policy and BoringSSL sends `certificate_required` when no certificate was presented, so the
/// refused side's reason says that, and that the other side's log names the cause.
public enum TLSHandshakeFailure {
    /// The ``CairnTLSError`` for `error`. `role` (when known) words the reason for the side it
    /// happened on.
    public static func classify(_ error: any Error, role: MutualTLSContext.Role? = nil) -> CairnTLSError {
        if let error = error as? CairnTLSError {
            return error
        }
        if let extra = error as? NIOSSLExtraError {
            if extra == .failedToValidateHostname {
                return CairnTLSError(.serverNameMismatch, "server name mismatch: \(extra)")
            }
            return CairnTLSError(.handshakeFailed, "TLS failure: \(extra)")
        }
        if let nio = error as? NIOSSLError {
            switch nio {
            case .handshakeFailed(let boring):
                return self.classify(boringSSL: boring, role: role)
            case .uncleanShutdown:
                return CairnTLSError(.connectionClosed, "the connection closed without a TLS close_notify (the peer went away or refused the handshake without an alert)")
            case .noCertificateToValidate:
                return CairnTLSError(.noPeerCertificate, "no client certificate: the peer presented none")
            default:
                return CairnTLSError(.handshakeFailed, "TLS failure: \(nio)")
            }
        }
        if let boring = error as? BoringSSLError {
            return self.classify(boringSSL: boring, role: role)
        }
        if let channelError = error as? ChannelError, channelError == .eof || channelError == .alreadyClosed {
            return CairnTLSError(.connectionClosed, "the connection closed during the TLS handshake")
        }
        return CairnTLSError(.handshakeFailed, "TLS failure: \(error)")
    }

    /// Just the reason line of ``classify(_:role:)``.
    public static func describe(_ error: any Error, role: MutualTLSContext.Role? = nil) -> String {
        self.classify(error, role: role).reason
    }

    /// Whether `error` comes from the TLS layer (and so is ``classify(_:role:)``'s to translate).
    public static func isTLSError(_ error: any Error) -> Bool {
        error is CairnTLSError || error is NIOSSLError || error is BoringSSLError || error is NIOSSLExtraError
            || error is NIOSSLCloseTimedOutError
    }

    private static func classify(boringSSL error: BoringSSLError, role: MutualTLSContext.Role?) -> CairnTLSError {
        let text = String(describing: error)
        let listener = role?.isListener
        func has(_ token: String) -> Bool { text.contains(token) }

        if has("PEER_DID_NOT_RETURN_A_CERTIFICATE") {
            return CairnTLSError(
                .noPeerCertificate,
                "no client certificate: the peer presented none, and this listener requires one signed by the cluster CA"
            )
        }
        if has("CERTIFICATE_REQUIRED") {
            return CairnTLSError(
                .noPeerCertificate,
                "no client certificate: the server requires one signed by the cluster CA, and this side sent none"
            )
        }
        if has("ALERT_UNKNOWN_CA") {
            return CairnTLSError(
                .unknownCA,
                "certificate signed by an unknown CA: the remote does not trust the CA that signed this side's certificate"
            )
        }
        if has("ALERT_CERTIFICATE_EXPIRED") {
            return CairnTLSError(.certificateExpired, "certificate expired: the remote says this side's certificate has expired")
        }
        if has("ALERT_CERTIFICATE_UNKNOWN") || has("ALERT_BAD_CERTIFICATE") || has("ALERT_UNSUPPORTED_CERTIFICATE")
            || has("ALERT_ACCESS_DENIED") || has("ALERT_CERTIFICATE_REVOKED")
        {
            let remote = listener == true ? "the client" : (listener == false ? "the server" : "the remote")
            return CairnTLSError(
                .rejectedByPeer,
                "rejected by the remote: \(remote) refused this side's certificate (TLS alert: \(self.alertName(in: text))); its log names the reason"
            )
        }
        if has("ALERT_PROTOCOL_VERSION") || has("UNSUPPORTED_PROTOCOL") || has("NO_SUPPORTED_VERSIONS")
            || has("WRONG_VERSION_NUMBER") || has("NO_SHARED_CIPHER") || has("NO_CIPHERS_AVAILABLE")
            || has("HTTP_REQUEST") || has("ALERT_INSUFFICIENT_SECURITY")
        {
            return CairnTLSError(
                .protocolMismatch,
                "no common TLS version or cipher, or the peer is not speaking TLS (Cairn requires TLS 1.2 or newer): \(self.reasonName(in: text))"
            )
        }
        if has("ALERT_HANDSHAKE_FAILURE") {
            return CairnTLSError(
                .handshakeFailed,
                "the remote aborted the handshake (TLS alert: handshake failure): e.g. no shared cipher, or no client certificate"
            )
        }
        if has("CERTIFICATE_VERIFY_FAILED") {
            return CairnTLSError(.handshakeFailed, "certificate verification failed")
        }
        if has("EOF during") {
            return CairnTLSError(.connectionClosed, "the connection closed during the TLS handshake, without a TLS alert")
        }
        return CairnTLSError(.handshakeFailed, "TLS handshake failed: \(self.reasonName(in: text))")
    }

    /// `SSLV3_ALERT_CERTIFICATE_UNKNOWN` → `certificate unknown`.
    private static func alertName(in text: String) -> String {
        let reason = self.reasonName(in: text)
        guard let range = reason.range(of: "ALERT_") else { return reason }
        return reason[range.upperBound...].lowercased().replacingOccurrences(of: "_", with: " ")
    }

    /// The BoringSSL reason token of the first error in `text` (`…:OPENSSL_internal:REASON at …`),
    /// or `text` itself.
    private static func reasonName(in text: String) -> String {
        guard let marker = text.range(of: "OPENSSL_internal:") else { return text }
        let rest = text[marker.upperBound...]
        return String(rest.prefix { $0 != " " && $0 != "," && $0 != ")" && $0 != "]" })
    }
}
