import Crypto
import Foundation
import MailStore

/// SASL mechanisms the servers offer.
public enum SASLMechanism: String, CaseIterable, Sendable {
    /// RFC 4616.
    case plain = "PLAIN"
    /// The obsolete but widespread LOGIN mechanism.
    case login = "LOGIN"
    /// RFC 5802 / RFC 7677, without channel binding.
    case scramSHA256 = "SCRAM-SHA-256"

    /// Mechanisms that send the password itself, which need TLS or loopback.
    public var sendsPassword: Bool { self != .scramSHA256 }

    public init?(name: String) { self.init(rawValue: name.uppercased()) }
}

/// The next thing to send in a SASL exchange.
public enum SASLStep: Sendable {
    /// Send this challenge (the protocol base64-encodes it) and wait for a response.
    case challenge([UInt8])
    /// Authenticated. `finalData` (SCRAM's server signature) must reach the client too.
    case success(Account, finalData: [UInt8]?)
    /// Failed: answer after the throttle delay. `user` is the name tried, if any.
    case failure(user: String?)
    /// The client's response was malformed.
    case malformed(String)
}

/// One SASL exchange against the store's accounts. A session drives it one step at a time.
///
/// `@unchecked Sendable`: a session awaits each step before starting the next, so the mutable
/// exchange state is never touched concurrently.
public final class SASLExchange: @unchecked Sendable {
    public let mechanism: SASLMechanism
    private let services: ServerServices
    private var loginUser: String?
    private var scram: ScramState?
    private var finished = false

    private struct ScramState {
        var user: String
        var account: Account?
        var credentials: ScramCredentials
        var gs2Header: String
        var clientFirstBare: String
        var serverFirst: String
        var nonce: String
    }

    public init(mechanism: SASLMechanism, services: ServerServices) {
        self.mechanism = mechanism
        self.services = services
    }

    /// The first step: `initialResponse` is the SASL-IR data, nil when the client sent none
    /// (an empty response is `[]`).
    public func start(initialResponse: [UInt8]?) async -> SASLStep {
        switch mechanism {
        case .plain:
            guard let initialResponse else { return .challenge([]) }
            return await plain(initialResponse)
        case .login:
            if let initialResponse {
                loginUser = String(decoding: initialResponse, as: UTF8.self)
                return .challenge(Array("Password:".utf8))
            }
            return .challenge(Array("Username:".utf8))
        case .scramSHA256:
            guard let initialResponse else { return .challenge([]) }
            return await scramClientFirst(initialResponse)
        }
    }

    /// A later step with the client's decoded response.
    public func respond(_ data: [UInt8]) async -> SASLStep {
        guard !finished else { return .malformed("exchange already finished") }
        switch mechanism {
        case .plain:
            return await plain(data)
        case .login:
            if let user = loginUser {
                finished = true
                return await verify(user: user, password: String(decoding: data, as: UTF8.self))
            }
            loginUser = String(decoding: data, as: UTF8.self)
            return .challenge(Array("Password:".utf8))
        case .scramSHA256:
            if scram == nil { return await scramClientFirst(data) }
            finished = true
            return await scramClientFinal(data)
        }
    }

    // MARK: PLAIN (RFC 4616): [authzid] NUL authcid NUL passwd

    private func plain(_ data: [UInt8]) async -> SASLStep {
        finished = true
        let parts = data.split(separator: 0, maxSplits: 2, omittingEmptySubsequences: false)
        guard parts.count == 3 else { return .malformed("PLAIN needs authzid NUL authcid NUL password") }
        let authzid = String(decoding: parts[0], as: UTF8.self)
        let user = String(decoding: parts[1], as: UTF8.self)
        // No proxy authentication: an authorization identity must be the user itself.
        guard authzid.isEmpty || authzid.lowercased() == user.lowercased() else { return .failure(user: user) }
        return await verify(user: user, password: String(decoding: parts[2], as: UTF8.self))
    }

    /// Checks a password on the thread pool (Argon2id is slow by design).
    ///
    /// An account imported with a crypt hash, or one without SCRAM-SHA-256 keys, is upgraded
    /// on its first successful check: the password is hashed again with Argon2id and its SCRAM
    /// keys are derived, so later SCRAM logins work. Until then SCRAM fails for it, and PLAIN,
    /// LOGIN and USER/PASS are the way in.
    public func verify(user: String, password: String) async -> SASLStep {
        let store = services.store
        let cache = services.authCache
        let checked = try? await services.offload { () -> (Account, Credentials?)? in
            guard let account = try store.read({ try $0.account(named: user) }) else { return nil }
            if cache.matches(account, password: password) { return (account, nil) }
            guard PasswordHasher.verify(password, against: account.passwordHash) else { return nil }
            let upgrade = try? PasswordHasher.upgradedCredentials(for: account, password: password)
            if upgrade == nil { cache.remember(account, password: password) }
            return (account, upgrade)
        }
        guard let checked = checked ?? nil else { return .failure(user: user) }
        var account = checked.0
        if let upgrade = checked.1 {
            // A failed upgrade is not a failed login: the old hash stays and the next login tries again.
            let (id, verifiedHash) = (account.id, account.passwordHash)
            if let stored = try? await store.write({ try $0.upgradeCredentials(id, verifiedHash: verifiedHash, to: upgrade) }) {
                account = stored
            }
            cache.remember(account, password: password)
        }
        return .success(account, finalData: nil)
    }

