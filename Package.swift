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
        .package(url: "https://github.com/apple/swift-nio", from: "2.101.2"),
        .package(url: "https://github.com/apple/swift-nio-ssl", from: "2.37.6"),
        .package(url: "https://github.com/apple/swift-log", from: "1.16.2"),
        .package(url: "https://github.com/apple/swift-metrics", from: "2.13.0"),
        .package(url: "https://github.com/swift-server/swift-prometheus", from: "2.4.1"),
        .package(url: "https://github.com/LebJe/TOMLKit", from: "0.6.0"),
    ],
    targets: [
        // System libraries from Debian: liblmdb-dev and libargon2-dev.
        .systemLibrary(name: "CLMDB", pkgConfig: "lmdb", providers: [.apt(["liblmdb-dev"])]),
        .systemLibrary(name: "CArgon2", pkgConfig: "libargon2", providers: [.apt(["libargon2-dev"])]),
        // libcrypt-dev (libxcrypt): crypt_r verifies the bcrypt, SHA-512 and SHA-256 crypt hashes
        // of accounts imported from a Dovecot passwd-file.
        .systemLibrary(name: "CCrypt", pkgConfig: "libcrypt", providers: [.apt(["libcrypt-dev"])]),
        // zlib1g-dev: raw deflate for IMAP COMPRESS=DEFLATE (RFC 4978).
        .systemLibrary(name: "CZlib", pkgConfig: "zlib", providers: [.apt(["zlib1g-dev"])]),

        // Safe LMDB wrapper: no mail concepts.
        .target(name: "LMDB", dependencies: ["CLMDB"]),

        // glibc's memmem, for substring search.
        .target(name: "CMemmem"),

        // Protocol-neutral RFC 5322 / MIME parsing.
        .target(name: "MailMessage", dependencies: ["CMemmem"]),

        // The engine.
        .target(name: "MailStore", dependencies: [
            "LMDB", "MailMessage", "CArgon2", "CCrypt",
            .product(name: "Crypto", package: "swift-crypto"),
        ]),

        // What every protocol front end shares: listeners, TLS, framing, SASL, limits, config,
        // logging and metrics.
        .target(name: "ServerSupport", dependencies: [
            "MailStore",
            .product(name: "NIOCore", package: "swift-nio"),
            .product(name: "NIOPosix", package: "swift-nio"),
            .product(name: "NIOSSL", package: "swift-nio-ssl"),
            .product(name: "Logging", package: "swift-log"),
            .product(name: "Metrics", package: "swift-metrics"),
            .product(name: "Prometheus", package: "swift-prometheus"),
            .product(name: "TOMLKit", package: "TOMLKit"),
            .product(name: "Crypto", package: "swift-crypto"),
        ]),

        // IMAP syntax: the command parser and response encoding, with no channel code, so it
        // can be tested and fuzzed alone.
        .target(name: "IMAPProtocol", dependencies: [
            "MailMessage",
            .product(name: "NIOCore", package: "swift-nio"),
        ]),

        // IMAP4rev2 (RFC 9051) and IMAP4rev1 (RFC 3501) with the extensions clients need.
        // IMAP search keys as store queries: shared by the IMAP front end and `mstore search`.
        .target(name: "IMAPSearch", dependencies: ["IMAPProtocol", "MailStore"]),
        .target(name: "IMAPServer", dependencies: ["IMAPProtocol", "IMAPSearch", "ServerSupport", "MailStore", "CZlib"]),

        // POP3 (RFC 1939, 2449, 2595, 5034).
        .target(name: "POP3Server", dependencies: ["ServerSupport", "MailStore"]),

        // LMTP (RFC 2033) and SMTP (RFC 5321, 1870, 3030, 6152, 6531) delivery.
        .target(name: "SMTPServer", dependencies: ["ServerSupport", "MailStore"]),

        .executableTarget(name: "mstore", dependencies: [
            "MailStore", "IMAPProtocol", "IMAPSearch", "CMemmem",
            .product(name: "ArgumentParser", package: "swift-argument-parser"),
            // SHA-256 of backup files.
            .product(name: "Crypto", package: "swift-crypto"),
        ]),
        .executableTarget(name: "mstored", dependencies: [
            "MailStore", "ServerSupport", "IMAPServer", "POP3Server", "SMTPServer",
            .product(name: "ArgumentParser", package: "swift-argument-parser"),
        ]),

        // Helpers shared by the test targets.
        .target(name: "TestSupport", path: "Tests/TestSupport"),

        .testTarget(name: "LMDBTests", dependencies: ["LMDB", "TestSupport"]),
        .testTarget(name: "MailMessageTests", dependencies: ["MailMessage"]),
        .testTarget(name: "IMAPProtocolTests", dependencies: [
            "IMAPProtocol", "MailMessage", "TestSupport",
            .product(name: "NIOCore", package: "swift-nio"),
        ]),
        .testTarget(name: "MailStoreTests", dependencies: ["MailStore", "TestSupport"]),
        .testTarget(name: "ServerTests", dependencies: [
            "ServerSupport", "IMAPProtocol", "IMAPServer", "POP3Server", "SMTPServer", "MailStore", "TestSupport", "CZlib",
            .product(name: "Crypto", package: "swift-crypto"),
            .product(name: "Logging", package: "swift-log"),
            .product(name: "NIOCore", package: "swift-nio"),
        ]),
    ]
)
