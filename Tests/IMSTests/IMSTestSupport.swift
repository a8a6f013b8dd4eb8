import XCTest
import AKA
import SIP
@testable import IMS

let domain = "ims.mnc001.mcc001.3gppnetwork.org"
let pcscf6 = "2001:db8:3000:1::1"
let k1 = "465b5ce8b199b49faa5f0a2ee238a6bc"    // TS 35.208 test set 1
let opc1 = "cd63cb71954a9f4e48a5994e37a02baf"

func hexBytes(_ s: String) -> [UInt8] {
    var out: [UInt8] = []
    var it = s.makeIterator()
    while let a = it.next(), let b = it.next() { out.append(UInt8(String([a, b]), radix: 16)!) }
    return out
}

func milenage() -> AuthenticationAlgorithm { .milenage(try! Milenage(k: hexBytes(k1), opc: hexBytes(opc1))) }

/// Sent SIP messages in the actions, parsed, with their destinations.
func sent(_ actions: [IMSAction]) -> [(SIPMessage, SIPPeer)] {
    actions.compactMap { a in
        if case .send(let b, let p) = a { return (try! SIPMessage(parsing: b, validate: false), p) }
        return nil
    }
}

func events(_ actions: [IMSAction]) -> [IMSEvent] {
    actions.compactMap { if case .event(let e) = $0 { return e }; return nil }
}

/// A phone as the tests drive it: builds requests the way IMS phones write them and answers
/// challenges with its USIM (Milenage from the AKA layer) or its password.
final class TestUE {
    let imsi: String
    let impi: String
    let impu: String
    let peer: SIPPeer
    var usim: USIM?
    var password: String?
    var cseq: UInt32 = 0
    let callID: String
    let tag: String
    var hostPort: String { (peer.address.contains(":") ? "[\(peer.address)]" : peer.address) + ":\(peer.port)" }
    var contactURI: String { "sip:\(imsi)@\(hostPort)" }

    init(imsi: String, address: String, impi: String? = nil, impu: String? = nil, usim: USIM? = nil, password: String? = nil, transport: SIPTransport = .udp) {
        self.imsi = imsi
        self.impi = impi ?? "\(imsi)@\(domain)"
        self.impu = impu ?? "sip:\(imsi)@\(domain)"
        self.peer = SIPPeer(address: address, port: 5060, transport: transport)
        self.usim = usim
        self.password = password
        self.callID = "reg-\(imsi)@\(address)"
        self.tag = "t\(imsi.suffix(4))"
    }

    func via(_ branch: String) -> String { "SIP/2.0/\(peer.transport.rawValue) \(hostPort);branch=\(branch);rport" }

    func register(expires: UInt32 = 600000, authorization: String? = nil, contactParams: String = "") -> [UInt8] {
        cseq += 1
        var lines = [
            "REGISTER sip:\(domain) SIP/2.0",
            "Via: \(via("z9hG4bKreg\(imsi.suffix(3))\(cseq)"))",
            "Max-Forwards: 70",
            "From: <\(impu)>;tag=\(tag)",
            "To: <\(impu)>",
            "Call-ID: \(callID)",
            "CSeq: \(cseq) REGISTER",
            "Contact: <\(contactURI)>;+sip.instance=\"<urn:gsma:imei:35902707-293054-0>\";+g.3gpp.icsi-ref=\"urn%3Aurn-7%3A3gpp-service.ims.icsi.mmtel\"\(contactParams)",
            "Expires: \(expires)",
            "Supported: path,sec-agree",
            "Allow: INVITE,ACK,OPTIONS,CANCEL,BYE,UPDATE,INFO,REFER,NOTIFY,MESSAGE,PRACK",
            "P-Access-Network-Info: IEEE-802.11;i-wlan-node-id=ffffffffffff",
        ]
        lines.append("Authorization: " + (authorization ?? "Digest uri=\"sip:\(domain)\",username=\"\(impi)\",response=\"\",realm=\"\(domain)\",nonce=\"\""))
        lines.append("Content-Length: 0")
        return Array((lines.joined(separator: "\r\n") + "\r\n\r\n").utf8)
    }

    /// A reg-event SUBSCRIBE (TS 24.229 §5.1.1.3) for its own public identity; `extra` header
    /// lines go before Contact.
    func subscribeRegEvent(branch: String, tag: String, callID: String, extra: [String] = []) -> [UInt8] {
        let lines = [
            "SUBSCRIBE \(impu) SIP/2.0", "Via: \(via(branch))", "Max-Forwards: 70", "From: <\(impu)>;tag=\(tag)", "To: <\(impu)>",
            "Call-ID: \(callID)", "CSeq: 1 SUBSCRIBE", "Event: reg", "Expires: 600000",
        ] + extra + ["Contact: <\(contactURI)>", "Content-Length: 0", "", ""]
        return Array(lines.joined(separator: "\r\n").utf8)
    }

