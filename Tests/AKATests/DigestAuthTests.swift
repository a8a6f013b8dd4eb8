import XCTest
import TestSupport
@testable import AKA

final class DigestAuthTests: XCTestCase {
    private func root() throws -> [String: Any] { try XCTUnwrap(Vectors.json("http_digest_aka.json") as? [String: Any]) }
    private func s(_ c: [String: Any], _ k: String) -> String { c[k] as? String ?? "" }

    func testRFC2617AndRFC7616Examples() throws {
        let examples = try XCTUnwrap(try root()["digest_reference_examples"] as? [[String: Any]])
        XCTAssertEqual(examples.count, 3)
        for c in examples {
            let alg = try XCTUnwrap(DigestAlgorithmName(token: s(c, "algorithm")))
            let r = try DigestAuth.response(algorithm: alg, username: s(c, "username"), realm: s(c, "realm"),
                                            password: Array(s(c, "password").utf8), method: s(c, "method"), uri: s(c, "uri"),
                                            nonce: s(c, "nonce"), nc: s(c, "nc"), cnonce: s(c, "cnonce"), qop: DigestQOP(rawValue: s(c, "qop")))
            XCTAssertEqual(r, s(c, "response"), s(c, "source"))
        }
    }

    func testDerivedAKAExamples() throws {
        let examples = try XCTUnwrap(try root()["derived_aka_examples"] as? [[String: Any]])
        XCTAssertEqual(examples.count, 3)
        for c in examples {
            let alg = try XCTUnwrap(DigestAlgorithmName(token: s(c, "algorithm")))
            let rand = Vectors.bytes(s(c, "rand")), autn = Vectors.bytes(s(c, "autn"))
            XCTAssertEqual(try DigestAKA.nonce(rand: rand, autn: autn), s(c, "nonce"))
            let parsed = try DigestAKA.parseNonce(s(c, "nonce"))
            XCTAssertEqual(parsed.rand, rand)
            XCTAssertEqual(parsed.autn, autn)
            XCTAssertEqual(parsed.serverData, [])
            let password: [UInt8]
            if let auts = c["auts"] as? String {
                XCTAssertEqual(Base64.encode(Vectors.bytes(auts)), s(c, "auts_b64"))
                XCTAssertEqual(Base64.decode(s(c, "auts_b64")), Vectors.bytes(auts))
                password = []  // sync failure: empty password (RFC 3310 §3.4)
            } else {
                password = try XCTUnwrap(DigestAKA.password(algorithm: alg, res: Vectors.bytes(s(c, "res")),
                                                            ik: Vectors.bytes(s(c, "ik")), ck: Vectors.bytes(s(c, "ck"))))
                if alg == .akav1MD5 { XCTAssertEqual(password, Vectors.bytes(s(c, "password_hex"))) }
                if alg == .akav2MD5 { XCTAssertEqual(String(decoding: password, as: UTF8.self), s(c, "password")) }
            }
            let qop = DigestQOP(rawValue: s(c, "qop"))
            XCTAssertEqual(DigestAuth.ha1(hash: alg.hash, username: s(c, "username"), realm: s(c, "realm"), password: password), s(c, "ha1"))
            XCTAssertEqual(DigestAuth.ha2(hash: alg.hash, method: s(c, "method"), uri: s(c, "uri"), qop: qop), s(c, "ha2"))
            let r = try DigestAuth.response(algorithm: alg, username: s(c, "username"), realm: s(c, "realm"), password: password,
                                            method: s(c, "method"), uri: s(c, "uri"), nonce: s(c, "nonce"),
                                            nc: s(c, "nc"), cnonce: s(c, "cnonce"), qop: qop)
            XCTAssertEqual(r, s(c, "response"), s(c, "name"))
        }
    }

    /// No qop (RFC 2069 form): the RFC 2617 §3.5 inputs with password "CircleOfLife", the
    /// corrected RFC 2069 example value (the RFC's printed e966c932... is a known erratum).
    func testNoQOP() throws {
        let r = try DigestAuth.response(hash: .md5, username: "Mufasa", realm: "testrealm@host.com",
                                        password: Array("CircleOfLife".utf8), method: "GET", uri: "/dir/index.html",
                                        nonce: "dcd98b7102dd2f0e8b11d0f600bfb0c093")
        XCTAssertEqual(r, "1949323746fe6a43ef61f9606e7febea")
    }

    /// auth-int and -sess; expected values from Python hashlib over the RFC 2617 formulas.
    func testAuthIntAndSess() throws {
        let body = Array("v=0\r\no=- 0 0 IN IP4 198.51.100.1\r\n".utf8)
        XCTAssertEqual(try DigestAuth.response(hash: .sha256, username: "alice", realm: "example.org", password: Array("secret".utf8),
                                               method: "INVITE", uri: "sip:bob@example.org", nonce: "abc123", nc: "00000002",
                                               cnonce: "xyz", qop: .authInt, entityBody: body),
                       "b7b16cbb9a87ad1c13274675a0e5622360342cbe9b9818d19711219e7daa57a7")
        XCTAssertEqual(try DigestAuth.response(algorithm: .md5Sess, username: "alice", realm: "example.org", password: Array("secret".utf8),
                                               method: "REGISTER", uri: "sip:example.org", nonce: "abc123", nc: "00000001",
                                               cnonce: "xyz", qop: .auth),
                       "c4a9a6f8456debc91c37a73e9b92aace")
        XCTAssertThrowsError(try DigestAuth.response(hash: .md5, username: "a", realm: "r", password: [], method: "GET",
                                                     uri: "/", nonce: "n", qop: .auth))
    }

    func testNonceErrorsAndServerData() throws {
        let rand = [UInt8](repeating: 1, count: 16), autn = [UInt8](repeating: 2, count: 16)
        let n = try DigestAKA.nonce(rand: rand, autn: autn, serverData: [9, 9, 9])
        XCTAssertEqual(try DigestAKA.parseNonce(n).serverData, [9, 9, 9])
        XCTAssertThrowsError(try DigestAKA.parseNonce("not base64!"))
        XCTAssertThrowsError(try DigestAKA.parseNonce(Base64.encode([1, 2, 3])))
        XCTAssertThrowsError(try DigestAKA.nonce(rand: [1], autn: autn))
        XCTAssertNil(DigestAKA.password(algorithm: .md5, res: [], ik: [], ck: []))
        XCTAssertEqual(DigestAlgorithmName(token: "akav1-md5"), .akav1MD5)
        XCTAssertNil(DigestAlgorithmName(token: "AKAv3-MD5"))
    }

    func testBase64() {
        for (raw, enc) in [("", ""), ("f", "Zg=="), ("fo", "Zm8="), ("foo", "Zm9v"), ("foobar", "Zm9vYmFy")] {
            XCTAssertEqual(Base64.encode(Array(raw.utf8)), enc)
            XCTAssertEqual(Base64.decode(enc), Array(raw.utf8))
        }
        XCTAssertNil(Base64.decode("Zg=a"))
        XCTAssertNil(Base64.decode("Z"))
        XCTAssertNil(Base64.decode("Zg==="))
    }
}
