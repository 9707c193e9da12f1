import CairnWire
import NIOCore

/// Sends one HTTP/1.1 `GET` request when the connection becomes active and completes `promise`
/// with the health the response's status line implies: 2xx passing, 429 warning, anything else
/// critical. Reads no further than the status line (at most ``maxStatusLineBytes``); a connection
/// that closes or fails first completes the promise as critical. The promise may already have
/// been completed by the probe's timeout, in which case completing it again does nothing.
final class HTTPStatusLineHandler: ChannelInboundHandler {
    typealias InboundIn = ByteBuffer
    typealias OutboundOut = ByteBuffer

    /// The longest status line accepted, in bytes.
    static let maxStatusLineBytes = 8 * 1024

    private let request: String
    private let label: String
    private let promise: EventLoopPromise<HealthProbeResult>
    private var received: [UInt8] = []
    private var done = false

    /// Creates a handler sending `request` and reporting outcomes as `label: ...`.
    init(request: String, label: String, promise: EventLoopPromise<HealthProbeResult>) {
        self.request = request
        self.label = label
        self.promise = promise
    }

    func channelActive(context: ChannelHandlerContext) {
        context.writeAndFlush(wrapOutboundOut(context.channel.allocator.buffer(string: request)), promise: nil)
        context.fireChannelActive()
    }

    func channelRead(context: ChannelHandlerContext, data: NIOAny) {
        guard !done else { return }
        var buffer = unwrapInboundIn(data)
        received += buffer.readBytes(length: buffer.readableBytes) ?? []
        if let end = received.firstIndex(of: UInt8(ascii: "\n")) {
            var line = received[..<end]
            if line.last == UInt8(ascii: "\r") { line = line.dropLast() }
            finish(context: context, Self.health(ofStatusLine: String(decoding: line, as: UTF8.self), label: label))
        } else if received.count > Self.maxStatusLineBytes {
            finish(context: context, HealthProbeResult(
                status: .critical, output: "\(label): no status line in the first \(Self.maxStatusLineBytes) bytes"))
        }
    }

    func channelInactive(context: ChannelHandlerContext) {
        if !done {
            done = true
            promise.succeed(HealthProbeResult(status: .critical, output: "\(label): connection closed before a response"))
        }
        context.fireChannelInactive()
    }

    func errorCaught(context: ChannelHandlerContext, error: any Error) {
        finish(context: context, HealthProbeResult(status: .critical,
                                                   output: "\(label): \(HealthProber.describe(error))"))
    }

    private func finish(context: ChannelHandlerContext, _ result: HealthProbeResult) {
        guard !done else { return }
        done = true
        promise.succeed(result)
        context.close(promise: nil)
    }

    /// The health an HTTP status line (without its line end) implies.
    static func health(ofStatusLine line: String, label: String) -> HealthProbeResult {
        let parts = line.split(separator: " ", maxSplits: 2, omittingEmptySubsequences: false)
        guard parts.count >= 2, parts[0].hasPrefix("HTTP/"), parts[1].count == 3,
              parts[1].allSatisfy({ $0.isASCII && $0.isNumber }), let code = Int(parts[1])
        else {
            return HealthProbeResult(status: .critical, output: "\(label): malformed status line \"\(line.prefix(200))\"")
        }
        let reason = parts.count == 3 ? " \(parts[2])" : ""
        let status: CheckStatus = (200...299).contains(code) ? .passing : (code == 429 ? .warning : .critical)
        return HealthProbeResult(status: status, output: "\(label): \(code)\(reason)")
    }
}

@available(*, unavailable)
extension HTTPStatusLineHandler: Sendable {}
