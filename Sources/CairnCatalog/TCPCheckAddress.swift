/// The target of a TCP check: `host:port`, or `[ipv6]:port`.
///
/// Invariants: `host` is non-empty and holds only letters, digits, `.`, `-` and `_` (or, for a
/// bracketed IPv6 literal, hex digits, `:`, `.` and a `%zone`); `port` is in 1...65535.
public struct TCPCheckAddress: Sendable, Hashable, CustomStringConvertible {
    /// The host name or IP address (an IPv6 literal without its brackets).
    public var host: String
    /// The port.
    public var port: UInt16

    /// Parses `host:port` or `[ipv6]:port`.
    public init(parsing text: String) throws(CheckTargetError) {
        guard let (host, port) = Self.splitHostPort(text[...], defaultPort: nil) else {
            throw CheckTargetError(.invalidAddress, "TCP check address \"\(text)\" is not host:port with a port in 1...65535")
        }
        self.host = host
        self.port = port
    }

    /// `host:port`, with an IPv6 host in brackets.
    public var description: String { "\(Self.bracketed(host)):\(port)" }

    /// The host as it appears in an address: an IPv6 literal in brackets.
    static func bracketed(_ host: String) -> String { host.contains(":") ? "[\(host)]" : host }

    /// Splits an authority into host and port; the port may be omitted only when `defaultPort` is
    /// given. Nil when malformed.
    static func splitHostPort(_ text: Substring, defaultPort: UInt16?) -> (String, UInt16)? {
        let host: Substring
        let portText: Substring?
        if text.first == "[" {
            guard let close = text.firstIndex(of: "]") else { return nil }
            host = text[text.index(after: text.startIndex)..<close]
            let rest = text[text.index(after: close)...]
            if rest.isEmpty {
                portText = nil
            } else {
                guard rest.first == ":" else { return nil }
                portText = rest.dropFirst()
            }
            guard host.contains(":"), host.allSatisfy(isIPv6Character) else { return nil }
        } else {
            let parts = text.split(separator: ":", maxSplits: 2, omittingEmptySubsequences: false)
            guard parts.count <= 2 else { return nil }
            host = parts[0]
            portText = parts.count == 2 ? parts[1] : nil
            guard host.allSatisfy(isHostCharacter) else { return nil }
        }
        guard !host.isEmpty else { return nil }
        if let portText {
            guard (1...5).contains(portText.count), portText.allSatisfy({ $0.isASCII && $0.isNumber }),
                  let port = UInt16(portText), port > 0
            else { return nil }
            return (String(host), port)
        }
        guard let defaultPort else { return nil }
        return (String(host), defaultPort)
    }

    private static func isHostCharacter(_ c: Character) -> Bool {
        c.isASCII && (c.isLetter || c.isNumber || c == "." || c == "-" || c == "_")
    }

    private static func isIPv6Character(_ c: Character) -> Bool {
        c.isASCII && (c.isLetter || c.isNumber || c == ":" || c == "." || c == "%")
    }
}
