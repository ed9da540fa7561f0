import Foundation

/// The path of an executable product of this package (`mstore`, `mstored`), built next to the
/// test bundle, for tests that run the real binaries.
public func productPath(_ name: String) -> String {
    let bundle = URL(fileURLWithPath: CommandLine.arguments[0]).deletingLastPathComponent()
    for dir in [bundle, bundle.deletingLastPathComponent()] {
        let candidate = dir.appendingPathComponent(name).path
        if FileManager.default.isExecutableFile(atPath: candidate) { return candidate }
    }
    return Bundle.main.bundleURL.appendingPathComponent(name).path
}
