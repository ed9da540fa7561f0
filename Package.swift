// swift-tools-version: 6.0
import PackageDescription

let package = Package(
    name: "mstore",
    platforms: [.macOS(.v14)],
    products: [
        .library(name: "MailStore", targets: ["MailStore"]),
        .library(name: "MailMessage", targets: ["MailMessage"]),
        // The LMDB wrapper on its own, for benchmarks' raw baselines and other embedders.
        .library(name: "LMDB", targets: ["LMDB"]),
        .executable(name: "mstore", targets: ["mstore"]),
        .executable(name: "mstored", targets: ["mstored"]),
    ],
    dependencies: [
        .package(url: "https://github.com/apple/swift-argument-parser", from: "1.8.2"),
        .package(url: "https://github.com/apple/swift-crypto", from: "3.12.3"),
    ],
    targets: [
        // System libraries from Debian: liblmdb-dev and libargon2-dev.
        .systemLibrary(name: "CLMDB", pkgConfig: "lmdb", providers: [.apt(["liblmdb-dev"])]),
        .systemLibrary(name: "CArgon2", pkgConfig: "libargon2", providers: [.apt(["libargon2-dev"])]),

        // Safe LMDB wrapper: no mail concepts.
        .target(name: "LMDB", dependencies: ["CLMDB"]),

        // Protocol-neutral RFC 5322 / MIME parsing.
        .target(name: "MailMessage"),

        // The engine.
        .target(name: "MailStore", dependencies: [
            "LMDB", "MailMessage", "CArgon2",
            .product(name: "Crypto", package: "swift-crypto"),
        ]),

        .executableTarget(name: "mstore", dependencies: [
            "MailStore",
            .product(name: "ArgumentParser", package: "swift-argument-parser"),
        ]),
        .executableTarget(name: "mstored", dependencies: ["MailStore"]),

        .testTarget(name: "LMDBTests", dependencies: ["LMDB"]),
        .testTarget(name: "MailMessageTests", dependencies: ["MailMessage"]),
        .testTarget(name: "MailStoreTests", dependencies: ["MailStore"]),
    ]
)
