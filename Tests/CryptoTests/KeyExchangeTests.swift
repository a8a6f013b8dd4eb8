import XCTest
import TestSupport
import COpenSSL
@testable import Crypto

final class KeyExchangeTests: XCTestCase {
    /// RFC 5903 §8.1-8.3: public values (x | y) and shared secret (x only).
    func testECPRFC5903() throws {
        let cases: [(DHGroup, i: String, gi: String, r: String, gr: String, girx: String)] = [
            (.ecp256,
             "c88f01f510d9ac3f70a292daa2316de544e9aab8afe84049c62a9c57862d1433",
             "dad0b65394221cf9b051e1feca5787d098dfe637fc90b9ef945d0c3772581180" + "5271a0461cdb8252d61f1c456fa3e59ab1f45b33accf5f58389e0577b8990bb3",
             "c6ef9c5d78ae012a011164acb397ce2088685d8f06bf9be0b283ab46476bee53",
             "d12dfb5289c8d4f81208b70270398c342296970a0bccb74c736fc7554494bf63" + "56fbf3ca366cc23e8157854c13c58d6aac23f046ada30f8353e74f33039872ab",
             "d6840f6b42f6edafd13116e0e12565202fef8e9ece7dce03812464d04b9442de"),
            (.ecp384,
             "099f3c7034d4a2c699884d73a375a67f7624ef7c6b3c0f160647b67414dce655e35b538041e649ee3faef896783ab194",
             "667842d7d180ac2cde6f74f37551f55755c7645c20ef73e31634fe72b4c55ee6de3ac808acb4bdb4c88732aee95f41aa" + "9482ed1fc0eeb9cafc4984625ccfc23f65032149e0e144ada024181535a0f38eeb9fcff3c2c947dae69b4c634573a81c",
             "41cb0779b4bdb85d47846725fbec3c9430fab46cc8dc5060855cc9bda0aa2942e0308312916b8ed2960e4bd55a7448fc",
             "e558dbef53eecde3d3fccfc1aea08a89a987475d12fd950d83cfa41732bc509d0d1ac43a0336def96fda41d0774a3571" + "dcfbec7aacf3196472169e838430367f66eebe3c6e70c416dd5f0c68759dd1fff83fa40142209dff5eaad96db9e6386c",
             "11187331c279962d93d604243fd592cb9d0a926f422e47187521287e7156c5c4d603135569b9e9d09cf5d4a270f59746"),
            (.ecp521,
             "0037ade9319a89f4dabdb3ef411aaccca5123c61acab57b5393dce47608172a095aa85a30fe1c2952c6771d937ba9777f5957b2639bab072462f68c27a57382d4a52",
             "0015417e84dbf28c0ad3c278713349dc7df153c897a1891bd98bab4357c9ecbee1e3bf42e00b8e380aeae57c2d107564941885942af5a7f4601723c4195d176ced3e" + "017cae20b6641d2eeb695786d8c946146239d099e18e1d5a514c739d7cb4a10ad8a788015ac405d7799dc75e7b7d5b6cf2261a6a7f1507438bf01beb6ca3926f9582",
             "0145ba99a847af43793fdd0e872e7cdfa16be30fdc780f97bccc3f078380201e9c677d600b343757a3bdbf2a3163e4c2f869cca7458aa4a4effc311f5cb151685eb9",
             "00d0b3975ac4b799f5bea16d5e13e9af971d5e9b984c9f39728b5e5739735a219b97c356436adc6e95bb0352f6be64a6c2912d4ef2d0433ced2b6171640012d9460f" + "015c68226383956e3bd066e797b623c27ce0eac2f551a10c2c724d9852077b87220b6536c5c408a1d2aebb8e86d678ae49cb57091f4732296579ab44fcd17f0fc56a",
             "01144c7d79ae6956bc8edb8e7c787c4521cb086fa64407f97894e5e6b2d79b04d1427e73ca4baa240a34786859810c06b3c715a3a8cc3151f2bee417996d19f3ddea"),
        ]
        for c in cases {
            let i = try DHKeyPair(group: c.0, privateKey: [UInt8](hex: c.i))
            let r = try DHKeyPair(group: c.0, privateKey: [UInt8](hex: c.r))
            XCTAssertEqual(i.publicValue.hex, c.gi, "\(c.0) g^i")
            XCTAssertEqual(r.publicValue.hex, c.gr, "\(c.0) g^r")
            XCTAssertEqual(try i.sharedSecret(peerPublicValue: r.publicValue).hex, c.girx, "\(c.0) g^ir")
            XCTAssertEqual(try r.sharedSecret(peerPublicValue: i.publicValue).hex, c.girx)
            XCTAssertEqual(c.0.publicValueLength, i.publicValue.count)
            XCTAssertEqual(c.0.sharedSecretLength, c.girx.count / 2)
        }
    }

