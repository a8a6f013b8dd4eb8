import XCTest
import AKA
import Crypto
import Wire
@testable import IKEv2

/// CP(CFG_REQUEST) and traffic selectors as other phones send them (RFC 7296 §2.9, §3.13,
/// §3.15; peers survey §10 for the private P-CSCF types).
final class ConformanceConfigTests: XCTestCase {
    typealias H = AttachHarness
    typealias A = CPPayload.Attribute

    /// Attaches with the phone's first IKE_AUTH edited; returns the ePDG's last IKE_AUTH
    /// response (decrypted) and the Child SA it installed.
    func attach(pool: InnerAddressPool? = nil, _ edit: @escaping (inout [Payload]) -> Void) throws -> (final: [Payload], child: ChildSADescription, h: H) {
        let h = try H()
        if let pool { h.epdg = IKEResponder(policy: h.policy, vectors: h.hss, pool: pool) }
        try h.makeUE()
        _ = try h.firstAuth(edit)
        h.run(start: false)
        let final = try XCTUnwrap(H.sends(h.epdgActions).last)
        let payloads = try XCTUnwrap(h.ue.protection).unprotect(raw: final, message: IKEMessage(parsing: final))
        let child = try XCTUnwrap(H.children(h.epdgActions).first, "\(H.logs(h.epdgActions))")
        return (payloads, child, h)
    }

    static let anyPort4 = TrafficSelector.anyV4, anyPort6 = TrafficSelector.anyV6

    /// Wildcard TSi/TSr of both families with an IPv4-only CP: TSi narrows to the assigned
    /// address, TSr to the IPv4 wildcard (§2.9).
    func testWildcardSelectorsNarrowedToIPv4() throws {
        let r = try attach { p in
            p.replace(.TSi, with: [.tsi(TSPayload([Self.anyPort4, Self.anyPort6]))])
            p.replace(.TSr, with: [.tsr(TSPayload([Self.anyPort6, Self.anyPort4]))])
            p.replace(.CP, with: [.cp(CPPayload(cfgType: CPPayload.CFG_REQUEST, attributes: [A(A.INTERNAL_IP4_ADDRESS), A(A.P_CSCF_IP4_ADDRESS)]))])
        }
        let v4 = try XCTUnwrap(r.child.innerIPv4)
        XCTAssertNil(r.child.innerIPv6)
        XCTAssertEqual(r.final.tsi?.selectors, [.single(v4)])
        XCTAssertEqual(r.final.tsr?.selectors, [Self.anyPort4])
        XCTAssertEqual(r.final.cp?.values(A.INTERNAL_IP4_ADDRESS), [v4.bytes])
    }

    /// A phone asking only IPv6 (CP and selectors): TSi narrows to its /64, TSr stays IPv6.
    func testIPv6OnlyPhone() throws {
        let r = try attach { p in
            p.replace(.TSi, with: [.tsi(TSPayload([Self.anyPort6]))])
            p.replace(.TSr, with: [.tsr(TSPayload([Self.anyPort6]))])
            p.replace(.CP, with: [.cp(CPPayload(cfgType: CPPayload.CFG_REQUEST, attributes: [A(A.INTERNAL_IP6_ADDRESS, [UInt8](repeating: 0, count: 17)),
                                                                                            A(A.P_CSCF_IP6_ADDRESS)]))])
        }
        let v6 = try XCTUnwrap(r.child.innerIPv6)
        XCTAssertNil(r.child.innerIPv4)
        XCTAssertEqual(r.final.tsi?.selectors, [prefixRange(v6, 64)])
        XCTAssertEqual(r.final.tsr?.selectors, [Self.anyPort6])
        XCTAssertEqual(r.final.cp?.values(A.INTERNAL_IP6_ADDRESS), [v6.bytes + [64]])
        XCTAssertEqual(r.final.cp?.values(A.P_CSCF_IP6_ADDRESS), [IPAddress("2001:db8::5")!.bytes])
    }

