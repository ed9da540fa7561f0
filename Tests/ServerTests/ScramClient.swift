import Crypto
import Foundation
import MailStore

/// The client side of SCRAM-SHA-256 (RFC 5802 §3, RFC 7677), computed here for tests, without
/// channel binding.
struct ScramClient {
    var user: String
    var password: String
    var nonce = "clientnonce123"

    var clientFirstBare: String { "n=\(user),r=\(nonce)" }
    /// The client-first message, with the `n,,` GS2 header.
    var clientFirst: String { "n,," + clientFirstBare }

    /// The client-final message answering `serverFirst` (`r=…,s=…,i=…`), and the server-final
    /// message (`v=…`) a server that knows the password must send back.
    func final(serverFirst: String) -> (message: String, serverFinal: String) {
        var attrs: [String: String] = [:]
        for f in serverFirst.split(separator: ",") { attrs[String(f.prefix(1))] = String(f.dropFirst(2)) }
        let salt = Array(Data(base64Encoded: attrs["s"] ?? "") ?? Data())
        let salted = PasswordHasher.pbkdf2SHA256(password: Array(password.utf8), salt: salt,
                                                 iterations: Int(attrs["i"] ?? "") ?? 1)
        let key = SymmetricKey(data: salted)
        let clientKey = Array(HMAC<SHA256>.authenticationCode(for: Array("Client Key".utf8), using: key))
        let storedKey = Array(SHA256.hash(data: clientKey))
        let finalWithoutProof = "c=biws,r=\(attrs["r"] ?? "")"
        let authMessage = Array("\(clientFirstBare),\(serverFirst),\(finalWithoutProof)".utf8)
        let signature = Array(HMAC<SHA256>.authenticationCode(for: authMessage, using: SymmetricKey(data: storedKey)))
        let proof = zip(clientKey, signature).map { $0 ^ $1 }
        let serverKey = Array(HMAC<SHA256>.authenticationCode(for: Array("Server Key".utf8), using: key))
        let serverSignature = HMAC<SHA256>.authenticationCode(for: authMessage, using: SymmetricKey(data: serverKey))
        return (finalWithoutProof + ",p=" + Data(proof).base64EncodedString(),
                "v=" + Data(serverSignature).base64EncodedString())
    }
}
