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

/// Runs the executable at `path` with `arguments`, feeding `input` on stdin; returns its exit
/// status, stdout and stderr. Both pipes are read at once, so a child that fills one of them
/// cannot stall, and a child still running after `timeout` is killed (its status then says so).
@discardableResult
public func runProcess(_ path: String, _ arguments: [String], input: [UInt8] = [],
                       environment: [String: String] = [:],
                       timeout: TimeInterval = childTimeout) throws -> (status: Int32, out: String, err: String) {
    let process = Process()
    process.executableURL = URL(fileURLWithPath: path)
    process.arguments = arguments
    process.environment = ProcessInfo.processInfo.environment.merging(environment) { $1 }
    let stdin = Pipe(), stdout = Pipe(), stderr = Pipe()
    process.standardInput = stdin
    process.standardOutput = stdout
    process.standardError = stderr
    try process.run()
    let watchdog = killAfter(timeout, process)
    defer { watchdog.cancel() }
    stdin.fileHandleForWriting.write(Data(input))
    try stdin.fileHandleForWriting.close()
    let err = ReadToEnd(stderr.fileHandleForReading)
    let out = stdout.fileHandleForReading.readDataToEndOfFile()
    process.waitUntilExit()
    return (process.terminationStatus, String(decoding: out, as: UTF8.self), String(decoding: err.data(), as: UTF8.self))
}

/// How long a test lets a child process (a CLI run, a daemon's start or stop) take before it
/// kills it: far longer than any of them needs, so only a hang reaches it.
public let childTimeout: TimeInterval = 300

/// Kills `process` with SIGKILL unless the returned work item is cancelled within `seconds`.
public func killAfter(_ seconds: TimeInterval, _ process: Process) -> DispatchWorkItem {
    let pid = process.processIdentifier
    let item = DispatchWorkItem { if process.isRunning { kill(pid, SIGKILL) } }
    DispatchQueue.global().asyncAfter(deadline: .now() + seconds, execute: item)
    return item
}

/// Waits up to `seconds` for `process` to exit; false when it is still running.
public func waitForExit(_ process: Process, seconds: TimeInterval) -> Bool {
    let deadline = Date().addingTimeInterval(seconds)
    while process.isRunning {
        if Date() > deadline { return false }
        usleep(20_000)
    }
    process.waitUntilExit()
    return true
}

/// The stacks of every thread of a running process, through gdb, for a test that found the
/// process hung; empty when gdb is not installed.
public func threadStacks(of pid: Int32) -> String {
    let gdb = "/usr/bin/gdb"
    guard FileManager.default.isExecutableFile(atPath: gdb),
          let result = try? runProcess(gdb, ["-p", "\(pid)", "-batch", "-ex", "thread apply all bt 30"], timeout: 60)
    else { return "" }
    return result.out
}

/// Reads a file handle to its end on another thread.
final class ReadToEnd: @unchecked Sendable {
    private var result = Data()
    private let done = DispatchSemaphore(value: 0)

    init(_ handle: FileHandle) {
        Thread.detachNewThread { [self] in
            result = handle.readDataToEndOfFile()
            done.signal()
        }
    }

    func data() -> Data {
        done.wait()
        return result
    }
}
