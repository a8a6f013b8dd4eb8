import AKA
import Config
import Crypto

/// `com_auth` (callbox §5.1): the server sends a random challenge, the client proves it knows
/// the password with res = HMAC-SHA256(key "<type>:<password>:<name>", data "<challenge>"),
/// in lowercase hex. The type and name in the key bind the answer to this one API.
struct RemoteAPIAuth: Sendable {
    let key: [UInt8]

    init(_ config: ComAuthConfig, type: String, name: String) {
        key = Array("\(type):\(config.password):\(name)".utf8)
    }

    /// 128 random bits in hex: never repeats, so an overheard answer is worthless.
    static func challenge() -> String { Hex.encode(SecureRandom.bytes(16)) }

    /// The answer a client with the right password gives to `challenge`.
    func response(to challenge: String) -> String {
        Hex.encode(HMAC.mac(.sha256, key: key, data: Array(challenge.utf8)))
    }

    /// Compares in constant time (hex is case-insensitive).
    func accepts(_ res: String, for challenge: String) -> Bool {
        constantTimeEqual(Array(res.lowercased().utf8), Array(response(to: challenge).utf8))
    }
}
