import AKA
import Crypto
import IMS
import SIP

/// The IMS core (sans-I/O IMSCore, built as Tests/IMSTests/IMSTestSupport builds it) fed
/// attacker SIP. Input: a mode byte, then messages separated by NUL bytes. Mode bit 0: phone 1
/// registers for real first (AKA through its USIM), so the messages meet a registration,
/// calls can be set up and dialogs exist. Bit 1: the messages arrive on TCP streams (framed)
/// instead of as datagrams. Messages alternate between phone 1 and phone 2; time advances
/// and the timers run between them.
let imsCoreHarness = Harness(name: "ims-core", summary: "IMSCore fed SIP datagrams/streams, with or without a registration") { data in
    guard let mode = data.first else { return }
    let ims = FuzzIMS.make()
    var now = 10.0
    if mode & 1 != 0 { guard FuzzIMS.register(ims, now: now) else { fatalError("phone 1 could not register") } }
    let stream = mode & 2 != 0
    let peers = [FuzzIMS.peer(1, stream), FuzzIMS.peer(2, stream)]
    for (i, message) in data.dropFirst().split(separator: 0, omittingEmptySubsequences: false).prefix(16).enumerated() {
        now += 1
        let from = peers[i % 2]
        _ = stream ? ims.receive(stream: Array(message), from: from, now: now) : ims.receive(datagram: Array(message), from: from, now: now)
        _ = ims.tick(now: now + 0.5)
    }
    // Retransmissions, transaction and registration expiry, session timers.
    for t in [now + 40, now + 4000, now + 700_000] { _ = ims.tick(now: t) }
}

enum FuzzIMS {
    static let domain = "ims.mnc001.mcc001.3gppnetwork.org"
    static let k = [UInt8](hex: "465b5ce8b199b49faa5f0a2ee238a6bc")
    static let opc = [UInt8](hex: "cd63cb71954a9f4e48a5994e37a02baf")

    static func imsi(_ i: Int) -> String { "00101000000000\(i)" }

    static func peer(_ i: Int, _ tcp: Bool) -> SIPPeer {
        SIPPeer(address: "198.51.100.\(10 + i)", port: 5060, transport: tcp ? .tcp : .udp)
    }

    /// Five subscribers as makeIMS has them: AKAv1, AKAv2 (4), one MD5 user.
    static func make() -> IMSCore {
        let subs = IMSMemorySubscribers(domain: domain)
        let alg = AuthenticationAlgorithm.milenage(try! Milenage(k: k, opc: opc))
        for i in 1...5 where i != 3 {
            subs.add(.init(subscriber: IMSSubscriber(impi: "\(imsi(i))@\(domain)", impus: [imsi(i), "tel:060000000\(i)"],
                                                     authentType: i == 4 ? .akav2 : .akav1), algorithm: alg))
        }
        subs.add(.init(subscriber: IMSSubscriber(impi: "username", impus: ["tel:1234", "sip:user"], authentType: .md5, pwd: "amarisoft"),
                       algorithm: nil))
        let config = IMSConfig(domain: domain, sipAddresses: ["198.51.100.1", "2001:db8:3000:1::1"],
                               timers: SIPTimerValues(t1: 0.5, t2: 4, t4: 5))
        return IMSCore(config: config, subscribers: subs)
    }

    static func register(_ ims: IMSCore, now: Double) -> Bool {
        let p = peer(1, false), impi = "\(imsi(1))@\(domain)", impu = "sip:\(imsi(1))@\(domain)"
        func request(_ cseq: Int, _ authorization: String) -> [UInt8] {
            Array(([
                "REGISTER sip:\(domain) SIP/2.0",
                "Via: SIP/2.0/UDP \(p.address):5060;branch=z9hG4bKreg\(cseq);rport",
                "Max-Forwards: 70", "From: <\(impu)>;tag=t0001", "To: <\(impu)>", "Call-ID: reg-1@\(p.address)",
                "CSeq: \(cseq) REGISTER", "Contact: <sip:\(imsi(1))@\(p.address):5060>;+sip.instance=\"<urn:gsma:imei:35902707-293054-0>\"",
                "Expires: 600000", "Supported: path,sec-agree", "Authorization: \(authorization)", "Content-Length: 0",
            ].joined(separator: "\r\n") + "\r\n\r\n").utf8)
        }
        let first = "Digest uri=\"sip:\(domain)\",username=\"\(impi)\",response=\"\",realm=\"\(domain)\",nonce=\"\""
        guard let challenge = sent(ims.receive(datagram: request(1, first), from: p, now: now)).first,
              let wa = try? challenge.authorization("WWW-Authenticate"), let realm = wa["realm"], let nonce = wa["nonce"],
              let (rand, autn, _) = try? DigestAKA.parseNonce(nonce),
              var usim = try? USIM(algorithm: .milenage(try Milenage(k: k, opc: opc))),
              case let .success(res, _, _)? = try? usim.authenticate(rand: rand, autn: autn),
              let response = try? DigestAuth.response(algorithm: .akav1MD5, username: impi, realm: realm, password: res, method: "REGISTER",
                                                      uri: "sip:\(domain)", nonce: nonce, nc: "00000001", cnonce: "0a4f113b", qop: .auth)
        else { return false }
        let auth = "Digest username=\"\(impi)\",realm=\"\(realm)\",nonce=\"\(nonce)\",uri=\"sip:\(domain)\",response=\"\(response)\",algorithm=AKAv1-MD5,cnonce=\"0a4f113b\",qop=auth,nc=00000001"
        return sent(ims.receive(datagram: request(2, auth), from: p, now: now + 0.1)).first?.statusCode == 200
    }

    static func sent(_ actions: [IMSAction]) -> [SIPMessage] {
        actions.compactMap { if case let .send(b, _) = $0 { try? SIPMessage(parsing: b, validate: false) } else { nil } }
    }
}
