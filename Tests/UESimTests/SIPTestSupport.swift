import XCTest
import SIP
import AKA
import TestSupport
@testable import UESim

/// Scripted network side for the user agent tests: builds responses byte for byte from the
/// request the UA sent, the way a P-CSCF/S-CSCF would.
enum Net {
    static let domain = "ims.mnc001.mcc001.3gppnetwork.org"
    static let impi = "001010000000001@" + domain
    static let pcscf = SIPPeer(address: "198.51.100.10", port: 5060, transport: .udp)

    static func config(preconditions: Bool = true, password: String? = nil) -> SIPUAConfig {
        var c = SIPUAConfig.derived(imsi: "001010000000001", mcc: "001", mnc: "01", localAddress: "198.18.0.2", pcscf: pcscf)
        c.preconditions = preconditions
        c.password = password
        c.idSeed = 42
        return c
    }

    /// Test set `n` of TS 35.208 as a Milenage algorithm.
    static func milenageSet(_ n: Int) throws -> (alg: AuthenticationAlgorithm, c: [String: Any]) {
        let all = try XCTUnwrap((try Vectors.json("milenage_ts35208.json") as? [String: Any])?["cases"] as? [[String: Any]])
        let c = try XCTUnwrap(all.first { ($0["test_set"] as? Int) == n })
        let m = try Milenage(k: Vectors.bytes(c["k"] as! String), op: Vectors.bytes(c["op"] as! String))
        return (.milenage(m), c)
    }

    static func akaExample(_ name: String) throws -> [String: Any] {
        let all = try XCTUnwrap((try Vectors.json("http_digest_aka.json") as? [String: Any])?["derived_aka_examples"] as? [[String: Any]])
        return try XCTUnwrap(all.first { ($0["name"] as? String)?.hasPrefix(name) == true })
    }

    /// A response to `req` as text: Via/From/Call-ID/CSeq copied, To with `toTag`, extra lines, body.
    static func response(_ status: String, to req: SIPMessage, toTag: String? = "net1", extra: [String] = [], body: String = "") -> [UInt8] {
        var s = "SIP/2.0 \(status)\r\n"
        for v in req.headerLines("Via") { s += "Via: \(v);received=198.18.0.2\r\n" }
        s += "From: \(req.header("From")!)\r\n"
        let to = req.header("To")!
        s += "To: \(to)" + ((toTag != nil && !to.contains("tag=")) ? ";tag=\(toTag!)" : "") + "\r\n"
        s += "Call-ID: \(req.header("Call-ID")!)\r\nCSeq: \(req.header("CSeq")!)\r\n"
        for e in extra { s += e + "\r\n" }
        if !body.isEmpty { s += "Content-Type: application/sdp\r\n" }
        s += "Content-Length: \(body.utf8.count)\r\n\r\n" + body
        return Array(s.utf8)
    }

    static func sent(_ out: [SIPUAOutput]) -> [SIPMessage] {
        out.compactMap { if case let .send(m, _) = $0 { m } else { nil } }
    }
    static func events(_ out: [SIPUAOutput]) -> [SIPUAEvent] {
        out.compactMap { if case let .event(e) = $0 { e } else { nil } }
    }
}
