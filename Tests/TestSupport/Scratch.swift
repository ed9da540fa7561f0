import Foundation

/// Every scratch file and directory of a test process lives under one directory,
/// `$TMPDIR/mstore-tests-PID`, removed when the process exits: the tests used to leave their
/// stores and files behind in the temporary directory, run after run.
private let scratchRoot = NSTemporaryDirectory() + "mstore-tests-\(getpid())"
private let removeScratchAtExit: Void = {
    try? FileManager.default.createDirectory(atPath: scratchRoot, withIntermediateDirectories: true)
    atexit { try? FileManager.default.removeItem(atPath: scratchRoot) }
}()

/// A fresh path (nothing there yet) under the process's scratch directory, its name starting
/// with `name`.
public func scratchPath(_ name: String) -> String {
    _ = removeScratchAtExit
    return scratchRoot + "/\(name)-\(UInt32.random(in: 0...UInt32.max))"
}