    /// RFC 7748 §6.1 (X25519) and §6.2 (X448) Alice/Bob.
    func testX25519AndX448RFC7748() throws {
        let cases: [(DHGroup, String, String, String, String, String)] = [
            (.curve25519,
             "77076d0a7318a57d3c16c17251b26645df4c2f87ebc0992ab177fba51db92c2a", "8520f0098930a754748b7ddcb43ef75a0dbf3a0d26381af4eba4a98eaa9b4e6a",
             "5dab087e624a8a4b79e17f8b83800ee66f3bb1292618b6fd1c2f8b27ff88e0eb", "de9edb7d7b7dc1b4d35b61c2ece435373f8343c85b78674dadfc7e146f882b4f",
             "4a5d9d5ba4ce2de1728e3bf480350f25e07e21c947d19e3376f09b3c1e161742"),
            (.curve448,
             "9a8f4925d1519f5775cf46b04b5800d4ee9ee8bae8bc5565d498c28dd9c9baf574a9419744897391006382a6f127ab1d9ac2d8c0a598726b",
             "9b08f7cc31b7e3e67d22d5aea121074a273bd2b83de09c63faa73d2c22c5d9bbc836647241d953d40c5b12da88120d53177f80e532c41fa0",
             "1c306a7ac2a0e2e0990b294470cba339e6453772b075811d8fad0d1d6927c120bb5ee8972b0d3e21374c9c921b09d1b0366f10b65173992d",
             "3eb7a829b0cd20f5bcfc0b599b6feccf6da4627107bdb0d4f345b43027d8b972fc3e34fb4232a13ca706dcb57aec3dae07bdc1c67bf33609",
             "07fff4181ac6cc95ec1c16a94a0f74d12da232ce40a77552281d282bb60c0b56fd2464c335543936521c24403085d59a449a5037514a879d"),
        ]
        for (g, aPriv, aPub, bPriv, bPub, k) in cases {
            let alice = try DHKeyPair(group: g, privateKey: [UInt8](hex: aPriv))
            let bob = try DHKeyPair(group: g, privateKey: [UInt8](hex: bPriv))
            XCTAssertEqual(alice.publicValue.hex, aPub)
            XCTAssertEqual(bob.publicValue.hex, bPub)
            XCTAssertEqual(try alice.sharedSecret(peerPublicValue: bob.publicValue).hex, k)
            XCTAssertEqual(try bob.sharedSecret(peerPublicValue: alice.publicValue).hex, k)
        }
    }

    /// Every group: two fresh parties agree, values have the IKEv2 lengths.
    func testRoundTripEveryGroup() throws {
        for g in DHGroup.allCases {
            let a = try DHKeyPair(group: g), b = try DHKeyPair(group: g)
            XCTAssertEqual(a.publicValue.count, g.publicValueLength, "\(g)")
            XCTAssertNotEqual(a.publicValue, b.publicValue, "\(g)")
            let sa = try a.sharedSecret(peerPublicValue: b.publicValue)
            let sb = try b.sharedSecret(peerPublicValue: a.publicValue)
            XCTAssertEqual(sa, sb, "\(g)")
            XCTAssertEqual(sa.count, g.sharedSecretLength, "\(g)")
        }
    }

