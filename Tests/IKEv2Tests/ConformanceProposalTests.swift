import XCTest
import AKA
import Crypto
import Wire
@testable import IKEv2

/// IKE_SA_INIT proposals as other phones write them (RFC 7296 §2.7, §3.3): several proposals,
/// key lengths, any transform order, AEAD, unknown transform types, SPI sizes, weak DH groups.
final class ConformanceProposalTests: XCTestCase {
    typealias H = AttachHarness
    static let enc = UInt8(1), prf = UInt8(2), integ = UInt8(3), dh = UInt8(4)

    func chosen(_ r: IKEMessage, file: StaticString = #filePath, line: UInt = #line) throws -> Proposal {
        let p = try XCTUnwrap(r.payloads.sa?.proposals.first, "\(r.payloads)", file: file, line: line)
        XCTAssertEqual(r.payloads.sa?.proposals.count, 1, file: file, line: line)
        return p
    }

    /// Two proposals; the second lists AES-CBC with three key lengths, in an order that is not
    /// ENCR/PRF/INTEG/DH. Our preference (256 first) picks the second, with its number.
    func testSeveralProposalsKeyLengthsAndTransformOrder() throws {
        var p = try H().policy
        p.ikeEncryption = [.ENCR_AES_CBC(keyBits: 256), .ENCR_AES_CBC(keyBits: 128)]
        let h = try H(policy: p)
        let sa = H.rawSA([
            H.rawProposal(1, [(Self.enc, 12, H.keyLength(128)), (Self.prf, 2, []), (Self.integ, 2, []), (Self.dh, 14, [])], last: false),
            H.rawProposal(2, [(Self.dh, 2, []), (Self.integ, 12, []), (Self.enc, 12, H.keyLength(128)), (Self.dh, 14, []), (Self.prf, 5, []),
                              (Self.enc, 12, H.keyLength(192)), (Self.enc, 12, H.keyLength(256)), (Self.integ, 2, [])], last: true),
        ])
        let r = try h.initReply(h.initRequest(sa: sa, group: .modp2048))
        let c = try chosen(r)
        XCTAssertEqual(c.number, 2)
        XCTAssertEqual(c.transforms(.ENCR), [Transform(.ENCR, 12, keyLength: 256)])
        XCTAssertEqual(c.transforms(.PRF).map(\.id), [5])
        XCTAssertEqual(c.transforms(.INTEG).map(\.id), [2], "SHA1-96 ranks first in the default policy")
        XCTAssertEqual(c.transforms(.DH).map(\.id), [14])
        XCTAssertEqual(r.payloads.ke?.dhGroup, 14)
    }

    /// AES-GCM needs no integrity transform (RFC 5282 §8); the answer carries none.
    func testAEADProposalWithoutIntegrity() throws {
        let h = try H()
        let sa = H.rawSA([H.rawProposal(1, [(Self.enc, 20, H.keyLength(256)), (Self.prf, 5, []), (Self.dh, 19, [])], last: true)])
        let c = try chosen(h.initReply(h.initRequest(sa: sa, group: .ecp256)))
        XCTAssertEqual(c.transforms(.ENCR), [Transform(.ENCR, 20, keyLength: 256)])
        XCTAssertTrue(c.transforms(.INTEG).isEmpty)
        XCTAssertEqual(h.epdg.allSAs.first?.suite?.integrity, nil)
    }

    /// §3.3.3: PRF is mandatory in an IKE proposal, also with AEAD; without it nothing is acceptable.
    func testIKEProposalWithoutPRFIsUnacceptable() throws {
        let h = try H()
        let sa = H.rawSA([H.rawProposal(1, [(Self.enc, 20, H.keyLength(256)), (Self.dh, 14, [])], last: true)])
        let r = try h.initReply(h.initRequest(sa: sa, group: .modp2048))
        XCTAssertEqual(r.payloads, [.notify(NotifyPayload(.NO_PROPOSAL_CHOSEN))])
        XCTAssertEqual(h.epdg.count, 0)
    }

    /// §3.3.6: a proposal with a transform type we do not know is unacceptable, not the message;
    /// an unknown transform ID of a known type is just not chosen.
    func testUnknownTransformTypeRejectsOnlyThatProposal() throws {
        let h = try H()
        let sa = H.rawSA([
            H.rawProposal(1, [(Self.enc, 12, H.keyLength(128)), (Self.prf, 2, []), (Self.integ, 2, []), (Self.dh, 14, []), (77, 1, [])], last: false),
            H.rawProposal(2, [(Self.enc, 1024, []), (Self.enc, 12, H.keyLength(256)), (Self.prf, 999, []), (Self.prf, 5, []),
                              (Self.integ, 12, []), (Self.dh, 14, [])], last: true),
        ])
        let c = try chosen(h.initReply(h.initRequest(sa: sa, group: .modp2048)))
        XCTAssertEqual(c.number, 2)
        XCTAssertEqual(c.transforms(.ENCR), [Transform(.ENCR, 12, keyLength: 256)])
    }

