import CairnTLS
import NIOCore
import NIOSSL
import Testing

@Suite("TLSHandshakeFailure: one clear line for any TLS failure")
struct TLSHandshakeFailureTests {
    @Test("Cairn's own verdicts pass through unchanged")
    func cairnErrorsPassThrough() {
        let verdict = CairnTLSError(.certificateExpired, "certificate expired: CN=client.dc1.cairn expired at …")
        let classified = TLSHandshakeFailure.classify(verdict, role: .clientListener)
        #expect(classified == .certificateExpired)
        #expect(classified.reason == verdict.reason)
    }

    @Test("NIOSSL's hostname failure is a server name mismatch")
    func hostnameFailure() {
        #expect(TLSHandshakeFailure.classify(NIOSSLExtraError.failedToValidateHostname) == .serverNameMismatch)
        #expect(TLSHandshakeFailure.describe(NIOSSLExtraError.failedToValidateHostname).hasPrefix("server name mismatch"))
    }

    @Test("an unclean shutdown or an EOF is a closed connection; anything else is a generic failure")
    func otherErrors() {
        #expect(TLSHandshakeFailure.classify(NIOSSLError.uncleanShutdown) == .connectionClosed)
        #expect(TLSHandshakeFailure.classify(ChannelError.eof) == .connectionClosed)
        #expect(TLSHandshakeFailure.classify(NIOSSLError.noCertificateToValidate) == .noPeerCertificate)
        let other = TLSHandshakeFailure.classify(ChannelError.connectTimeout(.seconds(1)))
        #expect(other == .handshakeFailed)
        #expect(!other.reason.contains("\n"))
    }

    @Test("only TLS-layer errors are the reporter's to translate")
    func tlsErrorsOnly() {
        #expect(TLSHandshakeFailure.isTLSError(NIOSSLError.uncleanShutdown))
        #expect(TLSHandshakeFailure.isTLSError(CairnTLSError.unknownCA))
        #expect(!TLSHandshakeFailure.isTLSError(ChannelError.eof))
    }

    @Test("errors compare by code, and describe themselves with code, reason and place")
    func errorEquality() {
        let a = CairnTLSError(.fileExists, "a.pem already exists")
        let b = CairnTLSError(.fileExists, "b.pem already exists")
        #expect(a == b)
        #expect(a != CairnTLSError(.missingCA, "a.pem already exists"))
        #expect(a.description.hasPrefix("CairnTLSError.fileExists: a.pem already exists (CairnTLSTests/"))
    }
}
