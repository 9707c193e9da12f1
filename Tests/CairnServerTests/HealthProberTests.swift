import CairnCatalog
import CairnServer
import CairnWire
import NIOCore
import NIOPosix
import Testing

/// Answers every request with a fixed status line once the request head is complete, then
/// closes; reports the first request head it received.
private final class FixedStatusHandler: ChannelInboundHandler {
    typealias InboundIn = ByteBuffer
    typealias OutboundOut = ByteBuffer

    private let statusLine: String
    private let requestHead: EventLoopPromise<String>
    private var received = ""

    init(statusLine: String, requestHead: EventLoopPromise<String>) {
        self.statusLine = statusLine
        self.requestHead = requestHead
    }

    func channelRead(context: ChannelHandlerContext, data: NIOAny) {
        var buffer = unwrapInboundIn(data)
        received += buffer.readString(length: buffer.readableBytes) ?? ""
        guard received.contains("\r\n\r\n") else { return }
        requestHead.succeed(received)
        // The status line in two writes, to exercise reassembly on the prober's side.
        let response = "\(statusLine)\r\nContent-Length: 0\r\nConnection: close\r\n\r\n"
        let cut = response.index(response.startIndex, offsetBy: 10)
        context.writeAndFlush(wrapOutboundOut(context.channel.allocator.buffer(string: String(response[..<cut]))), promise: nil)
        let channel = context.channel
        context.writeAndFlush(wrapOutboundOut(channel.allocator.buffer(string: String(response[cut...]))))
            .whenComplete { _ in channel.close(promise: nil) }
    }
}

@available(*, unavailable)
extension FixedStatusHandler: Sendable {}

/// A listener on 127.0.0.1 with an ephemeral port.
private struct TestListener {
    let channel: any Channel
    var port: Int { channel.localAddress!.port! }

    /// A server answering HTTP requests with `statusLine`.
    static func http(statusLine: String, group: any EventLoopGroup, requestHead: EventLoopPromise<String>) async throws -> TestListener {
        let channel = try await ServerBootstrap(group: group)
            .serverChannelOption(.socketOption(.so_reuseaddr), value: 1)
            .childChannelInitializer { child in
                child.eventLoop.makeCompletedFuture {
                    try child.pipeline.syncOperations.addHandler(FixedStatusHandler(statusLine: statusLine, requestHead: requestHead))
                }
            }
            .bind(host: "127.0.0.1", port: 0).get()
        return TestListener(channel: channel)
    }

    /// A server that accepts connections and never says anything.
    static func silent(group: any EventLoopGroup) async throws -> TestListener {
        let channel = try await ServerBootstrap(group: group)
            .serverChannelOption(.socketOption(.so_reuseaddr), value: 1)
            .bind(host: "127.0.0.1", port: 0).get()
        return TestListener(channel: channel)
    }

    func close() async throws { try await channel.close() }
}

@Suite("Health prober")
struct HealthProberTests {
    static func http(_ port: Int, path: String = "/health", timeout: UInt64 = 2_000) -> CheckKind {
        .http(url: "http://127.0.0.1:\(port)\(path)", intervalMilliseconds: 10_000, timeoutMilliseconds: timeout)
    }

    static func tcp(_ port: Int, timeout: UInt64 = 2_000) -> CheckKind {
        .tcp(address: "127.0.0.1:\(port)", intervalMilliseconds: 10_000, timeoutMilliseconds: timeout)
    }

    @Test("an HTTP answer maps 2xx to passing, 429 to warning and anything else to critical", arguments: [
        ("HTTP/1.1 200 OK", CheckStatus.passing, "200 OK"),
        ("HTTP/1.1 204 No Content", .passing, "204 No Content"),
        ("HTTP/1.1 429 Too Many Requests", .warning, "429 Too Many Requests"),
        ("HTTP/1.1 500 Internal Server Error", .critical, "500 Internal Server Error"),
        ("HTTP/1.0 301 Moved Permanently", .critical, "301 Moved Permanently"),
        ("HTTP/1.1 503", .critical, "503"),
        ("SSH-2.0-OpenSSH_9.2", .critical, "malformed status line \"SSH-2.0-OpenSSH_9.2\""),
    ])
    func httpStatuses(statusLine: String, expected: CheckStatus, outputEnd: String) async throws {
        let group = MultiThreadedEventLoopGroup(numberOfThreads: 1)
        let head = group.next().makePromise(of: String.self)
        let listener = try await TestListener.http(statusLine: statusLine, group: group, requestHead: head)
        let result = await HealthProber(group: group).run(Self.http(listener.port))
        #expect(result.status == expected)
        #expect(result.output.hasPrefix("HTTP GET http://127.0.0.1:\(listener.port)/health: "))
        #expect(result.output.hasSuffix(outputEnd))
        try await listener.close()
        try await group.shutdownGracefully()
    }