    /// TS 24.302 §8.1.2.3: a phone asking for both families on a PDN that gives one is told
    /// which (PDN_TYPE_IPv4_ONLY_ALLOWED / PDN_TYPE_IPv6_ONLY_ALLOWED, no data); asking for one
    /// family, or given both, it is told nothing.
    func testSingleFamilyPDNIsAnnounced() throws {
        let both = [A(A.INTERNAL_IP4_ADDRESS), A(A.INTERNAL_IP6_ADDRESS, []), A(A.P_CSCF_IP4_ADDRESS)]
        let cases: [(FamilyPool?, [A], NotifyType?)] = [
            (FamilyPool(ipv4: true), both, .PDN_TYPE_IPv4_ONLY_ALLOWED),
            (FamilyPool(ipv4: false), both, .PDN_TYPE_IPv6_ONLY_ALLOWED),
            (nil, both, nil),
            (FamilyPool(ipv4: true), [A(A.INTERNAL_IP4_ADDRESS)], nil),
        ]
        for (pool, attrs, expected) in cases {
            let r = try attach(pool: pool) { p in
                p.replace(.TSi, with: [.tsi(TSPayload([Self.anyPort4, Self.anyPort6]))])
                p.replace(.TSr, with: [.tsr(TSPayload([Self.anyPort4, Self.anyPort6]))])
                p.replace(.CP, with: [.cp(CPPayload(cfgType: CPPayload.CFG_REQUEST, attributes: attrs))])
            }
            let got = [NotifyType.PDN_TYPE_IPv4_ONLY_ALLOWED, .PDN_TYPE_IPv6_ONLY_ALLOWED].filter { r.final.has($0) }
            XCTAssertEqual(got, expected.map { [$0] } ?? [], "pool \(String(describing: pool?.ipv4)) asked \(attrs.map(\.type))")
            if let e = expected {
                XCTAssertEqual(r.final.notify(e)?.data, [])
                let only = e == .PDN_TYPE_IPv4_ONLY_ALLOWED ? "IPv4" : "IPv6"
                XCTAssertTrue(H.logs(r.h.epdgActions).contains { $0.contains("the PDN gives only \(only)") }, "\(H.logs(r.h.epdgActions))")
            }
        }
    }

    /// A TSr narrower than the wildcard (SIP to the P-CSCF only) is kept as asked.
    func testNarrowTSrIsKept() throws {
        let sip = TrafficSelector(ipProtocol: 17, startPort: 5060, endPort: 5060, startAddress: IPAddress("198.51.100.1")!, endAddress: IPAddress("198.51.100.1")!)
        let r = try attach { p in p.replace(.TSr, with: [.tsr(TSPayload([sip]))]) }
        XCTAssertEqual(r.final.tsr?.selectors, [sip])
        XCTAssertEqual(r.child.localTS, [sip])
    }

    /// A CFG_REQUEST with a requested IPv4 address, the 17-octet IPv6 form, zero-length and
    /// duplicate attributes, unknown types and all four private P-CSCF types: one address of
    /// each family, each DNS server once, P-CSCF answered in the type asked, nothing unknown.
    func testOddConfigurationRequest() throws {
        let r = try attach { p in
            p.replace(.TSi, with: [.tsi(TSPayload([Self.anyPort4, Self.anyPort6]))])
            p.replace(.TSr, with: [.tsr(TSPayload([Self.anyPort4, Self.anyPort6]))])
            p.replace(.CP, with: [.cp(CPPayload(cfgType: CPPayload.CFG_REQUEST, attributes: [
                A(A.INTERNAL_IP4_ADDRESS, [198, 51, 100, 200]), A(A.INTERNAL_IP6_ADDRESS, IPAddress("2001:db8:0:99::1")!.bytes + [64]),
                A(A.INTERNAL_IP4_DNS), A(A.INTERNAL_IP4_DNS), A(A.INTERNAL_IP6_DNS, []),
                A(16384), A(16386), A(16389), A(16390), A(12345, [1, 2, 3]), A(30000), A(A.APPLICATION_VERSION, Array("x".utf8)),
            ]))])
        }
        let cp = try XCTUnwrap(r.final.cp)
        XCTAssertEqual(cp.cfgType, CPPayload.CFG_REPLY)
        XCTAssertEqual(cp.values(A.INTERNAL_IP4_ADDRESS).count, 1)
        XCTAssertEqual(cp.values(A.INTERNAL_IP6_ADDRESS).map(\.count), [17])
        XCTAssertEqual(cp.values(A.INTERNAL_IP4_DNS), [[198, 51, 100, 53]])
        XCTAssertEqual(cp.values(A.INTERNAL_IP6_DNS), [IPAddress("2001:db8::53")!.bytes])
        for t: UInt16 in [16384, 16389] { XCTAssertEqual(cp.values(t), [[198, 51, 100, 1]], "\(t)") }
        for t: UInt16 in [16386, 16390] { XCTAssertEqual(cp.values(t), [IPAddress("2001:db8::5")!.bytes], "\(t)") }
        XCTAssertTrue(cp.values(12345).isEmpty && cp.values(30000).isEmpty && cp.values(A.APPLICATION_VERSION).isEmpty)
        XCTAssertNotNil(r.child.innerIPv4)
        XCTAssertNotNil(r.child.innerIPv6)
    }