    /// MODP with a fixed private key: g^x computed by OpenSSL equals the derived public
    /// value, and g^(xy) agrees; x = 1 gives public value g = 2 (padded big-endian).
    func testMODPEncodingIsPaddedBigEndian() throws {
        let one = try DHKeyPair(group: .modp1024, privateKey: [1])
        XCTAssertEqual(one.publicValue, [UInt8](repeating: 0, count: 127) + [2])
        let a = try DHKeyPair(group: .modp2048, privateKey: [0x12, 0x34])
        var expected = [UInt8](repeating: 0, count: 256)
        XCTAssertEqual(a.publicValue.count, expected.count)
        let b = try DHKeyPair(group: .modp2048)
        XCTAssertEqual(try a.sharedSecret(peerPublicValue: b.publicValue), try b.sharedSecret(peerPublicValue: a.publicValue))
        expected[255] = 4
        let two = try DHKeyPair(group: .modp2048, privateKey: [2])
        XCTAssertEqual(two.publicValue, expected)
    }

    func testInvalidPeerValuesRejected() throws {
        func assertInvalid(_ k: DHKeyPair, _ peer: [UInt8], _ why: String, file: StaticString = #filePath, line: UInt = #line) {
            XCTAssertThrowsError(try k.sharedSecret(peerPublicValue: peer), why, file: file, line: line) { e in
                guard case .invalidPublicValue = e as? CryptoError else {
                    return XCTFail("\(why): expected invalidPublicValue, got \(e)", file: file, line: line)
                }
            }
        }
        for g in [DHGroup.modp1024, .modp2048, .modp2048s256] {
            let k = try DHKeyPair(group: g)
            let n = g.publicValueLength
            assertInvalid(k, [UInt8](repeating: 0, count: n), "\(g) y = 0")
            assertInvalid(k, [UInt8](repeating: 0, count: n - 1) + [1], "\(g) y = 1")
            assertInvalid(k, [UInt8](repeating: 0xff, count: n), "\(g) y > p")
            assertInvalid(k, [UInt8](repeating: 0, count: n - 1) + [2, 0], "\(g) wrong length")
            // p - 1 for the RFC 3526 group (p ends in ...ffffffffffffffff).
            if g == .modp2048 {
                let list = OSSLParamList(); list.utf8("group", "modp_2048")
                let domain = try pkeyFromData(type: "DH", selection: KeySelection.parameters, list)
                defer { EVP_PKEY_free(domain) }
                let p = try pkeyBigEndianParam(domain, "p")
                XCTAssertEqual(p.count, 256)
                var pm1 = p; pm1[pm1.count - 1] -= 1
                assertInvalid(k, pm1, "y = p-1")
                assertInvalid(k, p, "y = p")
            }
        }
        // RFC 5114 groups check subgroup membership: 2^1 is not in the q-order subgroup of group 24.
        let g24 = try DHKeyPair(group: .modp2048s256)
        assertInvalid(g24, [UInt8](repeating: 0, count: 255) + [2], "group 24 element outside subgroup")

        for g in [DHGroup.ecp256, .ecp384, .ecp521] {
            let k = try DHKeyPair(group: g), other = try DHKeyPair(group: g)
            var off = other.publicValue; off[off.count - 1] ^= 1 // y changed: off the curve
            assertInvalid(k, off, "\(g) off-curve")
            assertInvalid(k, [UInt8](repeating: 0, count: g.publicValueLength), "\(g) zero point")
            assertInvalid(k, Array(other.publicValue.dropLast()), "\(g) short")
            assertInvalid(k, [0x04] + other.publicValue, "\(g) with 0x04 prefix")
        }
        // X25519: u = 0 and u = 1 are small-order points giving the all-zero secret.
        let x = try DHKeyPair(group: .curve25519)
        assertInvalid(x, [UInt8](repeating: 0, count: 32), "X25519 u=0")
        assertInvalid(x, [1] + [UInt8](repeating: 0, count: 31), "X25519 u=1")
        assertInvalid(x, [UInt8](repeating: 9, count: 31), "X25519 short")
        let x448 = try DHKeyPair(group: .curve448)
        assertInvalid(x448, [UInt8](repeating: 0, count: 56), "X448 u=0")
    }
}
