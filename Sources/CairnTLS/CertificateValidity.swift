import Foundation

/// The period a certificate is valid for.
///
/// Invariant: ``notBefore`` is earlier than ``notAfter``.
public struct CertificateValidity: Sendable, Hashable {
    /// Consul's default lifetime of a CA: five years.
    public static let defaultCADays = 1825
    /// Consul's default lifetime of a leaf certificate: one year.
    public static let defaultLeafDays = 365
    /// How far ``days(_:from:)`` backdates ``notBefore``, so that a node whose clock is slightly
    /// behind the issuer's accepts a certificate issued a moment ago.
    public static let clockSkewAllowance: TimeInterval = 60

    /// The first instant the certificate is valid.
    public let notBefore: Date
    /// The last instant the certificate is valid.
    public let notAfter: Date

    /// An explicit period, e.g. one in the past to make an expired certificate for a test.
    /// - Throws: ``CairnTLSError/Code/invalidArgument`` unless `notBefore < notAfter`.
    public init(notBefore: Date, notAfter: Date) throws {
        guard notBefore < notAfter else {
            throw CairnTLSError(
                .invalidArgument,
                "invalid validity: notBefore \(notBefore.rfc3339) is not earlier than notAfter \(notAfter.rfc3339)"
            )
        }
        self.notBefore = notBefore
        self.notAfter = notAfter
    }

    /// `days` days from `now`, with ``notBefore`` backdated by ``clockSkewAllowance``.
    /// - Throws: ``CairnTLSError/Code/invalidArgument`` unless `days` is positive (and below 100 years).
    public static func days(_ days: Int, from now: Date = Date()) throws -> CertificateValidity {
        guard days > 0, days <= 36_500 else {
            throw CairnTLSError(.invalidArgument, "invalid --days \(days): must be between 1 and 36500")
        }
        return try CertificateValidity(
            notBefore: now.addingTimeInterval(-clockSkewAllowance),
            notAfter: now.addingTimeInterval(TimeInterval(days) * 86_400)
        )
    }
}

extension Date {
    /// `2025-01-31T12:00:00Z`, for messages.
    var rfc3339: String {
        self.formatted(.iso8601)
    }
}
