// swift-tools-version: 6.1
import PackageDescription

// Benchmarks live in their own package so that the main build stays lean.
// Run: cd Benchmarks && swift package benchmark
let package = Package(
    name: "mstore-benchmarks",
    platforms: [.macOS(.v14)],
    dependencies: [
        .package(name: "mstore", path: "../"),
        .package(url: "https://github.com/ordo-one/benchmark", from: "1.38.1", traits: ["MallocInterposer"]),
    ],
    targets: [
        .executableTarget(
            name: "MailStoreBench",
            dependencies: [
                .product(name: "Benchmark", package: "benchmark"),
                .product(name: "MailStore", package: "mstore"),
                .product(name: "LMDB", package: "mstore"),
            ],
            path: "Benchmarks/MailStoreBench",
            plugins: [.plugin(name: "BenchmarkPlugin", package: "benchmark")]
        ),
        .executableTarget(
            name: "MailMessageBench",
            dependencies: [
                .product(name: "Benchmark", package: "benchmark"),
                .product(name: "MailMessage", package: "mstore"),
            ],
            path: "Benchmarks/MailMessageBench",
            plugins: [.plugin(name: "BenchmarkPlugin", package: "benchmark")]
        ),
    ]
)
