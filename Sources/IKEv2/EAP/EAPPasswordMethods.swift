import Crypto
import Wire

/// The two password methods of the second authentication (TS 33.402 §6.5.2/§6.5.3, RFC 4739):
/// EAP-GTC carries PAP's clear password, EAP-MD5-Challenge carries CHAP's MD5 answer.
/// Neither derives an MSK, so the IKE AUTH of that round is keyed with SK_pi/SK_pr.
extension EAPType {
    /// RFC 3748 §5.4.
    public static let md5Challenge: UInt8 = 4
    /// RFC 3748 §5.6.
    public static let gtc: UInt8 = 6

    /// "EAP-MD5", "EAP-GTC", "EAP-AKA"… for logs and the message tree; nil when unknown.
    public static func name(_ t: UInt8) -> String? {
        switch t {
        case identity: "Identity"
        case notification: "Notification"
        case nak: "Nak"
        case md5Challenge: "EAP-MD5-Challenge"
        case gtc: "EAP-GTC"
        case aka: "EAP-AKA"
        case akaPrime: "EAP-AKA'"
        default: nil
        }
    }
}

/// MD5-Challenge type-data (RFC 3748 §5.4): Value-Size, Value, then an optional Name that
/// runs to the end of the packet. The same layout serves the Request (Value = challenge) and
/// the Response (Value = MD5(Identifier ‖ secret ‖ challenge), RFC 1994 §4.1).
public struct EAPMD5Challenge: Hashable, Sendable {
    public var value: [UInt8]
    public var name: [UInt8]

    public init(value: [UInt8], name: [UInt8] = []) { self.value = value; self.name = name }

    public init(parsing typeData: [UInt8]) throws {
        var r = ByteReader(typeData)
        let size = Int(try r.u8("MD5-Challenge Value-Size"))
        guard size > 0 else { throw WireError.invalidValue(what: "MD5-Challenge Value-Size", offset: 0, detail: "0") }
        value = try r.bytes(size, "MD5-Challenge Value")
        name = r.rest()
    }

    public func serialize() -> [UInt8] { [UInt8(clamping: value.count)] + value + name }

    /// The CHAP response value: MD5 over the EAP Identifier, the shared secret and the challenge.
    public static func responseValue(identifier: UInt8, secret: [UInt8], challenge: [UInt8]) -> [UInt8] {
        Digest.hash(.md5, [identifier] + secret + challenge)
    }
}

/// Generic Token Card (RFC 3748 §5.6): the Request carries a displayable prompt, the Response
/// the token (here PAP's password) as opaque octets; no other structure.
public enum EAPGTC {
    public static func request(identifier: UInt8, prompt: String = "Password:") -> EAPPacket {
        EAPPacket(code: .request, identifier: identifier, type: EAPType.gtc, typeData: Array(prompt.utf8))
    }

    public static func response(identifier: UInt8, token: [UInt8]) -> EAPPacket {
        EAPPacket(code: .response, identifier: identifier, type: EAPType.gtc, typeData: token)
    }
}
