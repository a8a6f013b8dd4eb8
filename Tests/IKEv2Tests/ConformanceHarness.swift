import XCTest
import AKA
import Crypto
import Wire
@testable import IKEv2

/// Hand-built messages of a phone that is not our IKEInitiator: IKE_SA_INIT assembled from raw
/// proposals, and IKE_AUTH / INFORMATIONAL requests protected with the phone's keys.
extension AttachHarness {
    /// One transform as raw bytes: (type, id, attribute bytes).
    typealias RawTransform = (type: UInt8, id: UInt16, attributes: [UInt8])

    static func keyLength(_ bits: UInt16) -> [UInt8] { [0x80, 0x0e, UInt8(bits >> 8), UInt8(bits & 0xff)] }

    /// A proposal substructure written by hand, so any SPI size or transform type can be sent.
    static func rawProposal(_ number: UInt8, protocolID: UInt8 = 1, spi: [UInt8] = [], _ transforms: [RawTransform], last: Bool) -> [UInt8] {
        var body: [UInt8] = [number, protocolID, UInt8(spi.count), UInt8(transforms.count)] + spi
        for (i, t) in transforms.enumerated() {
            let len = 8 + t.attributes.count
            body += [i == transforms.count - 1 ? 0 : 3, 0, UInt8(len >> 8), UInt8(len & 0xff), t.type, 0, UInt8(t.id >> 8), UInt8(t.id & 0xff)] + t.attributes
        }
        let len = 4 + body.count
        return [last ? 0 : 2, 0, UInt8(len >> 8), UInt8(len & 0xff)] + body
    }

    /// An SA payload whose body is the given raw proposals (sent as is).
    static func rawSA(_ proposals: [[UInt8]]) -> Payload { .unknown(type: .SA, critical: false, body: proposals.flatMap { $0 }) }

    /// IKE_SA_INIT request bytes from a phone with SPIi `spiI`.
    func initRequest(spiI: UInt64 = 0x1122_3344_5566_7788, sa: Payload, group: DHGroup, extra: [Payload] = [],
                     major: UInt8 = 2, minor: UInt8 = 0) throws -> [UInt8] {
        let ke = try DHKeyPair(group: group)
        let h = IKEHeader(spiI: spiI, spiR: 0, exchangeType: .IKE_SA_INIT, isInitiator: true, isResponse: false, messageID: 0,
                          majorVersion: major, minorVersion: minor)
        return IKEMessage(header: h, payloads: [sa, .ke(KEPayload(dhGroup: group.rawValue, keyData: ke.publicValue)),
                                                .nonce(SecureRandom.bytes(32))] + extra).serialize()
    }

    /// Sends one datagram from the phone to the ePDG and returns the ePDG's actions.
    func deliver(_ bytes: [UInt8], from: IKEEndpoint? = nil, to: IKEEndpoint? = nil) -> [IKEAction] {
        epdg.handle(datagram: bytes, from: from ?? ueEnd, to: to ?? epdgEnd, now: now)
    }

    /// The single (unprotected) reply of the ePDG to `bytes`.
    func initReply(_ bytes: [UInt8]) throws -> IKEMessage {
        let a = deliver(bytes)
        epdgActions += a
        let out = AttachHarness.sends(a)
        XCTAssertEqual(out.count, 1, "\(AttachHarness.logs(epdgActions))")
        return try IKEMessage(parsing: XCTUnwrap(out.first))
    }

    /// The ePDG SA's protection, which opens what the phone sends.
    var epdgProtection: SKProtection? { epdg.allSAs.first?.protection }

    /// Runs IKE_SA_INIT between our phone and the ePDG and returns the phone's first IKE_AUTH
    /// request (not delivered), decrypted, with the endpoints it travels between.
    func firstAuthOfPhone() throws -> (header: IKEHeader, payloads: [Payload], from: IKEEndpoint, to: IKEEndpoint) {
        route(ue.start(now: now), fromUE: true)
        for m in packetsToEPDG { route(epdg.handle(datagram: m.bytes, from: m.from, to: m.to, now: now), fromUE: false) }
        packetsToEPDG = []
        for m in packetsToUE { route(ue.handle(datagram: m.bytes, from: m.from, to: m.to, now: now), fromUE: true) }
        packetsToUE = []
        let auth = try XCTUnwrap(packetsToEPDG.first)
        packetsToEPDG = []; toEPDG = []; toUE = []
        let m = try IKEMessage(parsing: auth.bytes)
        let payloads = try XCTUnwrap(epdgProtection).unprotect(raw: auth.bytes, message: m)
        return (m.header, payloads, auth.from, auth.to)
    }

