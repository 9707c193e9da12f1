// swift-tools-version:6.0
import PackageDescription

let nio: [Target.Dependency] = [
    .product(name: "NIOCore", package: "swift-nio"),
    .product(name: "NIOPosix", package: "swift-nio"),
]

let package = Package(
    name: "Cairn",
    platforms: [.macOS(.v15)],
    products: [
        .library(name: "CairnRaft", targets: ["CairnRaft"]),
        .library(name: "CairnStorage", targets: ["CairnStorage"]),
        .library(name: "CairnKernel", targets: ["CairnKernel"]),
        .library(name: "CairnWire", targets: ["CairnWire"]),
        .library(name: "CairnTLS", targets: ["CairnTLS"]),
        .library(name: "CairnClient", targets: ["CairnClient"]),
        .executable(name: "cairn", targets: ["cairn"]),
        .executable(name: "cairn-sim", targets: ["cairn-sim"]),
        .executable(name: "cairn-wal-bench", targets: ["cairn-wal-bench"]),
    ],
    dependencies: [
        .package(url: "https://github.com/apple/swift-nio", from: "2.101.3"),
        .package(url: "https://github.com/apple/swift-nio-ssl", from: "2.37.6"),
        .package(url: "https://github.com/apple/swift-certificates", from: "1.21.1"),
        .package(url: "https://github.com/apple/swift-crypto", from: "3.12.3"),
        .package(url: "https://github.com/apple/swift-asn1", from: "1.7.4"),
        .package(url: "https://github.com/apple/swift-argument-parser", from: "1.8.2"),
        .package(url: "https://github.com/apple/swift-log", from: "1.16.2"),
        .package(url: "https://github.com/swift-server/swift-service-lifecycle", from: "2.13.0"),
        .package(url: "https://github.com/HdrHistogram/hdrhistogram-swift", from: "0.2.0"),
    ],
    targets: [
        // The pure Raft consensus algorithm: no IO, no clock, no NIO.
        .target(name: "CairnRaft"),
        // The durable write-ahead log, snapshot files and CRC32C.
        .target(name: "CairnStorage", dependencies: ["CairnRaft"], exclude: ["README.md"]),
        // The replicated state machine protocol and the shell that joins Raft, storage and modules.
        .target(name: "CairnKernel", dependencies: ["CairnRaft", "CairnStorage"]),
        // Deterministic cluster simulation of the Raft core (used by tests and `cairn-sim`).
        .target(name: "CairnSimulation", dependencies: ["CairnRaft", "CairnKernel"]),
        // The wire protocol: framing and the encoding of every message, on ByteBuffer.
        .target(name: "CairnWire", dependencies: ["CairnRaft", .product(name: "NIOCore", package: "swift-nio")]),
        // The replicated KV store module.
        .target(name: "CairnKV", dependencies: ["CairnKernel", "CairnRaft", "CairnWire"]),
        // The replicated catalog module (nodes, services, health checks) and health-check scheduling.
        .target(name: "CairnCatalog", dependencies: ["CairnKernel", "CairnRaft", "CairnWire"]),
        // Certificates (CA, server, client, CLI) and mutual-TLS configuration.
        .target(name: "CairnTLS", dependencies: [
            .product(name: "X509", package: "swift-certificates"),
            .product(name: "SwiftASN1", package: "swift-asn1"),
            .product(name: "Crypto", package: "swift-crypto"),
            .product(name: "NIOSSL", package: "swift-nio-ssl"),
            .product(name: "NIOTLS", package: "swift-nio"),
            .product(name: "Logging", package: "swift-log"),
        ] + nio),
        // The server: consensus loop, transport, client listener, agent lifecycle.
        .target(name: "CairnServer", dependencies: [
            "CairnKV", "CairnCatalog", "CairnKernel", "CairnRaft", "CairnStorage", "CairnWire", "CairnTLS",
            .product(name: "NIOSSL", package: "swift-nio-ssl"),
            .product(name: "NIOConcurrencyHelpers", package: "swift-nio"),
            .product(name: "Logging", package: "swift-log"),
            .product(name: "ServiceLifecycle", package: "swift-service-lifecycle"),
        ] + nio),
        // The Swift client library.
        .target(name: "CairnClient", dependencies: [
            "CairnRaft", "CairnTLS", "CairnWire",
            .product(name: "NIOConcurrencyHelpers", package: "swift-nio"),
            .product(name: "Logging", package: "swift-log"),
        ] + nio),
        // The load generator behind `cairn bench`.
        .target(name: "CairnBench", dependencies: [
            "CairnClient", "CairnRaft", "CairnWire",
            .product(name: "Histogram", package: "hdrhistogram-swift"),
        ]),
        // The `cairn` command's subcommands.
        .target(name: "CairnCLI", dependencies: [
            "CairnTLS", "CairnServer", "CairnWire", "CairnClient", "CairnBench",
            .product(name: "ArgumentParser", package: "swift-argument-parser"),
        ]),
        .executableTarget(name: "cairn", dependencies: ["CairnCLI", .product(name: "ArgumentParser", package: "swift-argument-parser")]),
        .executableTarget(name: "cairn-sim", dependencies: ["CairnSimulation"]),
        .executableTarget(name: "cairn-wal-bench", dependencies: ["CairnStorage"]),
        .testTarget(name: "CairnRaftTests", dependencies: ["CairnRaft", "CairnSimulation"]),
        .testTarget(name: "CairnStorageTests", dependencies: ["CairnStorage", "CairnTestSupport"]),
        .testTarget(name: "CairnKernelTests", dependencies: ["CairnKernel", "CairnStorage"]),
        .testTarget(name: "CairnSimulationTests", dependencies: ["CairnSimulation", "CairnTestSupport"]),
        // What several test targets share: running CPU-bound tests in the background, off Swift's
        // cooperative pool and below everything else (one gate for the model comparisons).
        .target(name: "CairnTestSupport", path: "Tests/CairnTestSupport"),
        .testTarget(name: "CairnTestSupportTests", dependencies: ["CairnTestSupport"]),
        .testTarget(name: "CairnKVTests", dependencies: ["CairnKV", "CairnKernel", "CairnRaft", "CairnWire", "CairnTestSupport"]),
        .testTarget(name: "CairnCatalogTests", dependencies: ["CairnCatalog", "CairnKernel", "CairnRaft", "CairnWire", "CairnTestSupport"]),
        .testTarget(name: "CairnServerTests", dependencies: [
            "CairnServer", "CairnWire", "CairnCatalog", "CairnKV", "CairnKernel", "CairnRaft", "CairnTestSupport",
            .product(name: "NIOEmbedded", package: "swift-nio"),
        ] + nio),
        .testTarget(name: "CairnWireTests", dependencies: [
            "CairnWire", "CairnTestSupport",
            .product(name: "NIOCore", package: "swift-nio"),
            .product(name: "NIOEmbedded", package: "swift-nio"),
            .product(name: "NIOTestUtils", package: "swift-nio"),
        ]),
        .testTarget(name: "CairnBenchTests", dependencies: ["CairnBench"]),
        .testTarget(name: "CairnIntegrationTests", dependencies: [
            "CairnClient", "CairnTLS", "CairnWire", "cairn",
            .product(name: "NIOConcurrencyHelpers", package: "swift-nio"),
            .product(name: "Logging", package: "swift-log"),
        ] + nio),
        .testTarget(name: "CairnTLSTests", dependencies: ["CairnTLS", "CairnCLI"] + nio),
    ],
    swiftLanguageModes: [.v6]
)
