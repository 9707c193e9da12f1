// swift-tools-version:6.0
import PackageDescription

let package = Package(
    name: "Cairn",
    platforms: [.macOS(.v14)],
    products: [
        .library(name: "CairnRaft", targets: ["CairnRaft"]),
        .library(name: "CairnStorage", targets: ["CairnStorage"]),
        .library(name: "CairnKernel", targets: ["CairnKernel"]),
        .executable(name: "cairn-sim", targets: ["cairn-sim"]),
        .executable(name: "cairn-wal-bench", targets: ["cairn-wal-bench"]),
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
        .executableTarget(name: "cairn-sim", dependencies: ["CairnSimulation"]),
        .executableTarget(name: "cairn-wal-bench", dependencies: ["CairnStorage"]),
        .testTarget(name: "CairnRaftTests", dependencies: ["CairnRaft", "CairnSimulation"]),
        .testTarget(name: "CairnStorageTests", dependencies: ["CairnStorage"]),
        .testTarget(name: "CairnKernelTests", dependencies: ["CairnKernel", "CairnStorage"]),
        .testTarget(name: "CairnSimulationTests", dependencies: ["CairnSimulation"]),
    ],
    swiftLanguageModes: [.v6]
)