    enum Answer { case response(String), auts([UInt8]) }

    /// Authorization for a 401: AKA through the USIM (RES, or AUTS on sync failure), or MD5.
    func answer(_ challenge: SIPMessage, cnonce: String = "0a4f113b", overridePassword: [UInt8]? = nil) throws -> (String, Answer) {
        let wa = try SIPAuthHeader(parsing: Substring(XCTUnwrap(challenge.header("WWW-Authenticate"))), header: "WWW-Authenticate")
        let realm = try XCTUnwrap(wa["realm"]), nonce = try XCTUnwrap(wa["nonce"])
        let alg = try XCTUnwrap(DigestAlgorithmName(token: XCTUnwrap(wa["algorithm"])))
        var password: [UInt8]
        var auts: [UInt8]? = nil
        if alg.akaVersion != nil {
            let (rand, autn, _) = try DigestAKA.parseNonce(nonce)
            var u = try XCTUnwrap(usim)
            let result = try u.authenticate(rand: rand, autn: autn)
            usim = u
            switch result {
            case .success(let res, let ck, let ik): password = DigestAKA.password(algorithm: alg, res: res, ik: ik, ck: ck)!
            case .syncFailure(let a): auts = a; password = []
            case .macFailure: throw AKAError.invalidParameter("MAC failure")
            }
        } else {
            password = Array(try XCTUnwrap(self.password).utf8)
        }
        if let o = overridePassword { password = o }
        let uri = "sip:\(domain)"
        let response = try DigestAuth.response(algorithm: alg, username: impi, realm: realm, password: password, method: "REGISTER",
                                               uri: uri, nonce: nonce, nc: "00000001", cnonce: cnonce, qop: .auth)
        var h = "Digest username=\"\(impi)\",realm=\"\(realm)\",nonce=\"\(nonce)\",uri=\"\(uri)\",response=\"\(response)\",algorithm=\(alg.rawValue),cnonce=\"\(cnonce)\",qop=auth,nc=00000001"
        if let a = auts { h += ",auts=\"\(Base64.encode(a))\"" }
        return (h, auts.map { .auts($0) } ?? .response(response))
    }
}

/// Builds the IMS under test with five subscribers; `configure` changes its config first.
func makeIMS(precondition: IMSPreconditionMode = .on, configure: (inout IMSConfig) -> Void = { _ in }) -> (IMSCore, IMSMemorySubscribers) {
    let subs = IMSMemorySubscribers(domain: domain)
    for i in 1...5 where i != 3 {
        let imsi = "00101000000000\(i)"
        let type: IMSAuthType = i == 4 ? .akav2 : .akav1
        subs.add(.init(subscriber: IMSSubscriber(impi: "\(imsi)@\(domain)", impus: [imsi, "tel:060000000\(i)"], authentType: type),
                       algorithm: milenage()))
    }
    subs.add(.init(subscriber: IMSSubscriber(impi: "username", impus: ["tel:1234", "sip:user"], authentType: .md5, pwd: "amarisoft"),
                   algorithm: nil))
    var config = IMSConfig(domain: domain, sipAddresses: ["198.51.100.1", pcscf6], precondition: precondition,
                           timers: SIPTimerValues(t1: 0.5, t2: 4, t4: 5))
    configure(&config)
    return (IMSCore(config: config, subscribers: subs), subs)
}

/// Subscriber `i` of `makeIMS` (AKAv1 with Milenage test set 1) at 2001:db8:3000:1::(i+1).
func ue(_ i: Int) -> TestUE {
    TestUE(imsi: "00101000000000\(i)", address: "2001:db8:3000:1::\(i + 1)", usim: try! USIM(algorithm: milenage()))
}

/// The IMS of `makeIMS` with phones 1 and 2 registered.
func makeIMSWithTwoPhones(configure: (inout IMSConfig) -> Void = { _ in }) throws -> (IMSCore, TestUE, TestUE) {
    let (ims, _) = makeIMS(configure: configure)
    let a = ue(1), b = ue(2)
    try registerUE(ims, a)
    try registerUE(ims, b)
    return (ims, a, b)
}

/// Registers `ue` through the 401 challenge; returns the 200 OK.
@discardableResult
func registerUE(_ ims: IMSCore, _ ue: TestUE, now: Double = 0, expires: UInt32 = 600000) throws -> SIPMessage {
    let c = sent(ims.receive(datagram: ue.register(expires: expires), from: ue.peer, now: now))
    XCTAssertEqual(c.first?.0.statusCode, 401)
    let (auth, _) = try ue.answer(c[0].0)
    let ok = sent(ims.receive(datagram: ue.register(expires: expires, authorization: auth), from: ue.peer, now: now + 0.1))
    XCTAssertEqual(ok.first?.0.statusCode, 200)
    return ok[0].0
}
