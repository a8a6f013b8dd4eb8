import AKA
import Crypto
import IKEv2
import XCTest
@testable import AAA

/// A scripted EAP-AKA/AKA' peer over a software USIM, for sans-I/O tests of the server.
/// It checks the server's AT_MAC on every challenge before answering.
struct TestPeer {
    var usim: USIM
    var identity: String
    /// Set by the last challenge: the keys the peer derived.
    var msk: [UInt8]?
    var kAut: [UInt8]?
    var macFailures = 0
    /// Tamper switches.
    var corruptRES = false
    var corruptMAC = false

    static func eapIdentity(_ id: UInt8, _ text: String) -> [UInt8] {
        EAPPacket(code: .response, identifier: id, type: EAPType.identity, typeData: Array(text.utf8)).serialize()
    }

    /// The Response to an EAP-Request of the AKA family.
    mutating func respond(to request: [UInt8], file: StaticString = #filePath, line: UInt = #line) throws -> [UInt8] {
        let p = try EAPPacket(parsing: request)
        XCTAssertEqual(p.code, .request, file: file, line: line)
        let type = try XCTUnwrap(p.type)
        let method = try XCTUnwrap(EAPAKAMethod(eapType: type), "request type \(type)", file: file, line: line)
        let msg = try EAPAKAMessage(parsing: p.typeData)
        switch msg.subtype {
        case .identity:
            return EAPAKAMessage(subtype: .identity, attributes: [.AT_IDENTITY(Array(identity.utf8))])
                .packet(code: .response, identifier: p.identifier, method: type)
        case .notification:
            return EAPAKAMessage(subtype: .notification, attributes: [])
                .packet(code: .response, identifier: p.identifier, method: type)
        case .challenge:
            let rand = try XCTUnwrap(msg.rand), autn = try XCTUnwrap(msg.autn)
            switch try usim.authenticate(rand: rand, autn: autn) {
            case .macFailure:
                macFailures += 1
                return EAPAKAMessage(subtype: .authenticationReject, attributes: [])
                    .packet(code: .response, identifier: p.identifier, method: type)
            case let .syncFailure(auts):
                return EAPAKAMessage(subtype: .synchronizationFailure, attributes: [.AT_AUTS(auts)])
                    .packet(code: .response, identifier: p.identifier, method: type)
            case let .success(res, ck, ik):
                let mac: ([UInt8]) -> [UInt8]
                let macOK: Bool
                let offset = try XCTUnwrap(EAPAKAServer.macValueOffset(inEAPPacket: request))
                if method == .aka {
                    let k = try EAPAKAKeys.derive(identity: identity, ik: ik, ck: ck)
                    msk = k.msk; kAut = k.kAut
                    macOK = EAPAKAKeys.verifyATMAC(kAut: k.kAut, packet: request, macOffset: offset)
                    mac = { EAPAKAKeys.atMAC(kAut: k.kAut, packet: $0) }
                } else {
                    XCTAssertEqual(msg.kdfs, [1], file: file, line: line)
                    let name = String(decoding: try XCTUnwrap(msg.kdfInput), as: UTF8.self)
                    let k = try EAPAKAPrimeKeys.derive(identity: identity, ck: ck, ik: ik, accessNetworkName: name, autn: autn)
                    msk = k.msk; kAut = k.kAut
                    macOK = EAPAKAPrimeKeys.verifyATMAC(kAut: k.kAut, packet: request, macOffset: offset)
                    mac = { EAPAKAPrimeKeys.atMAC(kAut: k.kAut, packet: $0) }
                }
                XCTAssertTrue(macOK, "server AT_MAC does not verify at the peer", file: file, line: line)
                var r = res
                if corruptRES { r[0] ^= 0xff }
                var out = EAPAKAMessage(subtype: .challenge, attributes: [.AT_RES(res: r, bits: UInt16(r.count * 8)),
                                                                          .AT_MAC([UInt8](repeating: 0, count: 16))])
                    .packet(code: .response, identifier: p.identifier, method: type, mac: mac)
                if corruptMAC { out[out.count - 1] ^= 0x01 }
                return out
            }
        default:
            XCTFail("unexpected request subtype \(msg.subtype)", file: file, line: line)
            return []
        }
    }
}
