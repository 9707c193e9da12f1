#if canImport(Glibc)
import Glibc
#elseif canImport(Musl)
import Musl
#elseif canImport(Darwin)
import Darwin
#endif

/// An IPv4 or IPv6 address as a certificate's subject alternative name carries it.
///
/// Invariant: ``bytes`` holds 4 (IPv4) or 16 (IPv6) bytes in network order.
public struct IPAddress: Sendable, Hashable, CustomStringConvertible {
    /// The address in network byte order: 4 bytes for IPv4, 16 for IPv6.
    public let bytes: [UInt8]

    /// `127.0.0.1`.
    public static let loopbackV4 = IPAddress(validatedBytes: [127, 0, 0, 1])

    /// Parses dotted IPv4 (`10.0.0.1`) or textual IPv6 (`::1`).
    /// - Throws: ``CairnTLSError/Code/invalidArgument`` naming the text when it is neither.
    public init(_ text: String) throws {
        let trimmed = text.trimmingSpaces
        var v4 = in_addr()
        if inet_pton(AF_INET, trimmed, &v4) == 1 {
            self.bytes = withUnsafeBytes(of: &v4) { Array($0) }
            return
        }
        var v6 = in6_addr()
        if inet_pton(AF_INET6, trimmed, &v6) == 1 {
            self.bytes = withUnsafeBytes(of: &v6) { Array($0) }
            return
        }
        throw CairnTLSError(.invalidArgument, "invalid IP address \"\(text)\"")
    }

    /// Wraps the raw bytes of a SAN entry; `nil` unless there are 4 or 16 of them.
    public init?<Bytes: Collection>(bytes: Bytes) where Bytes.Element == UInt8 {
        guard bytes.count == 4 || bytes.count == 16 else { return nil }
        self.bytes = Array(bytes)
    }

    private init(validatedBytes: [UInt8]) {
        self.bytes = validatedBytes
    }

    /// The conventional text form: `127.0.0.1` or `::1`.
    public var description: String {
        var buffer = [CChar](repeating: 0, count: Int(INET6_ADDRSTRLEN) + 1)
        let family = self.bytes.count == 4 ? AF_INET : AF_INET6
        let ok = self.bytes.withUnsafeBytes { raw in
            inet_ntop(family, raw.baseAddress, &buffer, socklen_t(buffer.count)) != nil
        }
        guard ok else { return self.bytes.map(String.init).joined(separator: ".") }
        return String(decoding: buffer.prefix { $0 != 0 }.map { UInt8(bitPattern: $0) }, as: UTF8.self)
    }
}

extension String {
    var trimmingSpaces: String {
        String(self.drop { $0 == " " || $0 == "\t" }.reversed().drop { $0 == " " || $0 == "\t" }.reversed())
    }
}
