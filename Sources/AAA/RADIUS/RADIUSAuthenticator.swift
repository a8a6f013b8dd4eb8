import AKA
import Crypto

/// The RADIUS integrity and hiding constructions, all keyed by the shared secret:
/// Response Authenticator (RFC 2865 §3), Message-Authenticator (RFC 3579 §3.2) and the
/// salt-encryption of MS-MPPE keys (RFC 2548 §2.4.2). MD5 and HMAC-MD5 come from OpenSSL.
public enum RADIUSAuthenticator {
    static let zeroMA = [UInt8](repeating: 0, count: 16)

    /// Offset of the Message-Authenticator value in an encoded packet, if present.
    static func messageAuthenticatorOffset(_ bytes: [UInt8]) -> Int? {
        var off = RADIUSPacket.headerLength
        while off + 2 <= bytes.count {
            let l = Int(bytes[off + 1])
            guard l >= 2 else { return nil }
            if bytes[off] == RADIUSAttributeType.messageAuthenticator { return l == 18 ? off + 2 : nil }
            off += l
        }
        return nil
    }

    /// HMAC-MD5(secret, packet) with the Message-Authenticator value zeroed; the packet's
    /// authenticator field must already hold the Request Authenticator.
    static func hmac(_ bytes: [UInt8], maOffset: Int, secret: [UInt8]) -> [UInt8] {
        var z = bytes
        z.replaceSubrange(maOffset..<maOffset + 16, with: zeroMA)
        return HMAC.mac(.md5, key: secret, data: z)
    }

    public enum Check: Sendable, Equatable { case valid, invalid, absent }

    /// Checks the Message-Authenticator of a received Access-Request / Status-Server
    /// (the datagram as received, trimmed to Length).
    public static func checkRequest(_ bytes: [UInt8], secret: [UInt8]) -> Check {
        guard let off = messageAuthenticatorOffset(bytes) else { return .absent }
        let got = Array(bytes[off..<off + 16])
        return constantTimeEqual(hmac(bytes, maOffset: off, secret: secret), got) ? .valid : .invalid
    }

    /// Encodes a reply to a request with `requestAuthenticator`: fills Message-Authenticator
    /// (if the packet holds one) over the packet with the Request Authenticator in place,
    /// then the Response Authenticator MD5(Code|ID|Length|RequestAuth|Attributes|Secret).
    public static func signResponse(_ packet: RADIUSPacket, requestAuthenticator: [UInt8],
                                    secret: [UInt8]) throws(RADIUSError) -> [UInt8] {
        var p = packet
        p.authenticator = requestAuthenticator
        var bytes = try p.serialize()
        if let off = messageAuthenticatorOffset(bytes) {
            bytes.replaceSubrange(off..<off + 16, with: hmac(bytes, maOffset: off, secret: secret))
        }
        bytes.replaceSubrange(4..<20, with: Digest.hash(.md5, bytes + secret))
        return bytes
    }

    /// Encodes a request as a client does: random Request Authenticator (unless given) and
    /// the Message-Authenticator if the packet holds one. Used by tests and the RADIUS probe.
    public static func signRequest(_ packet: RADIUSPacket, secret: [UInt8],
                                   authenticator: [UInt8] = SecureRandom.bytes(16)) throws(RADIUSError) -> [UInt8] {
        var p = packet
        p.authenticator = authenticator
        var bytes = try p.serialize()
        if let off = messageAuthenticatorOffset(bytes) {
            bytes.replaceSubrange(off..<off + 16, with: hmac(bytes, maOffset: off, secret: secret))
        }
        return bytes
    }

