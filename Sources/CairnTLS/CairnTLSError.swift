/// An error raised by Cairn's certificate tooling or its mutual-TLS layer.
///
/// It carries an opaque ``code`` (what kind of failure), a human ``reason`` (one line that names the
/// file, certificate or peer and what is wrong with it) and the source location that raised it.
/// Equality and hashing look at the ``code`` only, so a test can write
/// `#expect(throws: CairnTLSError.fileExists)`-style checks without repeating the reason text.
public struct CairnTLSError: Error, Hashable, Sendable {
    /// What kind of failure this is.
    public var code: Code
    /// One line for a person: what happened, naming the file, certificate or peer concerned.
    public var reason: String
    /// The source file (`#fileID`) that raised the error.
    public var file: String
    /// The source line that raised the error.
    public var line: UInt

    /// Creates an error with the given code and reason, recording where it was raised.
    public init(_ code: Code, _ reason: String, file: String = #fileID, line: UInt = #line) {
        self.code = code
        self.reason = reason
        self.file = file
        self.line = line
    }

    public static func == (lhs: CairnTLSError, rhs: CairnTLSError) -> Bool {
        lhs.code == rhs.code
    }

    public func hash(into hasher: inout Hasher) {
        hasher.combine(self.code)
    }
}

extension CairnTLSError {
    /// The kind of a ``CairnTLSError``. Opaque: new codes may be added.
    public struct Code: Hashable, Sendable, CustomStringConvertible {
        private let name: String

        private init(_ name: String) {
            self.name = name
        }

        public var description: String { self.name }

        // MARK: Files and arguments

        /// A file that would be written already exists; nothing was written.
        public static let fileExists = Code("fileExists")
        /// The CA certificate or its key, needed to sign a certificate, is missing.
        public static let missingCA = Code("missingCA")
        /// A file could not be read, or does not hold the PEM certificate or key it should.
        public static let unreadablePEM = Code("unreadablePEM")
        /// A caller-supplied value (days, name, IP address, datacenter...) is invalid.
        public static let invalidArgument = Code("invalidArgument")
        /// Writing a file failed; anything already written by the same operation was removed.
        public static let writeFailed = Code("writeFailed")
        /// A private key does not belong to the certificate it is paired with.
        public static let keyMismatch = Code("keyMismatch")
        /// A certificate is not what its role needs (a CA that is not a CA, a server identity
        /// without a server name, a certificate without the right extended key usage...).
        public static let wrongCertificateKind = Code("wrongCertificateKind")

        // MARK: Handshakes and certificate verification

        /// The peer presented no certificate, but one is required (or the remote required ours).
        public static let noPeerCertificate = Code("noPeerCertificate")
        /// A certificate is not signed by the cluster's CA.
        public static let unknownCA = Code("unknownCA")
        /// A certificate's validity period has ended.
        public static let certificateExpired = Code("certificateExpired")
        /// A certificate's validity period has not started yet.
        public static let certificateNotYetValid = Code("certificateNotYetValid")
        /// A peer listener was offered a certificate that is not a server certificate of its datacenter.
        public static let notServerCertificate = Code("notServerCertificate")
        /// A dialer reached a server whose certificate lacks the expected `server.<dc>.<domain>` name.
        public static let serverNameMismatch = Code("serverNameMismatch")
        /// A certificate chains to the CA but fails another rule of RFC 5280 or of its usage.
        public static let invalidCertificate = Code("invalidCertificate")
        /// The remote side refused this side's certificate (it sent a TLS alert); its own log says why.
        public static let rejectedByPeer = Code("rejectedByPeer")
        /// The two sides share no TLS version or cipher, or the peer does not speak TLS at all.
        public static let protocolMismatch = Code("protocolMismatch")
        /// The connection closed before the TLS handshake finished, without a TLS alert.
        public static let connectionClosed = Code("connectionClosed")
        /// Any other TLS handshake failure.
        public static let handshakeFailed = Code("handshakeFailed")
    }
}

/// One instance per code, to compare against: equality looks at the code only, so
/// `error == .unknownCA` is true for any unknown-CA error whatever its reason.
extension CairnTLSError {
    public static let fileExists = CairnTLSError(.fileExists, "file exists")
    public static let missingCA = CairnTLSError(.missingCA, "missing CA")
    public static let unreadablePEM = CairnTLSError(.unreadablePEM, "unreadable PEM")
    public static let invalidArgument = CairnTLSError(.invalidArgument, "invalid argument")
    public static let writeFailed = CairnTLSError(.writeFailed, "write failed")
    public static let keyMismatch = CairnTLSError(.keyMismatch, "key mismatch")
    public static let wrongCertificateKind = CairnTLSError(.wrongCertificateKind, "wrong certificate kind")
    public static let noPeerCertificate = CairnTLSError(.noPeerCertificate, "no client certificate")
    public static let unknownCA = CairnTLSError(.unknownCA, "certificate signed by an unknown CA")
    public static let certificateExpired = CairnTLSError(.certificateExpired, "certificate expired")
    public static let certificateNotYetValid = CairnTLSError(.certificateNotYetValid, "certificate not yet valid")
    public static let notServerCertificate = CairnTLSError(.notServerCertificate, "not a server certificate")
    public static let serverNameMismatch = CairnTLSError(.serverNameMismatch, "server name mismatch")
    public static let invalidCertificate = CairnTLSError(.invalidCertificate, "invalid certificate")
    public static let rejectedByPeer = CairnTLSError(.rejectedByPeer, "rejected by the peer")
    public static let protocolMismatch = CairnTLSError(.protocolMismatch, "protocol mismatch")
    public static let connectionClosed = CairnTLSError(.connectionClosed, "connection closed")
    public static let handshakeFailed = CairnTLSError(.handshakeFailed, "handshake failed")
}

extension CairnTLSError: CustomStringConvertible {
    /// `CairnTLSError.<code>: <reason> (<file>:<line>)`.
    public var description: String {
        "CairnTLSError.\(self.code): \(self.reason) (\(self.file):\(self.line))"
    }
}
