#if canImport(Glibc)
import Glibc
#elseif canImport(Darwin)
import Darwin
#endif

/// An advisory lock on `mstore.lock` in the data directory, which tells the processes that use
/// a store apart from the one that must have it alone: `mstore compact`, which swaps the data
/// file under everyone.
///
/// Every `MailStore` holds it shared for its lifetime, so the CLI, `mstored` and library users
/// can share the store as before; compaction takes it exclusively. Neither waits: a conflict is
/// an error at once. `flock` locks belong to the open file, so a lock ends with its process,
/// even after `kill -9`.
///
/// `@unchecked Sendable`: the descriptor is set once and only closed, in deinit.
final class StoreLock: @unchecked Sendable {
    static let fileName = "mstore.lock"

    enum Mode {
        /// Using the store, alongside others.
        case shared
        /// Having it alone.
        case exclusive
    }

    private let descriptor: Int32

    /// Creates the directory and the lock file if needed and takes the lock, or throws
    /// `storeBusy` when another process holds it in a conflicting mode.
    init(directory: String, mode: Mode) throws {
        func failure(_ what: String) -> MailStoreError {
            .storage("\(what) \(directory): \(String(cString: strerror(errno)))")
        }
        if mkdir(directory, 0o700) != 0 && errno != EEXIST { throw failure("cannot create") }
        let fd = open(directory + "/" + Self.fileName, O_RDWR | O_CREAT | O_CLOEXEC, 0o600)
        guard fd >= 0 else { throw failure("cannot open the lock file of") }
        guard flock(fd, (mode == .shared ? LOCK_SH : LOCK_EX) | LOCK_NB) == 0 else {
            let busy = errno == EWOULDBLOCK
            let error = failure("cannot lock")
            close(fd)
            guard busy else { throw error }
            throw MailStoreError.storeBusy(mode == .shared
                ? "store \(directory) is being compacted; try again when mstore compact has finished"
                : "store \(directory) is open in another process (mstored, or another mstore); stop it first")
        }
        descriptor = fd
    }

    deinit { close(descriptor) }
}