    /// Client side: the Response Authenticator and Message-Authenticator of a reply verify.
    public static func verifyResponse(_ bytes: [UInt8], requestAuthenticator: [UInt8], secret: [UInt8]) -> Bool {
        guard bytes.count >= RADIUSPacket.headerLength else { return false }
        var z = bytes
        z.replaceSubrange(4..<20, with: requestAuthenticator)
        guard constantTimeEqual(Digest.hash(.md5, z + secret), Array(bytes[4..<20])) else { return false }
        if let off = messageAuthenticatorOffset(z) {
            return constantTimeEqual(hmac(z, maOffset: off, secret: secret), Array(z[off..<off + 16]))
        }
        return true
    }

    // MARK: MS-MPPE keys (RFC 2548 §2.4.2-2.4.3)

    /// Microsoft's SMI vendor id and the key attributes' vendor types.
    public static let microsoftVendorID: UInt32 = 311
    public static let msMPPESendKey: UInt8 = 16
    public static let msMPPERecvKey: UInt8 = 17

    /// Salt (2 bytes, high bit set) || encrypted(len || key || zero padding to 16n):
    /// b1 = MD5(S + R + A), c1 = p1 xor b1, bi = MD5(S + c(i-1)), ci = pi xor bi.
    public static func encryptMPPEKey(_ key: [UInt8], secret: [UInt8], requestAuthenticator: [UInt8],
                                      salt: [UInt8]) -> [UInt8] {
        var p = [UInt8(truncatingIfNeeded: key.count)] + key
        if p.count % 16 != 0 { p += [UInt8](repeating: 0, count: 16 - p.count % 16) }
        var out = salt
        var chain = requestAuthenticator + salt
        for i in stride(from: 0, to: p.count, by: 16) {
            let b = Digest.hash(.md5, secret + chain)
            let c = xor(Array(p[i..<i + 16]), b)
            out += c
            chain = c
        }
        return out
    }

    /// Inverse of `encryptMPPEKey` (salt included at the front); nil if malformed.
    public static func decryptMPPEKey(_ data: [UInt8], secret: [UInt8], requestAuthenticator: [UInt8]) -> [UInt8]? {
        guard data.count >= 18, (data.count - 2) % 16 == 0 else { return nil }
        let salt = Array(data[0..<2])
        var chain = requestAuthenticator + salt
        var p: [UInt8] = []
        for i in stride(from: 2, to: data.count, by: 16) {
            let c = Array(data[i..<i + 16])
            p += xor(c, Digest.hash(.md5, secret + chain))
            chain = c
        }
        let n = Int(p[0])
        guard n + 1 <= p.count else { return nil }
        return Array(p[1...n])
    }

    /// The Vendor-Specific attribute carrying one encrypted MPPE key.
    public static func mppeKeyAttribute(vendorType: UInt8, key: [UInt8], secret: [UInt8],
                                        requestAuthenticator: [UInt8], salt: [UInt8]) -> RADIUSAttribute {
        let enc = encryptMPPEKey(key, secret: secret, requestAuthenticator: requestAuthenticator, salt: salt)
        let v = microsoftVendorID
        let value: [UInt8] = [UInt8(v >> 24), UInt8((v >> 16) & 0xff), UInt8((v >> 8) & 0xff), UInt8(v & 0xff),
                              vendorType, UInt8(truncatingIfNeeded: enc.count + 2)] + enc
        return RADIUSAttribute(type: RADIUSAttributeType.vendorSpecific, value: value)
    }

    /// Finds and decrypts a Microsoft MPPE key in a reply (tests, probes).
    public static func mppeKey(in packet: RADIUSPacket, vendorType: UInt8, secret: [UInt8],
                               requestAuthenticator: [UInt8]) -> [UInt8]? {
        for a in packet.all(RADIUSAttributeType.vendorSpecific) where a.value.count > 6 {
            let vendor = a.value[0..<4].reduce(UInt32(0)) { $0 << 8 | UInt32($1) }
            guard vendor == microsoftVendorID, a.value[4] == vendorType, Int(a.value[5]) == a.value.count - 4 else { continue }
            return decryptMPPEKey(Array(a.value[6...]), secret: secret, requestAuthenticator: requestAuthenticator)
        }
        return nil
    }
}