    /// A non-empty INTERNAL_IP4_ADDRESS is a wish (RFC 7296 §3.15.1): given when free, otherwise
    /// another address, with a log line.
    func testRequestedIPv4Address() throws {
        let pool = RequestingPool()
        pool.taken = [IPAddress(v4: 198, 51, 100, 200)]
        for (want, expect) in [(IPAddress(v4: 198, 51, 100, 201), IPAddress(v4: 198, 51, 100, 201)),
                               (IPAddress(v4: 198, 51, 100, 200), IPAddress(v4: 198, 51, 100, 2))] {
            let r = try attach(pool: pool) { p in
                p.replace(.CP, with: [.cp(CPPayload(cfgType: CPPayload.CFG_REQUEST, attributes: [A(A.INTERNAL_IP4_ADDRESS, want.bytes)]))])
            }
            XCTAssertEqual(r.final.cp?.values(A.INTERNAL_IP4_ADDRESS), [expect.bytes])
            XCTAssertEqual(r.child.innerIPv4, expect)
            XCTAssertEqual(H.logs(r.h.epdgActions).contains("phone asked for INTERNAL_IP4_ADDRESS \(want), not free: gave \(expect)"), want != expect)
        }
    }

    /// §2.9: TSi split by protocol (UDP and TCP selectors) keeps both after narrowing to the
    /// assigned address (only the first survived before: SIP over TCP had no selector).
    func testTSiPerProtocolKeepsEverySelector() throws {
        let udp = TrafficSelector(ipProtocol: 17, startAddress: .anyV4, endAddress: .broadcastV4)
        let tcp = TrafficSelector(ipProtocol: 6, startAddress: .anyV4, endAddress: .broadcastV4)
        let r = try attach { p in
            p.replace(.TSi, with: [.tsi(TSPayload([udp, tcp, udp]))])
            p.replace(.TSr, with: [.tsr(TSPayload([udp, tcp]))])
        }
        let v4 = try XCTUnwrap(r.child.innerIPv4)
        XCTAssertEqual(r.final.tsi?.selectors, [TrafficSelector(ipProtocol: 17, startAddress: v4, endAddress: v4),
                                                TrafficSelector(ipProtocol: 6, startAddress: v4, endAddress: v4)])
        XCTAssertEqual(r.child.remoteTS.map(\.ipProtocol), [17, 6])
    }
}

/// A PDN of one family: every allocation gives only IPv4 or only IPv6, whatever was asked.
final class FamilyPool: InnerAddressPool {
    let ipv4: Bool
    init(ipv4: Bool) { self.ipv4 = ipv4 }
    func allocate(imsi: String, apn: String, wantIPv4: Bool, wantIPv6: Bool) throws -> InnerAddresses {
        ipv4 ? InnerAddresses(ipv4: IPAddress(v4: 198, 51, 100, 9), ipv6: nil)
             : InnerAddresses(ipv4: nil, ipv6: IPAddress("2001:db8:0:9::1"), ipv6PrefixLength: 64)
    }
    func release(_ addresses: InnerAddresses, imsi: String, apn: String) {}
}