    @Test("the HTTP request is a plain GET with Host, User-Agent and Connection: close")
    func httpRequestShape() async throws {
        let group = MultiThreadedEventLoopGroup(numberOfThreads: 1)
        let head = group.next().makePromise(of: String.self)
        let listener = try await TestListener.http(statusLine: "HTTP/1.1 200 OK", group: group, requestHead: head)
        let result = try await HealthProber(group: group).probe(Self.http(listener.port, path: "/live?deep=1")).get()
        #expect(result == HealthProbeResult(status: .passing,
                                            output: "HTTP GET http://127.0.0.1:\(listener.port)/live?deep=1: 200 OK"))
        #expect(try await head.futureResult.get() == "GET /live?deep=1 HTTP/1.1\r\nHost: 127.0.0.1:\(listener.port)\r\n"
            + "User-Agent: cairn-health\r\nConnection: close\r\n\r\n")
        try await listener.close()
        try await group.shutdownGracefully()
    }

    @Test("a server that accepts but never answers is critical once the timeout passes")
    func httpTimeout() async throws {
        let group = MultiThreadedEventLoopGroup(numberOfThreads: 1)
        let listener = try await TestListener.silent(group: group)
        let clock = ContinuousClock()
        let start = clock.now
        let result = await HealthProber(group: group).run(Self.http(listener.port, timeout: 300))
        let elapsed = clock.now - start
        #expect(result == HealthProbeResult(status: .critical,
                                            output: "HTTP GET http://127.0.0.1:\(listener.port)/health: timed out after 300 ms"))
        #expect(elapsed >= .milliseconds(250))
        #expect(elapsed < .seconds(5))
        try await listener.close()
        try await group.shutdownGracefully()
    }

    @Test("HTTP and TCP checks against a closed port are critical with connection refused")
    func refused() async throws {
        let group = MultiThreadedEventLoopGroup(numberOfThreads: 1)
        let listener = try await TestListener.silent(group: group)
        let port = listener.port
        try await listener.close()
        let prober = HealthProber(group: group)
        let http = await prober.run(Self.http(port))
        #expect(http == HealthProbeResult(status: .critical, output: "HTTP GET http://127.0.0.1:\(port)/health: connection refused"))
        let tcp = await prober.run(Self.tcp(port))
        #expect(tcp == HealthProbeResult(status: .critical, output: "TCP connect 127.0.0.1:\(port): connection refused"))
        try await group.shutdownGracefully()
    }

    @Test("a TCP check that connects is passing")
    func tcpPassing() async throws {
        let group = MultiThreadedEventLoopGroup(numberOfThreads: 1)
        let listener = try await TestListener.silent(group: group)
        let result = await HealthProber(group: group).run(Self.tcp(listener.port))
        #expect(result == HealthProbeResult(status: .passing, output: "TCP connect 127.0.0.1:\(listener.port): success"))
        try await listener.close()
        try await group.shutdownGracefully()
    }

    @Test("several probes run at once each get their own answer")
    func concurrentProbes() async throws {
        let group = MultiThreadedEventLoopGroup(numberOfThreads: 2)
        let ok = try await TestListener.http(statusLine: "HTTP/1.1 200 OK", group: group,
                                             requestHead: group.next().makePromise(of: String.self))
        let busy = try await TestListener.http(statusLine: "HTTP/1.1 429 Too Many Requests", group: group,
                                               requestHead: group.next().makePromise(of: String.self))
        let prober = HealthProber(group: group)
        let futures = (0..<20).map { i in prober.probe(Self.http(i.isMultiple(of: 2) ? ok.port : busy.port)) }
        for (i, future) in futures.enumerated() {
            #expect(try await future.get().status == (i.isMultiple(of: 2) ? .passing : .warning))
        }
        try await ok.close()
        try await busy.close()
        try await group.shutdownGracefully()
    }

    @Test("https URLs, bad addresses and TTL checks are critical without touching the network")
    func notProbed() async throws {
        let group = MultiThreadedEventLoopGroup(numberOfThreads: 1)
        let prober = HealthProber(group: group)
        let https = await prober.run(.http(url: "https://127.0.0.1/", intervalMilliseconds: 10_000, timeoutMilliseconds: 1_000))
        #expect(https.status == .critical)
        #expect(https.output.contains("https"))
        let tcp = await prober.run(.tcp(address: "nowhere", intervalMilliseconds: 10_000, timeoutMilliseconds: 1_000))
        #expect(tcp.status == .critical)
        #expect(tcp.output.contains("host:port"))
        let ttl = await prober.run(.ttl(ttlMilliseconds: 10_000))
        #expect(ttl.status == .critical)
        try await group.shutdownGracefully()
    }
}