    /// §3.3.1: the SPI size of IKE_SA_INIT proposals is 0; a proposal with an SPI is skipped,
    /// and the NO_PROPOSAL_CHOSEN log says why when it was the only one.
    func testIKEProposalWithSPIIsSkipped() throws {
        let h = try H()
        let t: [H.RawTransform] = [(Self.enc, 12, H.keyLength(128)), (Self.prf, 2, []), (Self.integ, 2, []), (Self.dh, 14, [])]
        let sa = H.rawSA([H.rawProposal(1, spi: [1, 2, 3, 4, 5, 6, 7, 8], t, last: false), H.rawProposal(2, t, last: true)])
        XCTAssertEqual(try chosen(h.initReply(h.initRequest(spiI: 1, sa: sa, group: .modp2048))).number, 2)
        let only = try h.initReply(h.initRequest(spiI: 2, sa: H.rawSA([H.rawProposal(1, spi: [1, 2, 3, 4, 5, 6, 7, 8], t, last: true)]), group: .modp2048))
        XCTAssertEqual(only.payloads, [.notify(NotifyPayload(.NO_PROPOSAL_CHOSEN))])
        XCTAssertTrue(H.logs(h.epdgActions).contains { $0.contains("(SPI size 8)") }, "\(H.logs(h.epdgActions))")
    }

    /// Android offers MODP-1024/1536 (peers survey §10). Groups we exclude: with only those,
    /// NO_PROPOSAL_CHOSEN; with an acceptable group in the proposal but a KE of an excluded
    /// one, a stateless INVALID_KE_PAYLOAD naming ours (RFC 7296 §1.2/§3.4).
    func testWeakDHGroupsOfAndroid() throws {
        var p = try H().policy
        p.ikeDHGroups = [.modp2048, .ecp256]
        let h = try H(policy: p)
        let weakOnly = H.rawSA([H.rawProposal(1, [(Self.enc, 12, H.keyLength(128)), (Self.prf, 2, []), (Self.integ, 2, []),
                                                  (Self.dh, 2, []), (Self.dh, 5, [])], last: true)])
        let r1 = try h.initReply(h.initRequest(spiI: 1, sa: weakOnly, group: .modp1024))
        XCTAssertEqual(r1.payloads, [.notify(NotifyPayload(.NO_PROPOSAL_CHOSEN))])
        let mixed = H.rawSA([H.rawProposal(1, [(Self.enc, 12, H.keyLength(128)), (Self.prf, 2, []), (Self.integ, 2, []),
                                               (Self.dh, 2, []), (Self.dh, 5, []), (Self.dh, 14, [])], last: true)])
        let r2 = try h.initReply(h.initRequest(spiI: 2, sa: mixed, group: .modp1024))
        XCTAssertEqual(r2.payloads, [.notify(NotifyPayload(.INVALID_KE_PAYLOAD, data: [0, 14]))])
        XCTAssertEqual(r2.header.spiR, 0)
        XCTAssertEqual(h.epdg.count, 0, "neither answer keeps state")
        XCTAssertNotNil(try h.initReply(h.initRequest(spiI: 3, sa: mixed, group: .modp2048)).payloads.sa)
    }

    /// Android always claims a NAT (a NAT_DETECTION_SOURCE_IP that cannot match) to force UDP
    /// encapsulation; the ePDG then encapsulates although the addresses agree.
    func testFakedNATDetectionForcesEncapsulation() throws {
        let h = try H()
        let sa = H.rawSA([H.rawProposal(1, [(Self.enc, 12, H.keyLength(128)), (Self.prf, 2, []), (Self.integ, 2, []), (Self.dh, 14, [])], last: true)])
        let spiI: UInt64 = 0x1122_3344_5566_7788
        let r = try h.initReply(h.initRequest(spiI: spiI, sa: sa, group: .modp2048, extra: [
            .notify(NotifyPayload(.NAT_DETECTION_SOURCE_IP, data: [UInt8](repeating: 0, count: 20))),
            .notify(NotifyPayload(.NAT_DETECTION_DESTINATION_IP, data: NATDetection.hash(spiI: spiI, spiR: 0, h.epdgEnd))),
        ]))
        XCTAssertNotNil(r.payloads.sa)
        XCTAssertEqual(h.epdg.allSAs.first?.natDetected, true)
        XCTAssertEqual(h.epdg.allSAs.first?.udpEncapsulation, true)
    }
}
