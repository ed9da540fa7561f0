import Foundation
import MailStore

// mstored: the daemon. Its protocol front ends (POP3, LMTP, IMAP) arrive with their issues;
// until then it opens the store, reports what it holds, and exits.
let version = "mstored 0.1.0"
let arguments = CommandLine.arguments.dropFirst()
if arguments.contains("--version") {
    print(version)
    exit(0)
}
var data: String?
if let i = arguments.firstIndex(of: "--data"), arguments.index(after: i) < arguments.endIndex {
    data = arguments[arguments.index(after: i)]
}
do {
    let store = try MailStore(path: MailStore.defaultPath(data: data))
    let accounts = try store.read { try $0.accounts() }
    print("\(version): store \(store.path) holds \(accounts.count) user(s); no listeners are built yet")
} catch {
    FileHandle.standardError.write(Data("mstored: \(error)\n".utf8))
    exit(1)
}