    /// Captures the phone's next request to the ePDG after the ePDG's queued replies reach it.
    func nextRequestOfPhone() throws -> (bytes: [UInt8], header: IKEHeader, payloads: [Payload], from: IKEEndpoint, to: IKEEndpoint) {
        for m in packetsToUE { route(ue.handle(datagram: m.bytes, from: m.from, to: m.to, now: now), fromUE: true) }
        packetsToUE = []
        let r = try XCTUnwrap(packetsToEPDG.first)
        packetsToEPDG = []; toEPDG = []; toUE = []
        let m = try IKEMessage(parsing: r.bytes)
        return (r.bytes, m.header, try XCTUnwrap(epdgProtection).unprotect(raw: r.bytes, message: m), r.from, r.to)
    }

    /// Protects `payloads` with the phone's keys under `header` and delivers them; the ePDG's
    /// replies are queued for the phone (so `run(start: false)` continues) and returned decrypted.
    @discardableResult
    func sendProtected(_ header: IKEHeader, _ payloads: [Payload], from: IKEEndpoint? = nil, to: IKEEndpoint? = nil) throws -> [[Payload]] {
        let wire = try XCTUnwrap(ue.protection).protect(header: header, payloads: payloads)
        return try deliverProtected(wire, from: from, to: to)
    }

    func deliverProtected(_ wire: [UInt8], from: IKEEndpoint? = nil, to: IKEEndpoint? = nil) throws -> [[Payload]] {
        let a = deliver(wire, from: from, to: to)
        route(a, fromUE: false)
        return try AttachHarness.sends(a).map { b in try XCTUnwrap(ue.protection).unprotect(raw: b, message: try IKEMessage(parsing: b)) }
    }

    /// A request header of the phone in the established SA with message ID `id`.
    func phoneHeader(_ exchange: ExchangeType, id: UInt32, response: Bool = false) throws -> IKEHeader {
        let sa = try XCTUnwrap(epdg.allSAs.first)
        return IKEHeader(spiI: sa.spiI, spiR: sa.spiR, exchangeType: exchange, isInitiator: true, isResponse: response, messageID: id)
    }

    /// Runs IKE_SA_INIT with our phone, then sends its first IKE_AUTH changed by `edit`; the
    /// answer is queued for the phone (`run(start: false)` continues) and returned decrypted.
    func firstAuth(_ edit: (inout [Payload]) -> Void) throws -> [Payload] {
        let f = try firstAuthOfPhone()
        var p = f.payloads
        edit(&p)
        return try sendProtected(f.header, p, from: f.from, to: f.to).first ?? []
    }

    /// The EAP packet inside a decrypted payload list.
    static func eap(_ payloads: [Payload]) -> EAPPacket? { payloads.eap.flatMap { try? EAPPacket(parsing: $0) } }
}

/// A pool that gives a requested IPv4 address unless it is in `taken`.
final class RequestingPool: InnerAddressPool {
    var taken: Set<IPAddress> = []
    var next: UInt8 = 2
    func allocate(imsi: String, apn: String, wantIPv4: Bool, wantIPv6: Bool) throws -> InnerAddresses {
        try allocate(imsi: imsi, apn: apn, wantIPv4: wantIPv4, wantIPv6: wantIPv6, requestedIPv4: nil)
    }
    func allocate(imsi: String, apn: String, wantIPv4: Bool, wantIPv6: Bool, requestedIPv4: IPAddress?) throws -> InnerAddresses {
        var v4 = IPAddress(v4: 198, 51, 100, next)
        if let r = requestedIPv4, !taken.contains(r) { v4 = r } else { next += 1 }
        taken.insert(v4)
        return InnerAddresses(ipv4: wantIPv4 ? v4 : nil, ipv6: nil)
    }
    func release(_ addresses: InnerAddresses, imsi: String, apn: String) {}
}

extension Array where Element == Payload {
    /// Replaces every payload of `type` by `new` (at the first one's place), or appends `new`.
    mutating func replace(_ type: PayloadType, with new: [Payload]) {
        let at = firstIndex { $0.type == type } ?? endIndex
        removeAll { $0.type == type }
        insert(contentsOf: new, at: Swift.min(at, endIndex))
    }
}