    // MARK: SCRAM-SHA-256 (RFC 5802 §5, RFC 7677)

    private func scramClientFirst(_ data: [UInt8]) async -> SASLStep {
        let message = String(decoding: data, as: UTF8.self)
        // gs2-header: "n,," or "y,," (channel binding is not offered), optional a=authzid.
        let fields = message.split(separator: ",", maxSplits: 2, omittingEmptySubsequences: false)
        guard fields.count == 3, fields[0] == "n" || fields[0] == "y" else {
            finished = true
            return .malformed("channel binding is not supported")
        }
        let gs2Header = "\(fields[0]),\(fields[1]),"
        let bare = String(fields[2])
        let attributes = Self.attributes(bare)
        guard let rawUser = attributes["n"], let clientNonce = attributes["r"], !clientNonce.isEmpty,
              bare.hasPrefix("n=") else {
            finished = true
            return .malformed("expected n=user,r=nonce")
        }
        let user = rawUser.replacingOccurrences(of: "=2C", with: ",").replacingOccurrences(of: "=3D", with: "=")
        let store = services.store
        let account = (try? await services.offload { try store.read { try $0.account(named: user) } }) ?? nil
        // An unknown user gets made-up but stable parameters, so the exchange does not reveal
        // whether the user exists; it fails at the proof.
        let credentials = account?.scram ?? ScramCredentials(
            salt: Array(SHA256.hash(data: Array(("mstore-scram:" + user.lowercased()).utf8)).prefix(16)),
            iterations: PasswordHasher.scramIterations, storedKey: [], serverKey: [])
        let nonce = clientNonce + Self.randomNonce()
        let serverFirst = "r=\(nonce),s=\(Data(credentials.salt).base64EncodedString()),i=\(credentials.iterations)"
        scram = ScramState(user: user, account: account, credentials: credentials, gs2Header: gs2Header,
                           clientFirstBare: bare, serverFirst: serverFirst, nonce: nonce)
        return .challenge(Array(serverFirst.utf8))
    }

    private func scramClientFinal(_ data: [UInt8]) async -> SASLStep {
        guard let state = scram else { return .malformed("no SCRAM exchange") }
        let message = String(decoding: data, as: UTF8.self)
        let attributes = Self.attributes(message)
        guard let channelBinding = attributes["c"], let nonce = attributes["r"], let proofText = attributes["p"],
              let proof = Data(base64Encoded: proofText), let proofIndex = message.range(of: ",p=") else {
            return .malformed("expected c=,r=,p=")
        }
        guard channelBinding == Data(state.gs2Header.utf8).base64EncodedString(), nonce == state.nonce,
              let account = state.account, let scram = account.scram, proof.count == scram.storedKey.count else {
            return .failure(user: state.user)
        }
        let withoutProof = String(message[..<proofIndex.lowerBound])
        let authMessage = Array("\(state.clientFirstBare),\(state.serverFirst),\(withoutProof)".utf8)
        let signature = Array(HMAC<SHA256>.authenticationCode(for: authMessage, using: SymmetricKey(data: scram.storedKey)))
        let clientKey = zip(Array(proof), signature).map { $0 ^ $1 }
        guard Array(SHA256.hash(data: clientKey)) == scram.storedKey else { return .failure(user: state.user) }
        let serverSignature = HMAC<SHA256>.authenticationCode(for: authMessage, using: SymmetricKey(data: scram.serverKey))
        let final = "v=" + Data(serverSignature).base64EncodedString()
        return .success(account, finalData: Array(final.utf8))
    }

    static func attributes(_ message: String) -> [String: String] {
        var result: [String: String] = [:]
        for field in message.split(separator: ",") {
            guard let eq = field.firstIndex(of: "="), field.distance(from: field.startIndex, to: eq) == 1 else { continue }
            let key = String(field[..<eq])
            if result[key] == nil { result[key] = String(field[field.index(after: eq)...]) }
        }
        return result
    }

    static func randomNonce() -> String {
        var g = SystemRandomNumberGenerator()
        return Data((0..<18).map { _ in UInt8.random(in: 0...255, using: &g) }).base64EncodedString()
    }
}
