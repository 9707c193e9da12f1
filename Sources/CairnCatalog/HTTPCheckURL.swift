/// The target of an HTTP check: a plain `http://host[:port][/path][?query]` URL.
///
/// Only `http` is supported: checks never use TLS, so an `https://` URL is refused rather than
/// probed in the clear. User info (`user@host`) is refused; a `#fragment` is dropped. The URL may
/// not contain spaces or control characters (they would corrupt the request line).
///
/// Invariants: `host` is as for ``TCPCheckAddress``; `port` is in 1...65535 (80 when omitted);
/// `path` starts with `/` and holds no whitespace or control characters.
public struct HTTPCheckURL: Sendable, Hashable {
    /// The host name or IP address (an IPv6 literal without its brackets).
    public var host: String
    /// The port (80 when the URL names none).
    public var port: UInt16
    /// The request target: the path and query, `/` when the URL has none.
    public var path: String

    /// Parses an `http://` URL.
    public init(parsing url: String) throws(CheckTargetError) {
        let scheme = "http://"
        guard url.utf8.count > scheme.utf8.count, url.prefix(scheme.count).lowercased() == scheme else {
            if url.lowercased().hasPrefix("https://") {
                throw CheckTargetError(.invalidURL, "HTTP check URL \"\(url)\" uses https, which checks do not support; use http://")
            }
            throw CheckTargetError(.invalidURL, "HTTP check URL \"\(url)\" does not start with http://")
        }
        guard url.unicodeScalars.allSatisfy({ $0.value > 0x20 && $0.value != 0x7F }) else {
            throw CheckTargetError(.invalidURL, "HTTP check URL \"\(url)\" contains spaces or control characters")
        }
        var rest = url.dropFirst(scheme.count)
        if let hash = rest.firstIndex(of: "#") { rest = rest[..<hash] }
        let authorityEnd = rest.firstIndex(where: { $0 == "/" || $0 == "?" }) ?? rest.endIndex
        let authority = rest[..<authorityEnd]
        guard !authority.contains("@"), let (host, port) = TCPCheckAddress.splitHostPort(authority, defaultPort: 80) else {
            throw CheckTargetError(.invalidURL, "HTTP check URL \"\(url)\" has no valid host[:port]")
        }
        let target = rest[authorityEnd...]
        self.host = host
        self.port = port
        self.path = target.isEmpty ? "/" : (target.first == "?" ? "/" + target : String(target))
    }

    /// The `Host` header's value: the host (an IPv6 literal in brackets), with `:port` unless 80.
    public var hostHeader: String {
        port == 80 ? TCPCheckAddress.bracketed(host) : "\(TCPCheckAddress.bracketed(host)):\(port)"
    }
}
