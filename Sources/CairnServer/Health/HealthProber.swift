import CairnCatalog
import CairnWire
import Foundation
import NIOCore
import NIOPosix

/// Runs HTTP and TCP health checks over plain sockets (SwiftNIO `ClientBootstrap`), each bounded
/// by its check's timeout. The network side of ``HealthSchedule``'s `.probe` directives.
///
/// - HTTP: connects to the URL's host and port and sends
///   `GET <path> HTTP/1.1`, `Host`, `User-Agent: cairn-health`, `Connection: close`; reads the
///   status line only. 2xx is passing, 429 warning, anything else critical; the output is
///   `HTTP GET <url>: <code> <reason>`. Only `http://` URLs: checks never use TLS, so `https://`
///   is not supported (``CatalogStore/validate(check:)`` refuses it). Redirects are not followed
///   (a 3xx is critical).
/// - TCP: passing when a connection to `host:port` opens (`TCP connect <address>: success`).
///
/// Everything — name resolution, connecting, sending, the status line — must finish within the
/// timeout; otherwise the result is critical with `timed out after N ms` and the connection is
/// closed. Connection failures are critical with the reason (`connection refused`). The returned
/// future never fails.
public struct HealthProber: Sendable {
    /// The event loops the probes' connections run on.
    public let group: any EventLoopGroup

    /// Creates a prober running its connections on `group`.
    public init(group: any EventLoopGroup) {
        self.group = group
    }

    /// Runs the check once; the future succeeds (never fails) within the check's timeout, plus
    /// scheduling slack. A TTL check cannot be probed: its result is critical at once.
    public func probe(_ kind: CheckKind) -> EventLoopFuture<HealthProbeResult> {
        let loop = group.next()
        switch kind {
        case .ttl:
            return loop.makeSucceededFuture(HealthProbeResult(
                status: .critical, output: "a TTL check is reported by its service, not probed"))
        case .http(let url, _, let timeout):
            let label = "HTTP GET \(url)"
            let target: HTTPCheckURL
            do throws(CheckTargetError) {
                target = try HTTPCheckURL(parsing: url)
            } catch {
                return loop.makeSucceededFuture(HealthProbeResult(status: .critical, output: "\(label): \(error.reason)"))
            }
            let request = "GET \(target.path) HTTP/1.1\r\nHost: \(target.hostHeader)\r\n"
                + "User-Agent: cairn-health\r\nConnection: close\r\n\r\n"
            return connect(on: loop, host: target.host, port: target.port, timeoutMilliseconds: timeout, label: label,
                           sendsRequest: request)
        case .tcp(let address, _, let timeout):
            let label = "TCP connect \(address)"
            let target: TCPCheckAddress
            do throws(CheckTargetError) {
                target = try TCPCheckAddress(parsing: address)
            } catch {
                return loop.makeSucceededFuture(HealthProbeResult(status: .critical, output: "\(label): \(error.reason)"))
            }
            return connect(on: loop, host: target.host, port: target.port, timeoutMilliseconds: timeout, label: label,
                           sendsRequest: nil)
        }
    }

    /// Runs the check once, as ``probe(_:)`` does, and waits for its result.
    public func run(_ kind: CheckKind) async -> HealthProbeResult {
        do {
            return try await probe(kind).get()
        } catch {
            return HealthProbeResult(status: .critical, output: Self.describe(error))
        }
    }

    /// Connects, then either reports success at once (`request` nil: a TCP check) or sends the
    /// HTTP request and waits for the status line; all within `timeoutMilliseconds`.
    private func connect(on loop: any EventLoop, host: String, port: UInt16, timeoutMilliseconds: UInt64,
                         label: String, sendsRequest request: String?) -> EventLoopFuture<HealthProbeResult> {
        let timeout = TimeAmount.milliseconds(Int64(clamping: max(1, timeoutMilliseconds)))
        let promise = loop.makePromise(of: HealthProbeResult.self)
        let timer = loop.scheduleTask(in: timeout) {
            promise.succeed(HealthProbeResult(status: .critical, output: "\(label): timed out after \(timeoutMilliseconds) ms"))
        }
        promise.futureResult.whenComplete { _ in timer.cancel() }

        ClientBootstrap(group: loop)
            .connectTimeout(timeout)
            .channelInitializer { channel in
                guard let request else { return channel.eventLoop.makeSucceededVoidFuture() }
                return channel.eventLoop.makeCompletedFuture {
                    try channel.pipeline.syncOperations.addHandler(
                        HTTPStatusLineHandler(request: request, label: label, promise: promise))
                }
            }
            .connect(host: host, port: Int(port))
            .whenComplete { result in
                switch result {
                case .success(let channel):
                    if request == nil { promise.succeed(HealthProbeResult(status: .passing, output: "\(label): success")) }
                    promise.futureResult.whenComplete { _ in channel.close(promise: nil) }
                case .failure(let error):
                    promise.succeed(HealthProbeResult(status: .critical,
                                                      output: "\(label): \(Self.describe(error, timeoutMilliseconds: timeoutMilliseconds))"))
                }
            }
        return promise.futureResult
    }

    /// A short human description of a connection failure.
    static func describe(_ error: any Error, timeoutMilliseconds: UInt64? = nil) -> String {
        if let error = error as? ChannelError, case .connectTimeout = error {
            return timeoutMilliseconds.map { "timed out after \($0) ms" } ?? "connect timed out"
        }
        if let error = error as? NIOConnectionError {
            if let dns = error.dnsAError ?? error.dnsAAAAError { return "cannot resolve \(error.host): \(dns)" }
            guard let first = error.connectionErrors.first else { return "no address found for \(error.host)" }
            return describe(first.error, timeoutMilliseconds: timeoutMilliseconds)
        }
        if let error = error as? IOError {
            switch error.errnoCode {
            case ECONNREFUSED: return "connection refused"
            case ECONNRESET: return "connection reset by peer"
            case EHOSTUNREACH: return "host unreachable"
            case ENETUNREACH: return "network unreachable"
            case ETIMEDOUT: return "timed out"
            default: return "\(error)"
            }
        }
        return "\(error)"
    }
}
